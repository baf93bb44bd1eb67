"""The docs site builds with --strict (a broken link, anchor or included table fails), and the
README stays a short front page whose links lead into the site."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MKDOCS = Path(sys.executable).with_name("mkdocs")


@pytest.mark.skipif(not MKDOCS.exists(), reason="mkdocs is not installed: pip install -e '.[docs]'")
def test_docs_build_strict(tmp_path):
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        env={
            "PATH": str(MKDOCS.parent),
            "NO_MKDOCS_2_WARNING": "1",
            "HOME": str(tmp_path),
            "SHAREBENCH_DATA": str(tmp_path),
        },
    )
    assert done.returncode == 0, done.stderr[-4000:]
    site = tmp_path / "site"
    # the reference is generated from conf/: one page per config group, each option a section
    for group in (REPO / "conf").iterdir():
        if group.is_dir() and group.name != "hydra" and any(group.glob("*.yaml")):
            html = (site / "reference" / group.name / "index.html").read_text()
            for option in group.glob("*.yaml"):
                assert f"{group.name}={option.stem}" in html, (group.name, option.stem)
    # a command example marked in a page was run at build time, not left as a marker
    html = (site / "guide" / "run" / "index.html").read_text()
    assert "output:" not in html and "unknown optim" in html


def test_readme_is_a_short_front_page():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    links = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", text)
    assert links, "the README links into the docs"
    for link in links:
        assert (REPO / link).exists(), link

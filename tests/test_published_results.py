"""The results pages cannot drift: docs/results/ is exactly what `sharebench report --page` writes
from the records committed in results/published/ (scripts/publish_results.py), and those records are
small and name their machine. Also `report --page` itself on hand-made runs: relative figure links,
the machine line, and the same text wherever it is written."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers.runs import make_run

from sharebench.cli import main
from sharebench.compare.run_index import INDEX_NAME

REPO = Path(__file__).resolve().parents[1]
PUBLISHED = REPO / "results" / "published"
DOCS = REPO / "docs" / "results"
RECORD_FILES = {
    "summary.json",
    "metrics.csv",
    "config.yaml",
    "overrides.yaml",
    "multirun.yaml",
    "until_decided.json",
    "until_decided.csv",
    "page.yaml",  # the title and question, written by hand
}
FIGURE = re.compile(r"!\[[^\]]*\]\(([^)]+\.png)\)")


def _experiments() -> list[str]:
    return sorted(d.name for d in PUBLISHED.iterdir() if d.is_dir()) if PUBLISHED.is_dir() else []


@pytest.mark.slow
def test_every_results_page_is_what_its_records_give(tmp_path):
    out, readme = tmp_path / "results", tmp_path / "README.md"
    shutil.copy(REPO / "README.md", readme)
    done = subprocess.run(
        [sys.executable, "scripts/publish_results.py", "--docs", str(out), "--readme", str(readme)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert readme.read_text() == (REPO / "README.md").read_text(), (
        "the README's headline differs from what its records give: run `python scripts/publish_results.py`"
    )
    made = sorted(p.name for p in out.glob("*.md"))
    committed = sorted(p.name for p in DOCS.glob("*.md"))
    assert made == committed == sorted(["index.md", *(f"{n}.md" for n in _experiments())])
    for name in made:
        assert (DOCS / name).read_text() == (out / name).read_text(), (
            f"docs/results/{name} differs from what its records give: run `python scripts/publish_results.py`"
        )
        for figure in FIGURE.findall((out / name).read_text()):
            assert (out / figure).is_file() and (DOCS / figure).is_file(), f"{name} links {figure}, not committed"
    assert str(REPO) not in "".join(p.read_text() for p in out.glob("*.md")), "a page names a path of this machine"


@pytest.mark.parametrize("name", _experiments())
def test_published_records_are_small_and_name_their_machine(name):
    files = [p for p in (PUBLISHED / name).rglob("*") if p.is_file() and p.name != INDEX_NAME]  # a local cache
    assert {p.name for p in files} <= RECORD_FILES, "records only: no checkpoints, weights or curves"
    assert sum(p.stat().st_size for p in files) < 1_500_000
    summaries = [json.loads(p.read_text()) for p in files if p.name == "summary.json"]
    assert summaries and all(s["status"] == "completed" for s in summaries)
    for s in summaries:
        assert s["cpu_model"] and s["cpu_count"] >= 1 and s["threads"] >= 1
    seeds = {s["seed"] for s in summaries}
    assert len(seeds) >= 3, "intervals over seeds need 3 seeds"


def _runs(root: Path) -> Path:
    for seed, (a, b) in enumerate([(0.80, 0.75), (0.82, 0.78), (0.84, 0.76)]):
        machine = {"cpu_model": "Some CPU 9000", "cpu_count": 2, "threads": 1}
        make_run(root, f"s{seed}", "shared_cnn", seed, a, summary=machine)
        make_run(root, f"l{seed}", "local_cnn", seed, b, summary=machine)
    (root / "multirun.yaml").write_text(
        yaml.safe_dump(
            {"hydra": {"overrides": {"task": ["model=shared_cnn,local_cnn", "seed=0,1,2", "hydra.sweep.dir=/x"]}}}
        )
    )
    return root


def test_report_page_links_figures_beside_it_and_names_the_machine(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _runs(tmp_path / "records")
    texts = []
    for where in ("a/docs", "b/elsewhere/docs"):
        assert main(["report", "records", "--page", f"{where}/twins.md"]) == 0
        text = (tmp_path / where / "twins.md").read_text()
        for figure in FIGURE.findall(text):
            assert figure.startswith("twins/") and (tmp_path / where / figure).is_file()
        texts.append(text)
    assert texts[0] == texts[1], "a page does not depend on where it is written"
    text = texts[0]
    assert (
        text.startswith("# twins\n")
        and "Machine (from `summary.json`): Some CPU 9000, 2 cores; 1 thread per run." in text
    )
    assert "- command: `sharebench run -m model=shared_cnn,local_cnn seed=0,1,2`" in text  # hydra.* dropped
    assert "`records/s0`" in text and str(tmp_path) not in text
    assert not (tmp_path / "a" / "docs" / "twins" / "runs.csv").exists()  # it names absolute run dirs


def test_report_page_refuses_out_and_a_page_that_is_not_markdown(tmp_path, capsys):
    _runs(tmp_path / "records")
    assert main(["report", str(tmp_path / "records"), "--page", str(tmp_path / "p.md"), "--out", str(tmp_path)]) == 2
    assert main(["report", str(tmp_path / "records"), "--page", str(tmp_path / "p.html")]) == 2
    err = capsys.readouterr().err
    assert "--page and --out" in err and "a page is a Markdown file" in err
    assert not (tmp_path / "p").exists() and not (tmp_path / "p.md").exists()


def test_every_run_records_the_cpu_model_and_its_cores():
    import os
    import platform

    from sharebench.records.provenance import environment

    record = environment()
    assert record["cpu_count"] == os.cpu_count()
    cpuinfo = Path("/proc/cpuinfo")
    names = (
        [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        if cpuinfo.exists()
        else []
    )
    assert record["cpu_model"] == (names[0] if names else platform.processor() or None)

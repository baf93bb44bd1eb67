"""The files a researcher looks for beside the code: how to cite it (CITATION.cff, valid Citation File
Format 1.2.0 that agrees with pyproject.toml), its license (MIT, as pyproject says) and a changelog in
the Keep a Changelog format, with an Unreleased section."""

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def pyproject(field: str) -> str:
    """A top-level [project] string (tomllib is Python 3.11+; this project supports 3.10)."""
    text = (REPO / "pyproject.toml").read_text()
    project = text.split("[project]", 1)[1].split("\n[", 1)[0]
    m = re.search(rf'^{field} = (?:\{{ text = )?"([^"]+)"', project, re.MULTILINE)
    return m[1]


def test_citation_cff_is_valid_and_agrees_with_pyproject():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    # the keys CFF 1.2.0 requires, with the types its schema asks for
    assert cff["cff-version"] == "1.2.0"
    assert isinstance(cff["message"], str) and cff["message"].strip()
    assert isinstance(cff["title"], str) and cff["title"].strip()
    assert isinstance(cff["authors"], list) and cff["authors"]
    for author in cff["authors"]:  # a person has family-names (or a name), an entity a name
        assert author.get("family-names") or author.get("name"), author
    assert cff.get("type", "software") in ("software", "dataset")
    assert str(cff["version"]) == pyproject("version")
    assert cff["license"] == pyproject("license")
    assert re.match(r"https://", cff["repository-code"])


def test_license_is_mit_for_sharebench_contributors():
    text = (REPO / "LICENSE").read_text()
    assert pyproject("license") == "MIT" and text.startswith("MIT License")
    assert re.search(r"^Copyright \(c\) \d{4} sharebench contributors$", text, re.MULTILINE)
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_changelog_keeps_a_changelog():
    text = (REPO / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog") and "https://keepachangelog.com/" in text
    versions = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert versions[0] == "[Unreleased]", versions
    unreleased = text.split("## [Unreleased]", 1)[1].split("\n## ", 1)[0]
    kinds = re.findall(r"^### (.+)$", unreleased, re.MULTILINE)
    assert kinds and set(kinds) <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}, kinds
    assert all(re.search(r"^- ", part, re.MULTILINE) for part in unreleased.split("### ")[1:])  # none empty

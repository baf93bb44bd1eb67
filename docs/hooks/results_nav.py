"""MkDocs hook: the Results section of the navigation lists every page in docs/results/, found on
disk (scripts/publish_results.py writes one per published experiment), never a list kept by hand,
each under its title (the page's first heading), not its file name."""

from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"


def title(page: Path) -> str:
    """The first `# ` heading of a page (its file name when it has none)."""
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return page.stem


def on_config(config):
    pages = sorted(p for p in RESULTS.glob("*.md") if p.name != "index.md")
    for i, item in enumerate(config["nav"] or []):
        if isinstance(item, dict) and item.get("Results") == "results/index.md":
            config["nav"][i] = {"Results": ["results/index.md", *({title(p): f"results/{p.name}"} for p in pages)]}
    return config

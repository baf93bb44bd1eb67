"""MkDocs hook: the Results section of the navigation lists every page in docs/results/, found on
disk (scripts/publish_results.py writes one per published experiment), never a list kept by hand."""

from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"


def on_config(config):
    pages = sorted(p.name for p in RESULTS.glob("*.md") if p.name != "index.md")
    for i, item in enumerate(config["nav"] or []):
        if isinstance(item, dict) and item.get("Results") == "results/index.md":
            config["nav"][i] = {"Results": ["results/index.md", *(f"results/{p}" for p in pages)]}
    return config

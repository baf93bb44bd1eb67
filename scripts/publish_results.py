"""The results pages of the docs, made from the records committed in results/published/.

    python scripts/publish_results.py                   # every page: docs/results/<name>.md + index.md
    python scripts/publish_results.py --run NAME        # re-run NAME's recorded command, copy its records in
    python scripts/publish_results.py --run NAME -- experiment=x seed=0,1,2   # a new one, or other overrides
    python scripts/publish_results.py --copy SWEEP_DIR --name NAME          # publish a sweep already run

results/published/<name>/ holds, for each run of one sweep, only its small records (summary.json,
metrics.csv, .hydra/config.yaml and overrides.yaml) and the sweep's multirun.yaml (the command):
no checkpoints, weights or curves. Each page is exactly what `sharebench report --page` writes from
those records, so a page is refreshed by re-running its experiment and committing the records, never
by editing it; tests/test_published_results.py fails when a committed page differs from its records.
The experiments are the folders of results/published/, not a list kept here.
"""

import argparse
import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PUBLISHED = Path("results/published")  # relative to REPO: pages name their records by this path
DOCS = Path("docs/results")
KEEP = ("summary.json", "metrics.csv", ".hydra/config.yaml", ".hydra/overrides.yaml")
SWEEP_FILES = ("multirun.yaml", "until_decided.json", "until_decided.csv")
PAGE_FILE = "page.yaml"  # written by hand: the page's title and the question its experiment asks
INDEX_HEAD = """# Results

What each published experiment asks, and what its records answer: the first finding of its page,
made from its verdicts and intervals (never typed). Each page opens with its question and findings,
then the command, machine, seeds, steps and CPU time.

| experiment | question | answer | runs |
|---|---|---|---|
"""
INDEX_TAIL = """
## How these pages are made

Every page here is written by `sharebench report --page` from the records of one experiment that are
committed in `results/published/<name>/` (for each run: `summary.json`, `metrics.csv` and its Hydra
config; the sweep's `multirun.yaml` and, for a seeds-until-decided sweep, its design and outcome; no
weights) and its `page.yaml` (title and question). Its numbers are never typed: a test
(`tests/test_published_results.py`) makes every page again from the records and fails when a
committed page differs.

- **Regenerate every page** (after a change to `sharebench report`): `python scripts/publish_results.py`
- **Refresh a result**: `python scripts/publish_results.py --run <name>` re-runs the command recorded in
  `results/published/<name>/multirun.yaml`, replaces the records with the new run's and rewrites the
  pages; commit `results/published/<name>/` and `docs/results/` together.
- **Publish a new experiment**: `python scripts/publish_results.py --run <name> -- <overrides>` (e.g.
  `experiment=sharing_mnist1d hydra/sweeper=until_decided 'seed=range(0,10)'`), or
  `--copy <sweep dir> --name <name>` for a sweep already run; then write its `page.yaml`.
"""


def page_findings(page: str) -> list[str]:
    """The bullets under a page's "## Findings"."""
    if "## Findings" not in page:
        return []
    block = page.split("## Findings", 1)[1].split("\n## ", 1)[0]
    return [line[2:] for line in block.splitlines() if line.startswith("- ")]


def published() -> list[str]:
    """The published experiments: every folder of results/published/ with a run in it."""
    root = REPO / PUBLISHED
    return (
        sorted(d.name for d in root.iterdir() if d.is_dir() and any(d.rglob("summary.json"))) if root.is_dir() else []
    )


def copy_records(sweep: Path, name: str) -> Path:
    """Replace results/published/<name>/ by the small records of the runs under `sweep` (staged
    first, so a failure leaves the old records as they were)."""
    runs = sorted({p.parent for p in sweep.rglob("summary.json")})
    if not runs:
        sys.exit(f"publish_results: error: no runs (summary.json) under {sweep}: give a sweep dir")
    dest = REPO / PUBLISHED / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=dest.parent))
    for run in runs:
        for rel in KEEP:
            if (run / rel).exists():
                (stage / run.relative_to(sweep) / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(run / rel, stage / run.relative_to(sweep) / rel)
    for name_ in SWEEP_FILES:  # the command, and a seeds-until-decided sweep's design and outcome
        if (sweep / name_).exists():
            shutil.copy2(sweep / name_, stage / name_)
    if (dest / PAGE_FILE).exists():  # the page's title and question are ours, not the run's: kept
        shutil.copy2(dest / PAGE_FILE, stage / PAGE_FILE)
    if dest.exists():
        shutil.rmtree(dest)
    stage.rename(dest)
    return dest


def recorded_overrides(name: str) -> list[str]:
    from sharebench.compare.report import sweep_command

    command = sweep_command(REPO / PUBLISHED / name)
    if not command:
        sys.exit(
            f"publish_results: error: {PUBLISHED / name}/multirun.yaml records no command: give the overrides after --"
        )
    return shlex.split(command.removeprefix("sharebench run -m "))


def run_experiment(name: str, overrides: list[str]) -> Path:
    """`sharebench run -m OVERRIDES` into results/publish/<name>/ (ignored by git); then its records."""
    sweep = REPO / "results" / "publish" / name
    if sweep.exists():
        shutil.rmtree(sweep)
    command = [sys.executable, "-m", "sharebench.cli", "run", "-m", *overrides, f"hydra.sweep.dir={sweep}"]
    print("publish_results: sharebench run -m", " ".join(command[5:]), flush=True)
    code = subprocess.call(command, cwd=REPO)
    if code != 0:
        sys.exit(f"publish_results: error: the sweep ended with exit code {code}; records left as they were")
    return copy_records(sweep, name)


def page_about(name: str) -> list[str]:
    """`report --page` options from the experiment's page.yaml (title, question) and its protocol."""
    import yaml

    path = REPO / PUBLISHED / name / PAGE_FILE
    about = yaml.safe_load(path.read_text()) if path.exists() else {}
    out = [f"--{key}={about[key]}" for key in ("title", "question") if about.get(key)]
    steps = protocol_steps(name)
    return out + ([f"--protocol-steps={steps}"] if steps else [])


def protocol_steps(name: str) -> int | None:
    """The steps one run of the experiment's protocol takes: its recorded command composed without
    the overrides that cut a run short (trainer.max_steps, trainer.epochs), as its preset says."""
    import json
    import math

    from sharebench.compare.report import sweep_command
    from sharebench.configs import compose, expand_sweep
    from sharebench.schemes import current_overrides

    command = sweep_command(REPO / PUBLISHED / name)
    if not command:
        return None
    cut = ("trainer.max_steps", "trainer.epochs", "trainer.eval_every")
    typed = current_overrides(shlex.split(command.removeprefix("sharebench run -m ")))  # model.tile=…: as published
    overrides = [o for o in typed if not o.startswith(cut)]
    first = [o for o in expand_sweep(overrides, multirun=True, limit=1)[0] if not o.startswith("hydra")]
    trainer = compose(first).trainer
    if trainer.max_steps:
        return int(trainer.max_steps)
    summary = json.loads(next((REPO / PUBLISHED / name).rglob("summary.json")).read_text())
    return int(trainer.epochs * math.ceil(summary["train_size"] / trainer.batch_size))


def write_pages(docs: Path) -> list[Path]:
    """docs/<name>.md with its figures in docs/<name>/ for every published experiment, and index.md."""
    from sharebench.cli import main
    from sharebench.compare.runs import compare

    os.chdir(REPO)  # the pages name their records by paths relative to the repository
    docs.mkdir(parents=True, exist_ok=True)
    rows, pages = [], []
    for name in published():
        records = str(PUBLISHED / name)
        if (docs / name).exists():
            shutil.rmtree(docs / name)  # figures a new report no longer makes go too
        about = page_about(name)
        with contextlib.redirect_stdout(io.StringIO()):  # the terminal table: not wanted here
            code = main(["report", records, "--page", str(docs / f"{name}.md"), *about])
        if code != 0:
            sys.exit(f"publish_results: error: sharebench report {records} failed (exit code {code})")
        cmp = compare([records])
        page = (docs / f"{name}.md").read_text()
        title = page.splitlines()[0].removeprefix("# ")
        question = next(
            (line.removeprefix("**Question:** ") for line in page.splitlines() if line.startswith("**Question:**")), "—"
        )
        answer = (page_findings(page) or ["—"])[0]
        cells = [f"[{title}]({name}.md)", question, answer, f"{len(cmp.runs)} in {len(cmp.groups)} groups"]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        pages.append(docs / f"{name}.md")
    (docs / "index.md").write_text(INDEX_HEAD + "\n".join(rows) + "\n" + INDEX_TAIL)
    return [docs / "index.md", *pages]


HEADLINE = "sharing_mnist1d"  # the experiment whose table and figure the README shows
README_REGION = re.compile(r"(<!-- headline: begin[^>]*-->\n).*?(<!-- headline: end -->)", re.S)


def headline(page: str, name: str) -> str:
    """The README's headline, cut from experiment `name`'s page: its comparison and paired tables,
    the machine line and the accuracy-vs-parameters figure, with links into docs/results/."""

    def table_after(marker: str) -> str:
        rest = page[page.index(marker) :]
        start = rest.index("\n|") + 1
        end = rest.find("\n\n", start)
        return rest[start : end if end != -1 else None]

    machine = next(line for line in page.splitlines() if line.startswith("Machine"))
    command = next(line for line in page.splitlines() if line.startswith("- command:"))
    figure = next(line for line in page.splitlines() if line.startswith("![") and "_vs_params" in line)
    figure = re.sub(r"\]\(", "](docs/results/", figure, count=1)
    pairs = page[page.index("### Paired by seed") :].split("\n\n")[1]  # the page's caption of the pairs
    groups = page[page.index("### Groups") :].split("\n\n")[1]
    return "\n".join(
        [
            *(f"- {line}" for line in page_findings(page)),
            "",
            f"The twins on MNIST-1D ({command[2:]}). {machine} From [its results page](docs/results/{name}.md):",
            "",
            pairs,
            "",
            table_after("### Paired by seed"),
            "",
            groups,
            "",
            table_after("### Groups"),
            "",
            figure,
            "",
        ]
    )


def write_readme(readme: Path, docs: Path) -> Path:
    """Put the headline of HEADLINE's page between the README's headline markers."""
    text = readme.read_text()
    block = headline((docs / f"{HEADLINE}.md").read_text(), HEADLINE)
    readme.write_text(README_REGION.sub(lambda m: m.group(1) + block + m.group(2), text))
    return readme


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--run", metavar="NAME", help="run NAME's recorded command (or the overrides after --), publish it"
    )
    parser.add_argument("--copy", metavar="SWEEP_DIR", help="publish a sweep already run (with --name)")
    parser.add_argument("--name", help="the published name for --copy")
    parser.add_argument("--docs", type=Path, default=REPO / DOCS, help="where the pages go (default docs/results)")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md", help="where the headline goes")
    parser.add_argument("overrides", nargs="*", help="after --: the overrides of `sharebench run -m` for --run")
    args = parser.parse_args(argv)
    if args.copy:
        if not args.name:
            parser.error("--copy needs --name NAME")
        copy_records(Path(args.copy).resolve(), args.name)
    elif args.run:
        run_experiment(args.run, args.overrides or recorded_overrides(args.run))
    elif args.overrides:
        parser.error("overrides go with --run NAME")
    for path in [*write_pages(args.docs.resolve()), write_readme(args.readme.resolve(), args.docs.resolve())]:
        print(f"publish_results: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

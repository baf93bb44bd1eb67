"""What `sharebench plot` writes: comparison.csv, runs.csv, paired.csv (when there are pairs) and the
figures, from run dirs on disk. No torch, no Hydra.
"""

from pathlib import Path

from sharebench.compare.figures import plot_comparison
from sharebench.compare.page_head import shortened
from sharebench.compare.paired import paired_table
from sharebench.compare.runs import compare
from sharebench.compare.sequential import load_design
from sharebench.compare.statistics import comparison_table, runs_table
from sharebench.compare.tables import headline_key
from sharebench.errors import UserError
from sharebench.records.atomic import write_atomic

FORMATS = ("png", "svg", "pdf")


def default_out(paths: list[str]) -> Path:
    """Beside the runs: DIR/comparison for one DIR, ./comparison for several."""
    return Path(paths[0]) / "comparison" if len(paths) == 1 else Path("comparison")


def write_comparison(
    paths: list[str],
    out: str | Path | None = None,
    by: list[str] | None = None,
    metric: str = "test_acc",
    formats: tuple[str, ...] = ("png",),
    baseline: str | None = None,
    run_list: bool = True,
    delta: float | None = None,
    protocol_steps: int | None = None,
):
    """Read the runs, write comparison.csv, runs.csv (unless not run_list: it names each run's
    absolute dir), paired.csv (when there are pairs) and the figures; returns (comparison, table,
    paired table, files). A sweep run until decided (its design beside it) keeps its sweeper's
    verdicts: the same looks are replayed on the records, with the design's δ unless `delta` is given.
    Runs that stopped short of `protocol_steps` say "shortened" atop every figure."""
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise UserError(f"unknown figure format {bad[0]!r}: choose from {', '.join(FORMATS)} (e.g. --format png svg)")
    cmp = compare(paths, by=by, metric=metric, index=True)
    known = {k for r in cmp.runs for k in r.summary} | {c for r in cmp.runs for c in r.metric_columns or ()}
    if metric not in known and f"final_{metric}" not in known:
        options = sorted(k[len("final_") :] for k in known if k.startswith("final_"))
        raise UserError(f"--metric {metric}: no run recorded it; choose one of {', '.join(options) or 'test_acc'}")
    design = load_design(Path(paths[0])) if len(paths) == 1 else None
    paired = paired_table(cmp, headline_key(cmp), baseline, delta=delta, design=design)
    out_dir = Path(out) if out else default_out(paths)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = comparison_table(cmp)
    files = [out_dir / "comparison.csv"]
    write_atomic(files[0], table.to_csv(index=False, lineterminator="\n"))
    if run_list:
        files.append(out_dir / "runs.csv")
        write_atomic(files[1], runs_table(cmp).to_csv(index=False, lineterminator="\n"))
    if len(paired):
        files.append(out_dir / "paired.csv")
        write_atomic(files[-1], paired.to_csv(index=False, lineterminator="\n"))
    figures = plot_comparison(cmp, out_dir, list(formats), paired, note=shortened(cmp, protocol_steps))
    return cmp, table, paired, [*files, *figures]

"""`sharebench plot`: comparison.csv, runs.csv, the figures and the terminal table, from run dirs on
disk. No torch, no Hydra.
"""
from collections import Counter
from pathlib import Path

from sharebench.compare.figures import metric_label, plot_comparison
from sharebench.compare.runs import Comparison, compare
from sharebench.compare.statistics import comparison_table, number, runs_table
from sharebench.errors import UserError
from sharebench.records.atomic import write_atomic

FORMATS = ("png", "svg", "pdf")


def default_out(paths: list[str]) -> Path:
    """Beside the runs: DIR/comparison for one DIR, ./comparison for several."""
    return Path(paths[0]) / "comparison" if len(paths) == 1 else Path("comparison")


def write_comparison(paths: list[str], out: str | Path | None = None, by: list[str] | None = None,
                     metric: str = "test_acc", formats: tuple[str, ...] = ("png",)):
    """Read the runs, write comparison.csv, runs.csv and the figures; returns (comparison, table, files)."""
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise UserError(f"unknown figure format {bad[0]!r}: choose from {', '.join(FORMATS)} (e.g. --format png svg)")
    cmp = compare(paths, by=by, metric=metric)
    known = {k for r in cmp.runs for k in r.summary} | {c for r in cmp.runs if r.metrics is not None for c in r.metrics}
    if metric not in known and f"final_{metric}" not in known:
        options = sorted(k[len("final_"):] for k in known if k.startswith("final_"))
        raise UserError(f"--metric {metric}: no run recorded it; choose one of {', '.join(options) or 'test_acc'}")
    out_dir = Path(out) if out else default_out(paths)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = comparison_table(cmp)
    write_atomic(out_dir / "comparison.csv", table.to_csv(index=False, lineterminator="\n"))
    write_atomic(out_dir / "runs.csv", runs_table(cmp).to_csv(index=False, lineterminator="\n"))
    figures = plot_comparison(cmp, out_dir, list(formats))
    return cmp, table, [out_dir / "comparison.csv", out_dir / "runs.csv", *figures]


def format_number(value, percent=False, digits=4) -> str:
    v = number(value)
    if v is None:
        return "—"
    if percent:
        return f"{100 * v:.2f}"
    if abs(v) >= 1000 and v == int(v):
        return f"{int(v):,}"
    return f"{v:.{digits}g}"


def headline_key(cmp: Comparison) -> str:
    return f"final_{cmp.metric}" if any(f"final_{cmp.metric}" in r.summary for r in cmp.runs) else cmp.metric


def table_rows(cmp: Comparison, table) -> tuple[list[str], list[list[str]]]:
    """The comparison as text cells: one row per group."""
    key, percent = headline_key(cmp), cmp.metric.endswith("acc")
    head = ["group", "n", f"{metric_label(cmp.metric)} mean ± std", "min – max", "unique params"]
    effective = "params_effective_mean" in table
    if effective:
        head.append("effective params")
    head += ["train s", "other runs"]
    rows = []
    for _, row in table.iterrows():
        done = row["n"] > 0
        mean = format_number(row.get(f"{key}_mean"), percent)
        spread = f" ± {format_number(row.get(f'{key}_std'), percent)}" if row["n"] > 1 else ""  # one run has no spread
        cells = [row["group"], str(row["n"]), mean + spread if done else "—",
                 f"{format_number(row.get(f'{key}_min'), percent)} – {format_number(row.get(f'{key}_max'), percent)}" if done else "—",
                 format_number(row.get("params_total_mean"))]
        if effective:
            cells.append(format_number(row.get("params_effective_mean")))
        cells += [format_number(row.get("train_seconds_mean"), digits=3), row["other_runs"] or "—"]
        rows.append(cells)
    return head, rows


def terminal_table(cmp: Comparison, table) -> str:
    head, rows = table_rows(cmp, table)
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    statuses = status_counts(cmp)
    title = f"── sharebench comparison: {len(cmp.runs)} runs ({statuses}) in {len(cmp.groups)} groups"
    by = f"by {', '.join(cmp.keys)}" if cmp.keys else "nothing differs but the seed"
    return "\n".join([f"{title}, {by} ──", line(head), *(line(r) for r in rows)])


def status_counts(cmp: Comparison) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(Counter(r.status for r in cmp.runs).items()))

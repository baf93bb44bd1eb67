"""`sharebench plot`: comparison.csv, runs.csv, paired.csv, the figures and the terminal table (80
columns), from run dirs on disk. No torch, no Hydra.
"""

import textwrap
from collections import Counter
from pathlib import Path

from sharebench.compare.figures import metric_label, plot_comparison
from sharebench.compare.paired import paired_table
from sharebench.compare.runs import Comparison, compare
from sharebench.compare.statistics import NO_INTERVAL, comparison_table, number, runs_table
from sharebench.errors import UserError
from sharebench.records.atomic import write_atomic

FORMATS = ("png", "svg", "pdf")
WIDTH = 80  # the terminal table fits a standard terminal


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
):
    """Read the runs, write comparison.csv, runs.csv (unless not run_list: it names each run's
    absolute dir), paired.csv (when there are pairs) and the figures; returns (comparison, table,
    paired table, files)."""
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise UserError(f"unknown figure format {bad[0]!r}: choose from {', '.join(FORMATS)} (e.g. --format png svg)")
    cmp = compare(paths, by=by, metric=metric)
    known = {k for r in cmp.runs for k in r.summary} | {c for r in cmp.runs if r.metrics is not None for c in r.metrics}
    if metric not in known and f"final_{metric}" not in known:
        options = sorted(k[len("final_") :] for k in known if k.startswith("final_"))
        raise UserError(f"--metric {metric}: no run recorded it; choose one of {', '.join(options) or 'test_acc'}")
    paired = paired_table(cmp, headline_key(cmp), baseline)
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
    figures = plot_comparison(cmp, out_dir, list(formats), paired)
    return cmp, table, paired, [*files, *figures]


def format_number(value, percent=False, digits=4, sign=False) -> str:
    """Text of one number: 73.07 (percent), 33,170 (counts, never 3.317e+04), 0.4913; — when missing."""
    v = number(value)
    if v is None:
        return "—"
    plus = "+" if sign else ""
    if percent:
        return f"{100 * v:{plus}.2f}"
    if abs(v) >= 1000:
        return f"{v:{plus},.0f}"
    return f"{v:{plus}.{digits}g}"


def format_interval(low, high, percent=False, sign=False) -> str:
    if number(low) is None or number(high) is None:
        return NO_INTERVAL
    return f"[{format_number(low, percent, sign=sign)}, {format_number(high, percent, sign=sign)}]"


def headline_key(cmp: Comparison) -> str:
    return f"final_{cmp.metric}" if any(f"final_{cmp.metric}" in r.summary for r in cmp.runs) else cmp.metric


def table_rows(cmp: Comparison, table) -> tuple[list[str], list[list[str]]]:
    """The comparison as text cells, every column (the report's table): one row per group."""
    key, percent = headline_key(cmp), cmp.metric.endswith("acc")
    head = ["group", "n", f"{metric_label(cmp.metric)} mean", "95% CI", "std", "min – max", "unique params"]
    effective = "params_effective_mean" in table
    head += ["effective params"] * effective + ["train s", "other runs"]
    rows = []
    for _, row in table.iterrows():
        done = row["n"] > 0
        cells = [
            row["group"],
            str(row["n"]),
            format_number(row.get(f"{key}_mean"), percent) if done else "—",
            format_interval(row.get(f"{key}_ci_low"), row.get(f"{key}_ci_high"), percent) if done else "—",
            format_number(row.get(f"{key}_std"), percent) if row["n"] > 1 else "—",
            f"{format_number(row.get(f'{key}_min'), percent)} – {format_number(row.get(f'{key}_max'), percent)}"
            if done
            else "—",
            format_number(row.get("params_total_mean")),
        ]
        cells += [format_number(row.get("params_effective_mean"))] * effective
        cells += [format_number(row.get("train_seconds_mean"), digits=3), row["other_runs"] or "—"]
        rows.append(cells)
    return head, rows


def paired_rows(cmp: Comparison, paired) -> tuple[list[str], list[list[str]]]:
    """A − B per pair: paired seeds, mean difference, its 95% interval, P(A better)."""
    percent = cmp.metric.endswith("acc")
    head = ["A − B", "n", "mean diff", "95% CI", "P(A better)"]
    rows = [
        [
            f"{r['a']} − {r['b']}",
            str(r["n"]),
            format_number(r["mean_diff"], percent, sign=True),
            format_interval(r["ci_low"], r["ci_high"], percent, sign=True),
            "—" if number(r["prob_improvement"]) is None else f"{r['prob_improvement']:.2f}",
        ]
        for _, r in paired.iterrows()
    ]
    return head, rows


def paired_caption(cmp: Comparison, paired, long=False) -> str:
    unit = (" (percentage points)" if long else " (points)") if cmp.metric.endswith("acc") else ""
    better = paired["better"].iloc[0] if len(paired) else "higher"
    tail = f": share of seeds where A is {better} (ties count half)" if long else " over seeds"
    return f"paired by seed: A − B, final {metric_label(cmp.metric).split(' (')[0]}{unit}; P(A better){tail}"


def _terminal_rows(cmp: Comparison, table) -> tuple[list[str], list[list[str]]]:
    """The columns that fit a terminal: the report's, less std and min – max (both in comparison.csv)."""
    head, rows = table_rows(cmp, table)
    keep = [i for i, h in enumerate(head) if h not in ("std", "min – max")]
    short = {2: "mean", head.index("unique params"): "params"}
    short.update({head.index(h): "eff. params" for h in head if h == "effective params"})
    short.update({head.index("other runs"): "other"})
    return [short.get(i, head[i]) for i in keep], [[r[i] for i in keep] for r in rows]


def terminal_table(cmp: Comparison, table, paired=None) -> str:
    head, rows = _terminal_rows(cmp, table)
    statuses = status_counts(cmp)
    by = f"by {', '.join(cmp.keys)}" if cmp.keys else "nothing differs but the seed"
    title = f"── sharebench comparison: {len(cmp.runs)} runs ({statuses}) in {len(cmp.groups)} groups,"
    lines = [f"{title} {by} ──"] if len(title) + len(by) + 4 <= WIDTH else [*_wrap(title), *_wrap(f"   {by} ──")]
    lines.append(f"final {metric_label(cmp.metric)} over seeds: mean, 95% bootstrap CI")
    lines += fit_columns(head, rows, drop=("train s", "eff. params"))
    if paired is not None and len(paired):
        lines += ["", *_wrap(paired_caption(cmp, paired)), *fit_columns(*paired_rows(cmp, paired))]
    return "\n".join(lines)


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, subsequent_indent="   ", break_on_hyphens=False)


def fit_columns(head: list[str], rows: list[list[str]], width: int = WIDTH, drop=()) -> list[str]:
    """Left-aligned columns within `width`: optional columns in `drop` go first, then the first
    column wraps onto more lines (never cut: a label is how a reader finds the row in the CSV)."""
    head, rows = list(head), [list(r) for r in rows]
    widths = [max(len(c) for c in col) for col in zip(head, *rows)]
    for name in drop:
        if sum(widths) + 2 * (len(widths) - 1) <= width or name not in head:
            continue
        i = head.index(name)
        for cells in (head, *rows, widths):
            del cells[i]
    rest = sum(widths[1:]) + 2 * (len(widths) - 1)
    widths[0] = min(widths[0], max(width - rest, 12))
    out = []
    for cells in (head, *rows):
        first = textwrap.wrap(cells[0], widths[0], break_on_hyphens=False) or [""]
        out.append("  ".join(c.ljust(w) for c, w in zip([first[0], *cells[1:]], widths)).rstrip())
        out += [line for line in first[1:]]
    return out


def status_counts(cmp: Comparison) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(Counter(r.status for r in cmp.runs).items()))

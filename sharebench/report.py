"""`sharebench plot` and `sharebench report`: comparison.csv, runs.csv, figures, a terminal table and a
self-contained Markdown report, all regenerated from run dirs on disk. No torch, no Hydra.
"""
import os
from pathlib import Path

from sharebench.compare import Comparison, _num, compare, comparison_table, override_dict, runs_table
from sharebench.comparison_plots import metric_label, plot_comparison
from sharebench.errors import UserError
from sharebench.records import write_atomic

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


def _fmt(value, percent=False, digits=4) -> str:
    v = _num(value)
    if v is None:
        return "—"
    if percent:
        return f"{100 * v:.2f}"
    if abs(v) >= 1000 and v == int(v):
        return f"{int(v):,}"
    return f"{v:.{digits}g}"


def _headline_key(cmp: Comparison) -> str:
    return f"final_{cmp.metric}" if any(f"final_{cmp.metric}" in r.summary for r in cmp.runs) else cmp.metric


def table_rows(cmp: Comparison, table) -> tuple[list[str], list[list[str]]]:
    """The comparison as text cells: one row per group."""
    key, percent = _headline_key(cmp), cmp.metric.endswith("acc")
    head = ["group", "n", f"{metric_label(cmp.metric)} mean ± std", "min – max", "unique params"]
    effective = "params_effective_mean" in table
    if effective:
        head.append("effective params")
    head += ["train s", "other runs"]
    rows = []
    for _, row in table.iterrows():
        done = row["n"] > 0
        mean = _fmt(row.get(f"{key}_mean"), percent)
        spread = f" ± {_fmt(row.get(f'{key}_std'), percent)}" if row["n"] > 1 else ""  # one run has no spread
        cells = [row["group"], str(row["n"]), mean + spread if done else "—",
                 f"{_fmt(row.get(f'{key}_min'), percent)} – {_fmt(row.get(f'{key}_max'), percent)}" if done else "—",
                 _fmt(row.get("params_total_mean"))]
        if effective:
            cells.append(_fmt(row.get("params_effective_mean")))
        cells += [_fmt(row.get("train_seconds_mean"), digits=3), row["other_runs"] or "—"]
        rows.append(cells)
    return head, rows


def terminal_table(cmp: Comparison, table) -> str:
    head, rows = table_rows(cmp, table)
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    statuses = _status_counts(cmp)
    title = f"── sharebench comparison: {len(cmp.runs)} runs ({statuses}) in {len(cmp.groups)} groups"
    by = f"by {', '.join(cmp.keys)}" if cmp.keys else "nothing differs but the seed"
    return "\n".join([f"{title}, {by} ──", line(head), *(line(r) for r in rows)])


def _status_counts(cmp: Comparison) -> str:
    counts: dict[str, int] = {}
    for r in cmp.runs:
        counts[r.status] = counts.get(r.status, 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    esc = lambda c: str(c).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(map(esc, head)) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(map(esc, r)) + " |" for r in rows])


def _shared_settings(cmp: Comparison) -> list[str]:
    """Overrides every run shares (seed aside): the part of the configuration that does not differ."""
    sets = [override_dict(r.overrides) for r in cmp.runs if r.overrides]
    if not sets:
        return []
    common = {k: v for k, v in sets[0].items() if all(s.get(k) == v for s in sets[1:])}
    return [f"{k}={v}" for k, v in common.items() if k != "seed" and k not in cmp.keys]


CAPTIONS = {
    "_vs_params": "Final {m} against parameter count (log scale); error bars are ±1 std over seeds.",
    "_by_group": "Final {m} per group: bars are the mean ± std over seeds, dots are single seeds.",
    "curves_loss": "Loss during training, mean over seeds with a ±1 std band; solid test, dashed train.",
    "curves_acc": "Test accuracy during training, mean over seeds with a ±1 std band.",
    "_vs_train_fraction": "Final {m} against the fraction of the training set used.",
    "_vs_shift": "Test accuracy when the test inputs are shifted.",
    "_vs_": "Final {m} against the swept value named on the x axis; error bars are ±1 std over seeds.",
}


def write_report(paths: list[str], cmp: Comparison, table, files: list[Path]) -> Path:
    """report.md beside the files write_comparison made from `paths`."""
    metric = cmp.metric
    out_dir = files[0].parent
    figures = [f for f in files if f.suffix == ".png"] or [f for f in files if f.suffix == ".svg"]
    m = metric_label(metric).split(" (")[0]
    parts = ["# sharebench report", "",
             f"{len(cmp.runs)} runs ({_status_counts(cmp)}) in {len(cmp.groups)} groups, read from "
             + ", ".join(f"`{p}`" for p in paths) + ". Regenerate with `sharebench report "
             + " ".join(map(str, paths)) + "`.", "", "## What was run", ""]
    seeds = sorted({str(r.value("seed")) for r in cmp.runs if r.value("seed") is not None}, key=_seed_order)
    parts.append(f"- differs between groups: {', '.join(f'`{k}`' for k in cmp.keys) or 'nothing (seeds only)'}")
    parts.append(f"- seeds: {', '.join(seeds) or '—'}")
    shared = _shared_settings(cmp)
    if shared:
        parts.append(f"- shared by every run: {' '.join(f'`{s}`' for s in shared)}")
    models = sorted({str(r.summary.get('model')) for r in cmp.runs if r.summary.get('model')})
    datasets = sorted({str(r.summary.get('dataset')) for r in cmp.runs if r.summary.get('dataset')})
    parts += [f"- models: {', '.join(models) or '—'}; datasets: {', '.join(datasets) or '—'}", "",
              "## Comparison", "",
              f"Mean ± std over the completed runs of each group (n); {m} in %" if metric.endswith("acc")
              else f"Mean ± std over the completed runs of each group (n)", "",
              _md_table(*table_rows(cmp, table)), "",
              "Every number: [comparison.csv](comparison.csv); every run: [runs.csv](runs.csv).", "",
              "## Figures", ""]
    for fig in figures:
        caption = next((c for k, c in CAPTIONS.items() if k in fig.stem), fig.stem).format(m=m)
        parts += [f"![{caption}]({fig.name})", "", f"*{caption}*", ""]
    parts += ["## Runs", "", _md_table(*_run_rows(cmp, out_dir)), ""]
    report = out_dir / "report.md"
    write_atomic(report, "\n".join(parts))
    return report


def _seed_order(s: str):
    return (0, int(s)) if s.isdigit() else (1, s)


def _run_rows(cmp: Comparison, out_dir: Path):
    key, percent = _headline_key(cmp), cmp.metric.endswith("acc")
    head = ["group", "seed", "status", metric_label(cmp.metric), "run dir", "note"]
    rows = []
    for run, label in zip(cmp.runs, cmp.labels):
        rel = os.path.relpath(run.dir, out_dir.resolve())
        rows.append([label, str(run.value("seed")), run.status, _fmt(run.summary.get(key), percent),
                     f"[{run.dir.name}]({rel})", run.note or ""])
    return head, rows


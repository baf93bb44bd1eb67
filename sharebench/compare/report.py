"""`sharebench report`: a self-contained Markdown report of the comparison `plot` writes.

No torch, no Hydra.
"""
import os
from pathlib import Path

from sharebench.compare.figures import metric_label
from sharebench.compare.runs import Comparison, override_dict
from sharebench.compare.tables import format_number, headline_key, status_counts, table_rows
from sharebench.records.atomic import write_atomic


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
             f"{len(cmp.runs)} runs ({status_counts(cmp)}) in {len(cmp.groups)} groups, read from "
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
              else "Mean ± std over the completed runs of each group (n)", "",
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
    key, percent = headline_key(cmp), cmp.metric.endswith("acc")
    head = ["group", "seed", "status", metric_label(cmp.metric), "run dir", "note"]
    rows = []
    for run, label in zip(cmp.runs, cmp.labels):
        rel = os.path.relpath(run.dir, out_dir.resolve())
        rows.append([label, str(run.value("seed")), run.status, format_number(run.summary.get(key), percent),
                     f"[{run.dir.name}]({rel})", run.note or ""])
    return head, rows


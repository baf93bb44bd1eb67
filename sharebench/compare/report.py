"""`sharebench report`: a self-contained Markdown report of the comparison `plot` writes: what was
run and what every run shared (settings, data sizes, versions, commit, device), the table with 95%
intervals, the paired comparisons, a paper's numbers beside the measured ones when the runs carry a
`paper:` node, the figures and every run.

The `paper:` node (put in an experiment preset, read from each run's .hydra/config.yaml), its keys,
its unit and how they match groups: paper.py.

`--page PAGE` writes the same report as a page of the docs site (docs/results/<name>.md): figures in
the folder beside it (PAGE without .md) and linked relative to the page, the command read from the
sweep's multirun.yaml, the machine from the records, and nothing that depends on where or when it
was written (no absolute path, no date), so the page re-made from the same records is the same
text. No torch, no Hydra.
"""

import math
import os
import shlex
from pathlib import Path

import yaml

from sharebench.compare.common import machine, other_differences, recorded, shared_settings
from sharebench.compare.figures import metric_label
from sharebench.compare.findings import findings
from sharebench.compare.page_head import PageHead, cpu_hours, shortened, steps_line
from sharebench.compare.paper import paper_node, paper_rows, problem
from sharebench.compare.runs import Comparison, shift_keys
from sharebench.compare.statistics import MIN_N, NO_INTERVAL, group_values, interval, interval_label, spread
from sharebench.compare.tables import (
    format_interval,
    format_number,
    headline_key,
    paired_caption,
    paired_rows,
    status_counts,
    table_rows,
)
from sharebench.compare.units import is_accuracy
from sharebench.records.atomic import write_atomic
from sharebench.records.columns import summary_metric_keys


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    esc = lambda c: str(c).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(map(esc, head)) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(map(esc, r)) + " |" for r in rows])


CAPTIONS = {  # the first key found in a figure's name gives its caption
    "kernel_atlas_start_end": "Kernel atlas, start and end: the first layer's kernels at each position before "
    "training and after it, for the channels named, one colour scale per channel.",
    "kernel_atlas": "Kernel atlas: the first layer's kernel at each output position for the channels named, "
    "their mean over positions and the conv twin's closest kernel, one colour scale per channel.",
    "_vs_params": "Final {m} against parameter count (log scale): filled markers at the unique parameters, hollow "
    "ones at the count the model would have unshared; markers that would sit on one another are set slightly "
    "apart sideways. Error bars are 95% t-intervals of the mean over seeds (n ≥ 2).",
    "_by_group": "Final {m} per group: bars are the mean, whiskers the 95% t-interval (n ≥ 2), dots single seeds.",
    "curves_loss": "Loss during training, mean over seeds with a ±1 std band; thick test, thin train.",
    "curves_acc": "Test accuracy during training, mean over seeds with a ±1 std band.",
    "locality_sharing_map": "Where each group's first layers sit between dense and shared: measured locality "
    "(weight energy inside each position's neighbourhood) against sharing (the share of it one shared kernel "
    "explains), with 95% t-intervals over seeds; colour is final {m}.",
    "_vs_train_fraction": "Final {m} against the fraction of the training set used (log scale where it spans "
    "decades), one line per setting; error bars are 95% t-intervals (n ≥ 2).",
    "_vs_shift": "Test accuracy when the test inputs are shifted by the number of positions on the x axis, one "
    "line per group; error bars are 95% t-intervals (n ≥ 2).",
    "paired_differences": "Paired by seed: A − B per pair, single seeds as dots, the mean with its 95% t-interval; "
    "each row names its verdict.",
    "_vs_": "Final {m} against the swept value named on the x axis (log scale where it spans decades, symlog "
    "where it also holds 0), one line per setting; error bars are 95% t-intervals (n ≥ 2). A setting whose "
    "runs recorded the same results at every value (they do not read it) is one band across the axis: its "
    "mean, and its interval shaded.",
    "spectrum": "The sharing spectrum: final {m} against unique parameters (log scale), the sweep's points "
    "joined in order from shared to unshared and the declared baselines (diamonds) beside the line; error "
    "bars are 95% t-intervals (n ≥ 2).",
    "sharing_diagnostics": "Sharing diagnostics of the unshared layers during training, mean over layers and "
    "seeds, one line per group: left, the weights' signal-to-noise across positions (log scale; high where "
    "the positions' kernels agree, infinite for a convolution); right, the mean distance between "
    "neighbouring positions' kernels. Curves of fewer than 5 evaluations are their points, dotted between.",
}


def sweep_command(path: str | Path) -> str | None:
    """`sharebench run -m …` as the sweep in `path` was started (its multirun.yaml), quoted for a shell:
    its task overrides and the sweeper it chose with its keys, without the hydra.* overrides that only
    say where it wrote; None when `path` is not a sweep dir."""
    try:
        node = yaml.safe_load((Path(path) / "multirun.yaml").read_text()) or {}
        task = node["hydra"]["overrides"]["task"] or []
        hydra = node["hydra"]["overrides"].get("hydra") or []
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError):
        return None
    kept = [str(t) for t in task if not str(t).lstrip("+~").startswith("hydra.")]
    kept += [str(h) for h in hydra if _chooses_the_sweeper(str(h).lstrip("+~"))]
    return " ".join(["sharebench run -m", *map(shlex.quote, kept)])


def _chooses_the_sweeper(override: str) -> bool:
    """hydra/sweeper=… and hydra.sweeper.<key>=… decide which runs a sweep makes; the batch size the
    command line adds for the basic launcher (and where the sweep wrote) do not."""
    return override.startswith("hydra/sweeper=") or (
        override.startswith("hydra.sweeper.") and not override.startswith("hydra.sweeper.max_batch_size")
    )


def _fold(title: str, lines: list[str], fold: bool) -> list[str]:
    """A block a page folds away (pymdownx.details: `??? info`), shown as it is in a plain report."""
    if not fold:
        return ["", f"{title}:", "", *lines]
    return ["", f'??? info "{title}"', "", *(f"    {line}" if line else "" for line in lines)]


def _what_was_run(paths: list[str], cmp: Comparison, head: PageHead | None = None) -> list[str]:
    seeds = sorted({str(r.value("seed")) for r in cmp.runs if r.value("seed") is not None}, key=_seed_order)
    models = sorted({str(r.summary.get("model")) for r in cmp.runs if r.summary.get("model")})
    datasets = sorted({str(r.summary.get("dataset")) for r in cmp.runs if r.summary.get("dataset")})
    commands = [c for c in map(sweep_command, paths) if c]
    parts = [
        "## What was run",
        "",
        *(f"- command: `{c}`" for c in commands),
        f"- differs between groups: {', '.join(f'`{k}`' for k in cmp.keys) or 'nothing (seeds only)'}",
        f"- seeds: {', '.join(seeds) or '—'}",
        f"- models: {', '.join(models) or '—'}; datasets: {', '.join(datasets) or '—'}",
        steps_line(cmp, head.protocol_steps if head else None),
        cpu_hours(cmp),
    ]
    also = other_differences(cmp)
    if also:
        parts.append(
            "- also differs (comes with the groups, or was not held fixed): "
            + "; ".join(f"`{k}`: {v}" for k, v in also)
        )
    fold = head is not None
    shared = shared_settings(cmp)
    if shared:
        table = _md_table(["setting", "value"], [[f"`{k}`", f"`{v}`"] for k, v in shared])
        parts += _fold("Every run shared these settings (from `.hydra/config.yaml`)", table.splitlines(), fold)
    env = recorded(cmp)
    if env:
        table = _md_table(["field", "value"], [[f"`{k}`", v] for k, v in env])
        parts += _fold("Data, versions and machine (from `summary.json`)", table.splitlines(), fold)
    return parts + [""]


def _comparison(cmp: Comparison, table, paired, prefix: str = "") -> list[str]:
    """The verdicts first (the pairs), then every group's mean and interval."""
    m = metric_label(cmp.metric).split(" (")[0]
    parts = ["## Comparison", ""]
    if paired is not None and len(paired):
        parts += [
            "### Paired by seed",
            "",
            "Runs with the same seed in two groups that differ in one setting, "
            + paired_caption(cmp, paired, long=True).removeprefix("paired by seed: ")
            + ".",
            "",
            _md_table(*paired_rows(cmp, paired, long=True)),
            "",
            f"Every pair: [paired.csv]({prefix}paired.csv).",
            "",
            "### Groups",
            "",
        ]
    head, rows = _without_empty_columns(*table_rows(cmp, table))
    if "std" in head:  # comparison.csv has it; the page keeps the interval and the range, and fits
        keep = [i for i, h in enumerate(head) if h != "std"]
        head, rows = [head[i] for i in keep], [[r[i] for i in keep] for r in rows]
    short = {"unique params": "params", "effective params": "params if unshared"}  # narrow enough to fit
    head = [short.get(h, "mean" if h.endswith(" mean") else h) for h in head]
    parts += [
        f"Final {m} over the completed runs of each group (n){'; in %' if cmp.metric.endswith('acc') else ''}: "
        f"mean, {interval_label([int(n) for n in table['n']])} of the mean over seeds (Student's t: "
        f"mean ± t·std/√n; none below {MIN_N} seeds: '{NO_INTERVAL}'), min – max. "
        "Why a t-interval, and how often it holds its 95%: the Statistics page of the docs.",
        "",
        _md_table(head, rows),
        "",
        f"Every number: [comparison.csv]({prefix}comparison.csv)"
        + ("; every run: [runs.csv](runs.csv)." if not prefix else "."),
        "",
    ]
    return parts


def _without_empty_columns(head: list[str], rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """Drop the columns that say "—" in every row (but the first: it names the row)."""
    keep = [0] + [i for i in range(1, len(head)) if any(r[i] not in ("—", "") for r in rows)]
    return [head[i] for i in keep], [[r[i] for i in keep] for r in rows]


def extra_metric_keys(cmp: Comparison) -> list[str]:
    """final_* fields beyond the standard columns that some run recorded: shifted tests, a tied
    pair's two tasks and weight distance, sharing diagnostics; shifts first, in their order."""
    standard = set(summary_metric_keys())
    found = {k for r in cmp.runs for k in r.summary if k.startswith("final_") and k not in standard}
    shifts = [k for k in shift_keys(cmp.runs) if k in found]
    return shifts + sorted(found - set(shifts))


PER_TABLE = 4  # metric columns in one table of "every other final metric"


def _more_metrics(cmp: Comparison) -> list[str]:
    keys = extra_metric_keys(cmp)
    if not keys:
        return []
    rows = []
    for label in cmp.groups:
        cells = [label]
        for key in keys:
            percent = "_acc" in key
            values = group_values(cmp, label, key)
            low, high = interval(values)
            mean = format_number(spread(values)["mean"], percent) if values else "—"
            cells.append(mean + (f" {format_interval(low, high, percent)}" if values and math.isfinite(low) else ""))
        rows.append(cells)
    head, rows = _without_empty_columns(["group", *(f"`{k.removeprefix('final_')}`" for k in keys)], rows)
    parts = [
        "### Every other final metric",
        "",
        "Mean over the completed runs of each group, with its 95% t-interval over seeds (n ≥ "
        f"{MIN_N}){'; accuracies in %' if any('_acc' in k for k in keys) else ''}; "
        f"{PER_TABLE} metrics a table, so that each fits a page; a group that recorded none of a table's "
        "metrics is left out of it.",
    ]
    for start in range(1, len(head), PER_TABLE):
        cols = [0, *range(start, min(start + PER_TABLE, len(head)))]
        shown = [[r[i] for i in cols] for r in rows if any(r[i] != "—" for i in cols[1:])]
        parts += ["", _md_table([head[i] for i in cols], shown)]
    return parts + [""]


def _paper(cmp: Comparison) -> list[str]:
    node = paper_node(cmp)
    if node is None:
        return []
    why = problem(node)
    if why:
        return ["## Paper vs measured", "", f"The runs carry a `paper:` node that cannot be used: {why}.", ""]
    rows = paper_rows(cmp, node)
    percent = is_accuracy(node.get("metric") or cmp.metric)
    name = str(node.get("name") or "the paper")
    link = f" ([source]({node['url']}))" if node.get("url") else ""
    head = ["reference", "group", "n", "paper", "measured mean", "95% CI", "measured − paper", "verdict"]
    cells = [
        [
            r["reference_key"],
            r["group"],
            str(r["n"]),
            format_number(r["reference"], percent),
            format_number(r["measured"], percent),
            format_interval(r["ci_low"], r["ci_high"], percent) if r["n"] else "—",
            format_number(r["measured"] - r["reference"] if r["reference"] is not None else None, percent, sign=True),
            r["verdict"],
        ]
        for r in rows
    ]
    tol = format_number(rows[0]["tolerance"], percent) + (" points" if percent else "")
    return [
        f"## Paper vs measured: {name}",
        "",
        f"{name}{link}: `{rows[0]['metric']}`; within tolerance means |measured mean − paper| ≤ {tol}.",
        "",
        _md_table(head, cells),
        "",
    ]


def write_report(
    paths: list[str],
    cmp: Comparison,
    table,
    files: list[Path],
    paired=None,
    page: Path | None = None,
    head: PageHead | None = None,
) -> Path:
    """report.md beside the files write_comparison made from `paths`; or, with `page`, that page, its
    files in the folder beside it (page_folder), opening with `head` (question, protocol)."""
    out_dir = files[0].parent
    figures = [f for f in files if f.suffix == ".png"] or [f for f in files if f.suffix == ".svg"]
    m = metric_label(cmp.metric).split(" (")[0]
    shown = " ".join(f"`{p}`" for p in paths)
    if page is None:
        title, intro, prefix = (
            "sharebench report",
            f"Regenerate with `sharebench report {' '.join(map(str, paths))}`.",
            "",
        )
    else:
        head = head or PageHead()
        title = head.title or Path(page).stem
        intro, prefix = "Written by `sharebench report --page` from these records.", f"{out_dir.name}/"
    cut = shortened(cmp, head.protocol_steps) if head else None
    parts = [f"# {title}" + (f" ({cut})" if cut else ""), ""]
    if head and head.question:
        parts += [f"**Question:** {head.question}", ""]
    if cut:
        parts += [f"**{cut[0].upper() + cut[1:]}**: these runs stopped before the protocol's end.", ""]
    found = findings(cmp, table, paired)
    if found:
        parts += ["## Findings", "", *(f"- {line}" for line in found), ""]
    parts += [
        f"{len(cmp.runs)} runs ({status_counts(cmp)}) in {len(cmp.groups)} group{'s' * (len(cmp.groups) != 1)}, "
        f"read from {shown}. {intro}",
        "",
    ]
    computer = machine(cmp)
    if computer:
        parts += [f"Machine (from `summary.json`): {computer}.", ""]
    parts += (
        _what_was_run(paths, cmp, head) + _comparison(cmp, table, paired, prefix) + _more_metrics(cmp) + _paper(cmp)
    )
    parts += ["## Figures", ""]
    for fig in figures:
        caption = next((c for k, c in CAPTIONS.items() if k in fig.stem), fig.stem).format(m=m)
        parts += [f"![{caption}]({prefix}{fig.name})", "", f"*{caption}*", ""]
    runs = _md_table(*_run_rows(cmp, out_dir, paths if page is not None else None)).splitlines()
    parts += ["## Runs", *_fold(f"Every run ({len(cmp.runs)})", runs, page is not None)[1:], ""]
    report = Path(page) if page is not None else out_dir / "report.md"
    write_atomic(report, "\n".join(parts))
    return report


def page_folder(page: str | Path) -> Path:
    """Where a page's figures go: docs/results/x.md → docs/results/x/."""
    return Path(page).with_suffix("")


def _seed_order(s: str):
    return (0, int(s)) if s.isdigit() else (1, s)


def _shown_dir(run_dir: Path, paths: list[str]) -> str:
    """A run dir as a path under the one it was found in, as typed (never absolute when typed so)."""
    for p in paths:
        try:
            return str(Path(p) / run_dir.relative_to(Path(p).resolve()))
        except ValueError:
            continue
    return run_dir.name


def _run_rows(cmp: Comparison, out_dir: Path, paths: list[str] | None = None):
    """A row per run; its dir linked relative to the report, or (a page: paths) shown as text."""
    key, percent = headline_key(cmp), is_accuracy(cmp.metric)
    head = ["group", "seed", "status", metric_label(cmp.metric), "run dir", "note"]
    rows = []
    for run, label in zip(cmp.runs, cmp.labels):
        rel = os.path.relpath(run.dir, out_dir.resolve())
        where = f"`{_shown_dir(run.dir, paths)}`" if paths is not None else f"[{run.dir.name}]({rel})"
        rows.append(
            [
                label,
                str(run.value("seed")),
                run.status,
                format_number(run.summary.get(key), percent),
                where,
                run.note or "",
            ]
        )
    return head, rows

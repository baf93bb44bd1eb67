"""The comparison as text: the terminal table (80 columns) that `plot` prints, and the rows and
captions the report's Markdown tables are made of. No torch, no Hydra.
"""

import textwrap
from collections import Counter

from sharebench.compare.figures import metric_label
from sharebench.compare.runs import Comparison
from sharebench.compare.statistics import CONFIDENCE, NO_INTERVAL, interval_label, number
from sharebench.compare.units import is_accuracy
from sharebench.compare.verdicts import ALPHA, POWER

WIDTH = 80  # the terminal table fits a standard terminal


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
    key, percent = headline_key(cmp), is_accuracy(cmp.metric)
    head = [
        "group",
        "n",
        f"{metric_label(cmp.metric)} mean",
        f"{CONFIDENCE:.0%} CI",
        "std",
        "min – max",
        "unique params",
    ]
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


def margin_text(delta, percent: bool) -> str:
    """δ as a reader sees it: ±1.00 points (accuracies), ±0.01 otherwise."""
    return f"±{format_number(delta, percent)}" + (" points" if percent else "")


def verdict_cell(r, percent: bool, long: bool = False) -> str:
    """A pair's verdict: 'A better' … 'undecided (~14 seeds/arm)'; long, the sentence the report shows."""
    verdict = r["verdict"]
    if verdict == "equivalent":
        return f"equivalent within {margin_text(r['delta'], percent)}"
    if verdict != "undecided":
        return verdict
    need = number(r.get("seeds_needed"))
    if r["n"] < 2:
        return "undecided — fewer than 2 paired seeds" if long else "undecided (n<2)"
    if need is None:
        return "undecided — more than 1,000 seeds per arm would be needed" if long else "undecided (>1,000 seeds)"
    if not long:
        return f"undecided (~{need:.0f} seeds/arm)"
    what = (
        "decide a difference this size"
        if r["needed_for"] == "difference"
        else f"show equivalence within {margin_text(r['delta'], percent)}"
    )
    return f"undecided — about {need:.0f} seeds per arm would {what}"


def won_cell(r) -> str:
    ties = int(r["ties"]) if number(r.get("ties")) else 0
    return f"{int(r['a_wins'])} of {int(r['n'])}" + (f" ({ties} tie{'s' * (ties != 1)})" if ties else "")


def paired_rows(cmp: Comparison, paired, long: bool = False) -> tuple[list[str], list[list[str]]]:
    """A − B per pair, verdict and difference first: verdict, mean difference, its interval, seeds A won."""
    percent = is_accuracy(cmp.metric)
    head = ["A − B", "verdict", "mean diff", f"{CONFIDENCE:.0%} CI", "A won"]
    rows = [
        [
            f"{r['a']} − {r['b']}",
            verdict_cell(r, percent, long),
            format_number(r["mean_diff"], percent, sign=True),
            format_interval(r["ci_low"], r["ci_high"], percent, sign=True),
            won_cell(r),
        ]
        for _, r in paired.iterrows()
    ]
    return head, rows


def paired_caption(cmp: Comparison, paired, long=False) -> str:
    """What the pair table shows: the difference, its interval's method, how verdicts were reached."""
    percent = is_accuracy(cmp.metric)
    unit = (" (percentage points)" if long else " (points)") if percent else ""
    n = [int(x) for x in paired["n"]]
    first = paired.iloc[0]
    family = int(first["family"])
    looks = paired.attrs.get("looks")
    if looks:
        jointly = (
            f"seeds until decided: verdicts hold jointly over the {family} pair{'s' * (family != 1)} and "
            f"{len(looks)} looks at {', '.join(map(str, looks))} seeds per arm (α {ALPHA:.0%} spent over the looks)"
        )
    elif family > 1:
        jointly = f"verdicts hold jointly over the {family} pairs (Holm–Shaffer, family-wise error {ALPHA:.0%})"
    else:
        jointly = f"verdict at {ALPHA:.0%} error"
    better = first["better"]
    return (
        f"paired by seed: A − B, final {metric_label(cmp.metric).split(' (')[0]}{unit}; "
        f"{interval_label(n)}; {jointly}; equivalent: within {margin_text(first['delta'], percent)} (TOST)"
        + (f"; 'A won': seeds where A is {better}" if long else "")
    )


def detect_lines(cmp: Comparison, paired, difference: float) -> list[str]:
    """`plot --seeds-needed X`: per pair, the seeds per arm that would decide a true difference of X."""
    from sharebench.compare.paired import seeds_to_detect

    percent = is_accuracy(cmp.metric)
    what = f"{format_number(difference, percent)}{' points' if percent else ''}"
    rows = [
        [f"{r['a']} − {r['b']}", _need_text(need, r["n"]), format_number(r["sd_diff"], percent)]
        for (_, r), need in zip(paired.iterrows(), seeds_to_detect(paired, difference))
    ]
    caption = (
        f"seeds per arm that would decide a true difference of {what} (power {POWER:.0%}, at this table's "
        f"level per pair, if each pair's observed spread is the truth):"
    )
    return ["", *_wrap(caption), *fit_columns(["A − B", "seeds per arm", "sd of A − B"], rows)]


def _need_text(need: int | None, n: int) -> str:
    if n < 2:
        return "— (n<2: no spread)"
    return "> 1,000" if need is None else str(need)


def _terminal_rows(cmp: Comparison, table) -> tuple[list[str], list[list[str]]]:
    """The columns that fit a terminal: the report's, less std and min – max (both in comparison.csv)."""
    head, rows = table_rows(cmp, table)
    keep = [i for i, h in enumerate(head) if h not in ("std", "min – max")]
    short = {2: "mean", head.index("unique params"): "params"}
    short.update({head.index(h): "eff. params" for h in head if h == "effective params"})
    short.update({head.index("other runs"): "other"})
    return [short.get(i, head[i]) for i in keep], [[r[i] for i in keep] for r in rows]


def terminal_table(cmp: Comparison, table, paired=None, detect: float | None = None) -> str:
    head, rows = _terminal_rows(cmp, table)
    statuses = status_counts(cmp)
    by = f"by {', '.join(cmp.keys)}" if cmp.keys else "nothing differs but the seed"
    title = f"── sharebench comparison: {len(cmp.runs)} runs ({statuses}) in {len(cmp.groups)} groups,"
    lines = [f"{title} {by} ──"] if len(title) + len(by) + 4 <= WIDTH else [*_wrap(title), *_wrap(f"   {by} ──")]
    ns = [int(n) for n in table["n"]]
    lines.append(f"final {metric_label(cmp.metric)} over seeds: mean, {interval_label(ns)}")
    lines += fit_columns(head, rows, drop=("train s", "eff. params"))
    if paired is not None and len(paired):
        lines += ["", *_wrap(paired_caption(cmp, paired)), *fit_columns(*paired_rows(cmp, paired))]
        if detect is not None:
            lines += detect_lines(cmp, paired, detect)
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

"""What a comparison found, in two or three sentences made from its verdicts and intervals: the opening
of a report and of every results page, and the README's headline. Every number comes from the
tables; nothing is typed. No torch, no Hydra.
"""

from sharebench.compare.figures import metric_label
from sharebench.compare.paired import higher_is_better
from sharebench.compare.runs import Comparison
from sharebench.compare.statistics import interval_label, number
from sharebench.compare.tables import format_interval, format_number, headline_key, margin_text
from sharebench.compare.units import is_accuracy

MOST_NAMED = 3  # decided pairs named one by one; the rest are counted


def findings(cmp: Comparison, table, paired) -> list[str]:
    """Sentences: the decided pairs (largest difference first), the undecided ones and what would
    decide them, and the best group with its interval."""
    out = []
    if paired is not None and len(paired):
        out += _pair_sentences(cmp, paired)
    best = _best_group(cmp, table)
    if best:
        out.append(best)
    return out


def _pair_sentences(cmp: Comparison, paired) -> list[str]:
    percent = is_accuracy(cmp.metric)
    unit = " points" if percent else ""
    what = metric_label(cmp.metric).split(" (")[0]
    decided = paired[paired["verdict"] != "undecided"]
    decided = decided.reindex(decided["mean_diff"].abs().sort_values(ascending=False).index)
    sentences = []
    for _, r in decided.head(MOST_NAMED).iterrows():
        n = f"{interval_label(int(r['n']))}" + (
            f", decided at {int(r['decided_at'])} seeds" if _has(r, "decided_at") else ""
        )
        if r["verdict"] == "equivalent":
            diff = format_number(r["mean_diff"], percent, sign=True)
            ci = format_interval(r["ci_low"], r["ci_high"], percent, sign=True)
            sentences.append(
                f"{r['a']} and {r['b']} are equivalent within {margin_text(r['delta'], percent)}: "
                f"{r['a']} − {r['b']} = {diff}{unit} {ci} ({n})."
            )
            continue
        a_won = r["verdict"] == "A better"
        winner, loser = (r["a"], r["b"]) if a_won else (r["b"], r["a"])
        sign = 1 if a_won else -1  # the difference and its interval as winner − loser
        low, high = sorted((sign * r["ci_low"], sign * r["ci_high"]))
        gap = f"{format_number(abs(r['mean_diff']), percent)}{unit} {format_interval(low, high, percent)}"
        sentences.append(f"{winner} beats {loser} on final {what} by {gap} ({n}).")
    if len(decided) > MOST_NAMED:
        sentences.append(f"{len(decided) - MOST_NAMED} more pairs are decided (the table below).")
    sentences += _undecided_sentence(paired, len(paired))
    return sentences


def _undecided_sentence(paired, total: int) -> list[str]:
    open_ = paired[paired["verdict"] == "undecided"]
    if not len(open_):
        return [f"All {total} pairs are decided."] if total > 1 else []
    need = open_["seeds_needed"].dropna()
    if total == 1:
        r = open_.iloc[0]
        what = (
            f"about {int(r['seeds_needed'])} seeds per arm would decide it if its observed difference held"
            if len(need)
            else "more than 1,000 seeds per arm would be needed to decide it"
        )
        return [f"{r['a']} − {r['b']} is undecided: {what}."]
    if not len(need):
        verb = "is" if len(open_) == 1 else "are"
        return [f"{len(open_)} of {total} pairs {verb} undecided; more than 1,000 seeds per arm would decide them."]
    closest = open_.loc[need.idxmin()]
    return [
        f"{len(open_)} of {total} pairs {'is' if len(open_) == 1 else 'are'} undecided; the nearest to a verdict, {closest['a']} − "
        f"{closest['b']}, would need about {int(closest['seeds_needed'])} seeds per arm."
    ]


def _best_group(cmp: Comparison, table) -> str | None:
    key, percent = headline_key(cmp), is_accuracy(cmp.metric)
    column = f"{key}_mean"
    if column not in table or not table[column].notna().any():
        return None
    up = higher_is_better(cmp.metric)
    best = table.loc[table[column].idxmax() if up else table[column].idxmin()]
    unit = "%" if percent else ""
    ci = format_interval(best.get(f"{key}_ci_low"), best.get(f"{key}_ci_high"), percent)
    word = "Highest" if up else "Lowest"
    return (
        f"{word} final {metric_label(cmp.metric).split(' (')[0]}: {best['group']}, "
        f"{format_number(best[column], percent)}{unit} {ci} ({interval_label(int(best['n']))})."
    )


def _has(row, key: str) -> bool:
    return key in row and number(row[key]) is not None

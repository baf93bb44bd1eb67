"""Paired comparisons: two groups that differ in one setting, compared seed by seed.

A seed fixes the initialisation and the data order, so runs that share a seed and differ in one
setting differ mostly by that setting: their difference is less noisy than the difference of two
group means. Pairs are A − B for the headline metric's final value: its mean over the seeds both
groups completed, its 95% t-interval (statistics.interval: n >= 2), how many of those seeds A won
(higher wins for accuracies, lower for losses), and a verdict — A better, B better, equivalent
within ±δ, or undecided with the seeds that would decide it — holding jointly over the table's
pairs (verdicts.py). No torch, no Hydra.
"""

from dataclasses import replace

import numpy as np
import pandas as pd

from sharebench.compare.run_record import Run
from sharebench.compare.runs import NO_RECORD, Comparison, format_value
from sharebench.compare.select import groups_matching, parse, resolve, same
from sharebench.compare.sequential import Design, replay
from sharebench.compare.statistics import interval, number
from sharebench.compare.units import to_metric_units
from sharebench.compare.verdicts import ALPHA, DELTA, Decision, decide, pair_test, seeds_to_differ
from sharebench.configs import TWIN_KEYS, twins
from sharebench.errors import UserError
from sharebench.records.columns import METRICS

# A model or spectrum point that shares weights → its unshared twin (same topology, its own weights at
# every position or time step): the pairs `sharebench plot` makes when both are present. Each run's
# config records its own (model.sharing); this, what today's option files declare (configs.twins),
# answers for records made before that key, and for the checks of a sweep before it runs.
TWINS = twins()
COLUMNS = [
    "a",
    "b",
    "differs_in",
    "metric",
    "n",
    "seeds",
    "a_mean",
    "b_mean",
    "mean_diff",
    "sd_diff",
    "ci_low",
    "ci_high",
    "verdict",
    "a_wins",
    "ties",
    "p_difference",
    "p_equivalence",
    "delta",
    "family",
    "seeds_needed",
    "needed_for",
    "decided_at",
    "better",
]


def _recorded(cmp: Comparison) -> dict[str, Run]:
    """{group: its first run that left a record}."""
    out = {}
    for label in cmp.groups:
        run = next((r for r in cmp.members(label, completed_only=False) if r.known), None)
        if run is not None and label != NO_RECORD:
            out[label] = run
    return out


def axis_values(cmp: Comparison) -> dict[str, dict[str, str]]:
    """{group: {grouping key: value}} for the groups whose runs left a record."""
    return {label: {k: format_value(run.value(k)) for k in cmp.keys} for label, run in _recorded(cmp).items()}


def twin_of(run: Run, group: str) -> str | None:
    """The unshared twin of the run's choice of `group` (model, spectrum), as its config recorded it
    (model.sharing), or for a record made before that key, as today's option files declare it."""
    key = TWIN_KEYS[group]
    return run.config[key] if key in run.config else TWINS[group].get(format_value(run.value(group)))


def twin_pairs(cmp: Comparison) -> list[tuple[str, str]]:
    """(shared, unshared twin) for every twin pair present that agrees on every other key."""
    runs, values = _recorded(cmp), axis_values(cmp)
    return [
        (a, b)
        for key in TWIN_KEYS
        if key in cmp.keys
        for a in values
        for b in values
        if _differs(values[a], values[b]) == [key] and twin_of(runs[a], key) == values[b][key]
    ]


def baseline_pairs(cmp: Comparison, text: str) -> list[tuple[str, str]]:
    """(group, its baseline) for every group outside the selector, against the baseline group that
    agrees with it on every key the selector does not name."""
    named = [_named_key(cmp, key, value, text) for key, value in parse(text)]
    base = groups_matching(cmp, text)
    if not named or not base:
        raise UserError(
            f"--baseline {text}: no group matches; choose KEY=VALUE among the groups: {'; '.join(cmp.groups)}"
        )
    values = axis_values(cmp)
    return [
        (g, b)
        for g in values
        if g not in base
        for b in base
        if b in values and all(values[g][k] == values[b][k] for k in cmp.keys if k not in named)
    ]


def _named_key(cmp: Comparison, key: str | None, value: str, text: str) -> str:
    values = axis_values(cmp)
    full = (
        resolve(key, cmp.keys)
        if key
        else next((k for k in cmp.keys if any(same(v[k], value) for v in values.values())), None)
    )
    if full is None:
        raise UserError(
            f"--baseline {text}: {key or value!r} is not a setting that differs between "
            f"these runs; use KEY=VALUE with KEY one of: {', '.join(cmp.keys) or '(only seeds differ)'}"
        )
    return full


def _differs(a: dict, b: dict) -> list[str]:
    return [k for k in a if a[k] != b[k]]


def higher_is_better(metric: str) -> bool:
    known = {m.name: m.best for m in METRICS if m.best}
    return known.get(metric, "min" if "loss" in metric else "max") == "max"


def seed_values(cmp: Comparison, label: str, key: str) -> dict[str, float]:
    """{seed: value} over a group's completed runs (a seed run twice counts once, as its mean)."""
    found: dict[str, list[float]] = {}
    for run in cmp.members(label):
        v = number(run.summary.get(key))
        if v is not None:
            found.setdefault(format_value(run.value("seed")), []).append(v)
    return {s: float(np.mean(v)) for s, v in found.items()}


def paired_diffs(cmp: Comparison, a: str, b: str, key: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(seeds both groups completed, A's values, B's values) on those seeds, in seed order."""
    va, vb = seed_values(cmp, a, key), seed_values(cmp, b, key)
    seeds = [s for s in va if s in vb]
    return seeds, np.array([va[s] for s in seeds]), np.array([vb[s] for s in seeds])


def paired_row(cmp: Comparison, a: str, b: str, key: str, decision: Decision, delta: float, family: int) -> dict:
    seeds, va, vb = paired_diffs(cmp, a, b, key)
    diff = va - vb
    low, high = interval(diff)
    values = axis_values(cmp)
    test = decision.test
    return {
        "a": a,
        "b": b,
        "differs_in": " ".join(_differs(values[a], values[b])),
        "metric": key,
        "n": len(seeds),
        "seeds": " ".join(seeds),
        "a_mean": float(va.mean()) if seeds else np.nan,
        "b_mean": float(vb.mean()) if seeds else np.nan,
        "mean_diff": float(diff.mean()) if len(diff) else np.nan,
        "sd_diff": test.sd,
        "ci_low": low,
        "ci_high": high,
        "verdict": decision.verdict,
        "a_wins": test.wins,
        "ties": test.ties,
        "p_difference": test.p_difference,
        "p_equivalence": test.p_equivalence,
        "delta": delta,
        "family": family,
        "seeds_needed": decision.seeds_needed if decision.seeds_needed is not None else np.nan,
        "needed_for": decision.needed_for,
        "better": "higher" if higher_is_better(cmp.metric) else "lower",
    }


def table_pairs(cmp: Comparison, baseline: str | None = None) -> list[tuple[str, str]]:
    """The pairs one table compares: twins by default, or every group against `baseline`."""
    return baseline_pairs(cmp, baseline) if baseline else twin_pairs(cmp)


def paired_table(
    cmp: Comparison,
    key: str,
    baseline: str | None = None,
    delta: float | None = None,
    alpha: float = ALPHA,
    design: Design | None = None,
) -> pd.DataFrame:
    """One row per pair (A, B), its verdict holding jointly with the table's other pairs: at a fixed
    number of seeds (Holm–Shaffer), or — a sweep run until decided, `design` — at the looks it made.
    `delta` as the user typed it: percentage points for an accuracy metric (units.py)."""
    if design is not None and (design.baseline != baseline and baseline is not None or design.metric != cmp.metric):
        design = None  # other pairs or another metric than the sweeper decided: a fixed-size table
    baseline = baseline if design is None else design.baseline
    if delta is not None:
        delta = to_metric_units(delta, cmp.metric)
    else:
        delta = design.delta if design is not None else DELTA
    pairs = table_pairs(cmp, baseline)
    up = higher_is_better(cmp.metric)
    diffs = [_diffs_by_seed(cmp, a, b, key) for a, b in pairs]
    if design is None:
        tests = [pair_test(list(d.values()), up, delta) for d in diffs]
        decisions, looks = decide(tests, alpha, delta), [None] * len(pairs)
    else:
        found = replay(diffs, up, replace(design, delta=delta))
        decisions, looks = [f.decision for f in found], [f.seeds if f.look is not None else None for f in found]
    rows = [
        {**paired_row(cmp, a, b, key, d, delta, len(pairs)), "decided_at": look}
        for (a, b), d, look in zip(pairs, decisions, looks)
    ]
    table = pd.DataFrame(rows, columns=COLUMNS)
    table.attrs["looks"] = list(design.looks) if design is not None else None
    return table


def seeds_to_detect(paired: pd.DataFrame, difference: float) -> list[int | None]:
    """Per pair: seeds per arm that would decide a true difference of `difference` (the metric's units)
    with power 0.8 at the table's per-pair level, if the pair's observed spread is the truth (None: a
    pair of fewer than 2 seeds has no spread, or more than 1,000 seeds would be needed)."""
    return [
        seeds_to_differ(difference, r.sd_diff, ALPHA / max(int(r.family), 1)) if r.n >= 2 else None
        for r in paired.itertuples()
    ]


def _diffs_by_seed(cmp: Comparison, a: str, b: str, key: str) -> dict[str, float]:
    seeds, va, vb = paired_diffs(cmp, a, b, key)
    return dict(zip(seeds, va - vb))

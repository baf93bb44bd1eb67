"""Statistics of groups of runs: the one place where values over seeds become mean, std, spread and
a confidence interval of the mean.

The interval is a percentile bootstrap over seeds (scipy.stats.bootstrap, 9,999 resamples, a fixed
seed so that re-made files are identical). With fewer than MIN_N seeds no interval is claimed (NaN):
two values say almost nothing about where a mean lies. With 3–5 seeds the bootstrap is narrow — it
cannot exceed [min, max] — so read it as "what these seeds show", not as a guarantee. BCa is not
used: it fails on all-equal samples and is erratic with so few values. No torch, no Hydra; scipy is
imported only when an interval is computed.
"""

import functools
import math
from collections import Counter

import numpy as np
import pandas as pd

from sharebench.compare.runs import Comparison, format_value, shift_keys
from sharebench.records.columns import RUN_TOTALS, summary_metric_keys

CONFIDENCE = 0.95
MIN_N = 3  # fewer seeds than this: no interval (NaN), and the tables say "n<3: no interval"
RESAMPLES = 9999
BOOTSTRAP_SEED = 0
NO_INTERVAL = f"n<{MIN_N}: no interval"


def number(v) -> float | None:
    """A finite float, or None for anything else (missing, text, NaN, inf)."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def spread(values: list[float]) -> dict[str, float]:
    """mean, std (ddof 1; 0 for one value), min, max and n of some values (NaN where undefined)."""
    a = np.asarray(values, dtype=float)
    if not len(a):
        return {"mean": math.nan, "std": math.nan, "min": math.nan, "max": math.nan, "n": 0}
    return {
        "mean": float(a.mean()),
        "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
        "min": float(a.min()),
        "max": float(a.max()),
        "n": len(a),
    }


def interval(values) -> tuple[float, float]:
    """95% bootstrap interval of the mean of `values` (one per seed): NaN below MIN_N values, [v, v]
    when all are equal (no resample can differ)."""
    return _interval(tuple(float(v) for v in values if number(v) is not None))


@functools.lru_cache(maxsize=4096)  # a table, a figure and the report ask for the same group's interval
def _interval(values: tuple[float, ...]) -> tuple[float, float]:
    a = np.asarray(values, dtype=float)
    if len(a) < MIN_N:
        return math.nan, math.nan
    if np.all(a == a[0]):
        return float(a[0]), float(a[0])
    from scipy.stats import bootstrap

    rng = np.random.default_rng(BOOTSTRAP_SEED)
    try:  # scipy >= 1.15 names the generator `rng`; older ones `random_state`
        res = bootstrap((a,), np.mean, n_resamples=RESAMPLES, confidence_level=CONFIDENCE, method="percentile", rng=rng)
    except TypeError:
        res = bootstrap(
            (a,), np.mean, n_resamples=RESAMPLES, confidence_level=CONFIDENCE, method="percentile", random_state=rng
        )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def group_values(cmp: Comparison, label: str, key: str, scale: float = 1.0) -> list[float]:
    """One summary.json value per completed run of a group (runs without it are left out)."""
    return [v * scale for v in (number(r.summary.get(key)) for r in cmp.members(label)) if v is not None]


def runs_table(cmp: Comparison) -> pd.DataFrame:
    """One row per run, whatever its status."""
    rows = []
    extra = shift_keys(cmp.runs)
    for run, label in zip(cmp.runs, cmp.labels):
        row = {
            "group": label,
            "status": run.status,
            "seed": format_value(run.value("seed")),
            **{k: format_value(run.value(k)) for k in cmp.keys},
        }
        row.update({k: run.summary.get(k) for k in summary_metric_keys() + extra})
        row.update(run_dir=str(run.dir), note=run.note)
        rows.append(row)
    df = pd.DataFrame(rows)
    return df[[c for c in df if c in ("group", "status", "run_dir", "note") or df[c].notna().any()]]


def comparison_table(cmp: Comparison) -> pd.DataFrame:
    """One row per group: mean, 95% interval (metrics only, n >= 3), std, min, max over its completed
    runs, n, and how many runs had each status."""
    present = [
        k
        for k in summary_metric_keys() + shift_keys(cmp.runs)
        if any(number(r.summary.get(k)) is not None for r in cmp.runs)
    ]
    rows = []
    for label in cmp.groups:
        everyone = cmp.members(label, completed_only=False)
        done = cmp.members(label)
        row = {
            "group": label,
            **{k: format_value(everyone[0].value(k)) for k in cmp.keys},
            "n": len(done),
            "n_runs": len(everyone),
            "other_runs": ", ".join(
                f"{s}: {n}" for s, n in sorted(Counter(r.status for r in everyone).items()) if s != "completed"
            ),
        }
        for key in present:
            values = [v for v in (number(r.summary.get(key)) for r in done) if v is not None]
            stat = spread(values)
            row[f"{key}_mean"] = stat["mean"]
            if key not in RUN_TOTALS:  # parameter counts and seconds are not estimates of anything
                row[f"{key}_ci_low"], row[f"{key}_ci_high"] = interval(values)
            row.update({f"{key}_{name}": stat[name] for name in ("std", "min", "max")})
        rows.append(row)
    return pd.DataFrame(rows)


def curves(cmp: Comparison, label: str, column: str) -> pd.DataFrame | None:
    """Mean and std of one metrics.csv column over the completed runs of a group, per step."""
    runs = [r.metric_columns for r in cmp.members(label) if r.metric_columns and column in r.metric_columns]
    if not runs:
        return None
    # one frame of every run's rows and one dropna, not a frame and a dropna per run: big sweeps
    both = pd.DataFrame({name: np.concatenate([m[name] for m in runs]) for name in ("step", column)}).dropna()
    if not len(both):
        return None
    return pd.DataFrame([{"step": step, **spread(list(values))} for step, values in both.groupby("step")[column]])

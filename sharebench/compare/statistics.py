"""Statistics of groups of runs: the one place where values over seeds become mean, std, spread and
a confidence interval of the mean.

The interval is Student's t-interval of the mean: mean ± t(0.975, n−1) · std / √n. It holds its 95%
for normal values at every n ≥ 2 (shown by simulation in tests/test_interval_coverage.py and the
table on docs/guide/statistics.md), where a percentile bootstrap over 3 seeds is [min, max] of the
three values and holds the mean about 75% of the time. With one value there is no interval (NaN);
all-equal values give [v, v]. Every caption names it: interval_label(n) → "95% t-interval, n = 3".
No torch, no Hydra; scipy is imported only when an interval is computed.
"""

import functools
import math
from collections import Counter

import numpy as np
import pandas as pd

from sharebench.compare.runs import Comparison, format_value, shift_keys
from sharebench.records.columns import RUN_TOTALS, summary_metric_keys

CONFIDENCE = 0.95
MIN_N = 2  # fewer seeds than this: no interval (NaN), and the tables say "n<2: no interval"
METHOD = "t-interval"
NO_INTERVAL = f"n<{MIN_N}: no interval"


def interval_label(ns) -> str:
    """What an interval is, for captions and headers: '95% t-interval, n = 3' (or n = 3–5)."""
    ns = [ns] if isinstance(ns, int) else [n for n in ns if n]
    lo, hi = (min(ns), max(ns)) if ns else (0, 0)
    return f"{CONFIDENCE:.0%} {METHOD}, n = {lo}" + (f"–{hi}" if hi != lo else "")


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


def interval(values, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Student's t-interval of the mean of `values` (one per seed): NaN below MIN_N values, [v, v]
    when all are equal."""
    return _interval(tuple(float(v) for v in values if number(v) is not None), confidence)


@functools.lru_cache(maxsize=4096)  # a table, a figure and the report ask for the same group's interval
def _interval(values: tuple[float, ...], confidence: float) -> tuple[float, float]:
    a = np.asarray(values, dtype=float)
    if len(a) < MIN_N:
        return math.nan, math.nan
    if np.all(a == a[0]):
        return float(a[0]), float(a[0])
    half = t_quantile(0.5 + confidence / 2, len(a) - 1) * a.std(ddof=1) / math.sqrt(len(a))
    return float(a.mean() - half), float(a.mean() + half)


@functools.lru_cache(maxsize=256)
def t_quantile(q: float, df: int) -> float:
    """Student's t quantile (scipy's, asked once per degrees of freedom: simulations call it a lot)."""
    from scipy.stats import t

    return float(t.ppf(q, df))


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
    """One row per group: mean, 95% t-interval (metrics only, n >= 2), std, min, max over its completed
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

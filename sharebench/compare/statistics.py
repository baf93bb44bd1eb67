"""Statistics of groups of runs: the one place where values over seeds become mean, std and spread.

No torch, no Hydra.
"""
import math
from collections import Counter

import numpy as np
import pandas as pd

from sharebench.compare.runs import Comparison, format_value, shift_keys
from sharebench.records.columns import summary_metric_keys


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
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
            "min": float(a.min()), "max": float(a.max()), "n": len(a)}


def group_values(cmp: Comparison, label: str, key: str, scale: float = 1.0) -> list[float]:
    """One summary.json value per completed run of a group (runs without it are left out)."""
    return [v * scale for v in (number(r.summary.get(key)) for r in cmp.members(label)) if v is not None]


def runs_table(cmp: Comparison) -> pd.DataFrame:
    """One row per run, whatever its status."""
    rows = []
    extra = shift_keys(cmp.runs)
    for run, label in zip(cmp.runs, cmp.labels):
        row = {"group": label, "status": run.status, "seed": format_value(run.value("seed")),
               **{k: format_value(run.value(k)) for k in cmp.keys}}
        row.update({k: run.summary.get(k) for k in summary_metric_keys() + extra})
        row.update(run_dir=str(run.dir), note=run.note)
        rows.append(row)
    df = pd.DataFrame(rows)
    return df[[c for c in df if c in ("group", "status", "run_dir", "note") or df[c].notna().any()]]


def comparison_table(cmp: Comparison) -> pd.DataFrame:
    """One row per group: mean/std/min/max/n over its completed runs, and how many runs had each status."""
    present = [k for k in summary_metric_keys() + shift_keys(cmp.runs)
               if any(number(r.summary.get(k)) is not None for r in cmp.runs)]
    rows = []
    for label in cmp.groups:
        everyone = cmp.members(label, completed_only=False)
        done = cmp.members(label)
        row = {"group": label, **{k: format_value(everyone[0].value(k)) for k in cmp.keys},
               "n": len(done), "n_runs": len(everyone),
               "other_runs": ", ".join(f"{s}: {n}" for s, n in sorted(Counter(r.status for r in everyone).items())
                                       if s != "completed")}
        for key in present:
            stat = spread([v for v in (number(r.summary.get(key)) for r in done) if v is not None])
            row.update({f"{key}_{name}": stat[name] for name in ("mean", "std", "min", "max")})
        rows.append(row)
    return pd.DataFrame(rows)


def curves(cmp: Comparison, label: str, column: str) -> pd.DataFrame | None:
    """Mean and std of one metrics.csv column over the completed runs of a group, per step."""
    frames = [r.metrics[["step", column]].dropna() for r in cmp.members(label)
              if r.metrics is not None and column in r.metrics]
    frames = [f for f in frames if len(f)]
    if not frames:
        return None
    both = pd.concat(frames)
    return pd.DataFrame([{"step": step, **spread(list(values))} for step, values in both.groupby("step")[column]])

"""The one list of what an evaluation records, and what the summary and the comparison derive from it.

Adding a metric is one computation (the loop, or a model's `evaluation_metrics` hook) plus, for a
standard column, one entry here: its final_ value, its best_ value (when it has a direction), the
comparison's columns and the figures all follow from METRICS. Columns not listed here (a model's
own, test_acc_shift<k>, sharing diagnostics) still get a final_ entry in summary.json.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    best: str | None = None  # "max" or "min": summary.json also keeps best_<name> over the evaluations
    final: bool = True  # summary.json keeps final_<name>, the value at the last evaluation


METRICS = [
    Metric("step", final=False),
    Metric("epoch", final=False),
    Metric("elapsed_s", final=False),
    Metric("lr", final=False),
    Metric("train_loss"),
    Metric("train_acc"),
    Metric("val_loss", best="min"),
    Metric("val_acc", best="max"),
    Metric("test_loss", best="min"),
    Metric("test_acc", best="max"),
]
METRIC_COLUMNS = [m.name for m in METRICS]
STEP_COLUMNS = ["step", "epoch", "loss", "lr"]
PARAM_COLUMNS = ["name", "shape", "count", "trainable", "bytes", "effective", "sharing"]
# run-level numbers of summary.json that a comparison aggregates beside the metrics
RUN_TOTALS = ["params_total", "params_effective", "train_seconds", "wall_seconds", "samples_per_second", "steps"]


def summary_metric_keys() -> list[str]:
    """summary.json keys that compare across runs, in the order tables show them."""
    final = [f"final_{m.name}" for m in METRICS if m.final]
    best = [f"best_{m.name}" for m in METRICS if m.best]
    headline = ["final_test_acc", "final_test_loss", "final_val_acc", "final_val_loss"]
    return [*headline, *[k for k in final + best if k not in headline], *RUN_TOTALS]


def _best(rows: list[dict], key: str, direction: str) -> float:
    values = [r[key] for r in rows if isinstance(r.get(key), (int, float)) and math.isfinite(r[key])]
    return (max if direction == "max" else min)(values) if values else math.nan


def summary_entries(rows: list[dict]) -> dict:
    """final_<column> for every recorded column (standard or not) and best_<column> where a
    direction is known, from the evaluation rows of a run (NaN where a run has none)."""
    last = rows[-1] if rows else {}
    standard = {m.name for m in METRICS}
    out = {f"final_{m.name}": last.get(m.name, math.nan) for m in METRICS if m.final}
    out.update({f"final_{k}": v for k, v in last.items() if k not in standard})
    out.update({f"best_{m.name}": _best(rows, m.name, m.best) for m in METRICS if m.best})
    return out

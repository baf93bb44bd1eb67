"""A paper's numbers beside the measured ones, for presets that reproduce a paper.

A run's .hydra/config.yaml may hold a top-level `paper:` node (an experiment preset puts it there):

    paper:
      name: "Greydanus 2020, MNIST-1D, Table 1"     # shown as the section title
      url: https://arxiv.org/abs/2011.14439           # optional
      metric: test_acc      # compared with each group's mean of final_<metric> in summary.json
      unit: points          # reference and tolerance in percentage points (an accuracy metric only)
      tolerance: 2          # |measured mean − reference| <= tolerance: "within"
      reference:            # group → the paper's value
        "mnist1d_cnn, shuffle_seq=False": 94
        "model=mlp,dataset.shuffle_seq=true": 68

Without `unit` (the runs recorded before it existed) the numbers are in the metric's units, as the
records are: a fraction for an accuracy (0.94).

A reference key is a group label as `sharebench plot` prints it, or any selector (select.py):
comma-separated `key=value` terms (dotted keys or their last part) and bare option names; it is
compared with every group it matches, so a key that matches no group reads "not run". The verdict
is "within tolerance", "below" or "above" the reference. No torch, no Hydra.
"""

import math

import yaml

from sharebench.compare.run_record import read_yaml_text
from sharebench.compare.runs import Comparison
from sharebench.compare.select import groups_matching
from sharebench.compare.statistics import group_values, interval, number, spread
from sharebench.compare.units import POINTS, is_accuracy


def paper_node(cmp: Comparison) -> dict | None:
    """The `paper:` node of the first run that has one (read raw: its keys may hold dots)."""
    for run in cmp.runs:
        if not any(k.startswith("paper.") or k == "paper" for k in run.config):
            continue
        try:
            node = (read_yaml_text((run.dir / ".hydra" / "config.yaml").read_text()) or {}).get("paper")
        except (OSError, yaml.YAMLError, AttributeError):
            continue
        if node:
            return node
    return None


def problem(node) -> str | None:
    """Why a paper node cannot be used, in one line naming the fix; None when it can."""
    if not isinstance(node, dict):
        return "`paper:` must be a mapping with name, metric, tolerance and reference"
    if not isinstance(node.get("reference"), dict) or not node["reference"]:
        return '`paper.reference` must map group labels to numbers, e.g. {"mnist1d_cnn": 0.94}'
    if node.get("unit") not in (None, "points"):
        return f"`paper.unit: {node['unit']}` is not a unit here: give `unit: points` (or leave it out: fractions)"
    if node.get("unit") and not is_accuracy(node.get("metric") or "test_acc"):
        return f"`paper.unit: points` is for an accuracy metric, not {node['metric']}: leave it out"
    if number(node.get("tolerance", 0)) is None:
        return "`paper.tolerance` must be a number, e.g. 2 (points, with `unit: points`)"
    return None


def verdict(measured: float, reference: float, tolerance: float) -> str:
    if not math.isfinite(measured):
        return "not run"
    diff = measured - reference
    return "within tolerance" if abs(diff) <= tolerance else ("below" if diff < 0 else "above")


def paper_rows(cmp: Comparison, node: dict) -> list[dict]:
    """One row per (reference key, group it matches): reference, measured mean, interval, verdict."""
    metric = str(node.get("metric") or cmp.metric)
    key = f"final_{metric}" if any(f"final_{metric}" in r.summary for r in cmp.runs) else metric
    scale = POINTS if node.get("unit") == "points" else 1.0  # the rows hold the records' units
    tolerance = (number(node.get("tolerance", 0)) or 0.0) / scale
    rows = []
    for ref_key, ref in node["reference"].items():
        reference = None if number(ref) is None else number(ref) / scale
        for group in groups_matching(cmp, str(ref_key)) or [None]:
            values = group_values(cmp, group, key) if group else []
            mean = spread(values)["mean"]
            low, high = interval(values)
            rows.append(
                {
                    "reference_key": str(ref_key),
                    "group": group or "—",
                    "n": len(values),
                    "metric": key,
                    "reference": reference,
                    "measured": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "tolerance": tolerance,
                    "verdict": "no reference" if reference is None else verdict(mean, reference, tolerance),
                }
            )
    return rows

"""One unit for accuracy wherever a person types or reads one: percentage points.

Pages, tables and figures print an accuracy in points (87.80, not 0.878), and every option that takes
an accuracy takes points too: `--delta 1` and `--seeds-needed 2` on an accuracy metric are one and two
points, the until_decided sweeper's `delta: 1` is one point, a preset's `paper:` node with
`unit: points` holds its references and tolerance in points. Records on disk keep fractions
(metrics.csv, summary.json, comparison.csv, paired.csv, until_decided.json): they are converted where
an option is read, here, and nowhere else. A metric that is not an accuracy (a loss) keeps its own
units throughout, untouched. No torch, no Hydra.
"""

POINTS = 100.0  # percentage points per unit of a fraction


def is_accuracy(metric) -> bool:
    """An accuracy metric (test_acc, val_acc, final_train_acc …): recorded as a fraction, read in points."""
    return str(metric).endswith("acc")


def to_metric_units(value: float, metric) -> float:
    """A number the user typed for `metric` (points for an accuracy) in the records' units (a fraction)."""
    return value / POINTS if is_accuracy(metric) else value

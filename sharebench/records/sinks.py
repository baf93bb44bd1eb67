"""Extra destinations for a run's scalars besides its CSV files (conf/logger/): TensorBoard, MLflow.

A sink receives exactly the rows written to metrics.csv and steps.csv, so both views agree:
add_evaluation(row), add_steps(rows), close(); and when it has them, start(config, restored) once
before the first row, add_summary(summary) at every write of summary.json, and flush() before every
checkpoint, to send what it holds back (MLflow: mlflow_sink.py).
"""

import math
from pathlib import Path

from sharebench.errors import UserError, instantiate


def build_sinks(logger_cfg, run_dir: str | Path, config: dict | None = None, restored: list | None = None) -> list:
    """The sinks named by the `logger` config group (none for logger=csv), started with the run's
    flattened `config` and, when it continues from a checkpoint, the evaluation rows it restored."""
    if not logger_cfg or not logger_cfg.get("_target_"):
        return []
    sink = instantiate(logger_cfg, run_dir=str(run_dir))
    if hasattr(sink, "start"):
        sink.start(config or {}, restored)
    return [sink]


class TensorBoardSink:
    """Scalars as TensorBoard events: metrics/<column> per evaluation, steps/<column> per step."""

    def __init__(self, run_dir: str, subdir: str = "tensorboard"):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise UserError(
                'logger=tensorboard needs the tensorboard package: pip install -e ".[tensorboard]" (or use logger=csv)'
            ) from None
        self.writer = SummaryWriter(log_dir=str(Path(run_dir) / subdir))

    def _add(self, prefix: str, row: dict) -> None:
        step = int(row["step"])
        for key, value in row.items():
            if key != "step" and isinstance(value, (int, float)) and math.isfinite(value):
                self.writer.add_scalar(f"{prefix}/{key}", value, step)

    def add_evaluation(self, row: dict) -> None:
        self._add("metrics", row)
        self.writer.flush()  # evaluations are rare: a crash later still leaves everything so far

    def add_steps(self, rows: list[dict]) -> None:
        for row in rows:
            self._add("steps", row)

    def close(self) -> None:
        self.writer.close()

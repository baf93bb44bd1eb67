"""The run directory: atomic writes of summary.json and the CSVs, and reading them back.

Every file is written to a temporary name and renamed, so a run killed at any moment leaves
either the previous complete file or the new one, never half of one. No torch here.
"""
import csv
import json
import math
import os
from pathlib import Path

METRIC_COLUMNS = ["step", "epoch", "elapsed_s", "lr", "train_loss", "train_acc",
                  "val_loss", "val_acc", "test_loss", "test_acc"]
STEP_COLUMNS = ["step", "epoch", "loss", "lr"]
PARAM_COLUMNS = ["name", "shape", "count", "trainable", "bytes", "effective", "sharing"]


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _clean(value):
    """JSON has no NaN/inf: write them as null so every reader can parse the file."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _fmt(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


class RunRecorder:
    """Keeps a run's rows and rewrites its files atomically whenever they change."""

    def __init__(self, run_dir: str | Path, sinks: list | None = None):
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.metrics: list[dict] = []
        self.sinks = sinks or []  # extra destinations (sinks.py): same rows as the CSVs

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()

    def write_csv(self, name: str, rows: list[dict], columns: list[str]) -> None:
        from io import StringIO

        buf = StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_atomic(self.dir / name, buf.getvalue())

    def write_json(self, name: str, record: dict) -> None:
        clean = {k: _clean(v) for k, v in record.items()}
        write_atomic(self.dir / name, json.dumps(clean, indent=2, default=str) + "\n")

    def add_evaluation(self, row: dict) -> None:
        self.metrics.append(row)
        extra = [k for k in row if k not in METRIC_COLUMNS]  # a model's own metrics, test_acc_shift<k>, …
        self.write_csv("metrics.csv", self.metrics, METRIC_COLUMNS + extra)
        for sink in self.sinks:
            sink.add_evaluation(row)

    def add_steps(self, rows: list[dict]) -> None:
        """Append whole lines in one write: rewriting the (long) loss curve at every flush would
        cost time quadratic in the run length; a reader drops a last line cut short by a kill."""
        path = self.dir / "steps.csv"
        lines = [] if path.exists() else [",".join(STEP_COLUMNS)]
        lines += [",".join(_fmt(r[c]) for c in STEP_COLUMNS) for r in rows]
        with open(path, "a") as f:
            f.write("\n".join(lines) + "\n")
        for sink in self.sinks:
            sink.add_steps(rows)

    def write_params(self, table: list[dict]) -> None:
        self.write_csv("params.csv", table, PARAM_COLUMNS)

    def write_summary(self, summary: dict) -> None:
        self.write_json("summary.json", summary)


def read_summary(run_dir: str | Path) -> dict | None:
    """summary.json of a run dir, or None when it is missing or unreadable."""
    try:
        return json.loads((Path(run_dir) / "summary.json").read_text())
    except (OSError, ValueError):
        return None


def read_csv(path: str | Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))

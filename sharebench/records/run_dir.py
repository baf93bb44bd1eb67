"""The run directory: summary.json and the CSVs, written atomically (atomic.py), and read back.

No torch here.
"""

import csv
import json
import math
from pathlib import Path

from sharebench.records.atomic import naming, write_atomic
from sharebench.records.columns import METRIC_COLUMNS, PARAM_COLUMNS, STEP_COLUMNS


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
        self.sinks = sinks or []  # extra destinations (records/sinks.py): same rows as the CSVs

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()

    def flush(self) -> None:
        """At a checkpoint: the sinks that hold rows back (MLflow) send them before it is written."""
        for sink in self.sinks:
            if hasattr(sink, "flush"):
                sink.flush()

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

    def _write_metrics(self) -> None:
        # after the standard columns: a model's own metrics, test_acc_shift<k>, …
        extra = list(dict.fromkeys(k for row in self.metrics for k in row if k not in METRIC_COLUMNS))
        self.write_csv("metrics.csv", self.metrics, METRIC_COLUMNS + extra)

    def add_evaluation(self, row: dict) -> None:
        self.metrics.append(row)
        self._write_metrics()
        for sink in self.sinks:
            sink.add_evaluation(row)

    def add_steps(self, rows: list[dict]) -> None:
        """Append whole lines in one write: rewriting the (long) loss curve at every flush would
        cost time quadratic in the run length; a reader drops a last line cut short by a kill."""
        path = self.dir / "steps.csv"
        lines = [] if path.exists() else [",".join(STEP_COLUMNS)]
        lines += [",".join(_fmt(r[c]) for c in STEP_COLUMNS) for r in rows]
        with naming(path), open(path, "a") as f:
            f.write("\n".join(lines) + "\n")
        for sink in self.sinks:
            sink.add_steps(rows)

    def restore(self, metrics: list[dict], step: int) -> None:
        """Continue an interrupted run: its evaluations so far, and its loss curve cut back to `step`
        (the checkpoint's), so the resumed run neither repeats nor skips a step."""
        self.metrics = list(metrics)
        self._write_metrics()
        path = self.dir / "steps.csv"
        try:
            kept = [r for r in read_csv(path) if _int(r.get("step")) <= step] if path.exists() else []
        except (ValueError, csv.Error):  # not text, or not CSV: the curve so far is lost, not the run
            kept = []
        self.write_csv("steps.csv", kept, STEP_COLUMNS)

    def write_params(self, table: list[dict]) -> None:
        self.write_csv("params.csv", table, PARAM_COLUMNS)

    def write_summary(self, summary: dict) -> None:
        self.write_json("summary.json", summary)
        for sink in self.sinks:
            if hasattr(sink, "add_summary"):  # MLflow: status and provenance as tags
                sink.add_summary(summary)


def _int(text) -> float:
    """A CSV cell as an integer; inf when it is not one (a damaged row sorts after every step)."""
    try:
        return int(text)
    except (TypeError, ValueError):
        return math.inf


def read_summary(run_dir: str | Path) -> dict | None:
    """summary.json of a run dir, or None when it is missing or unreadable."""
    try:
        record = json.loads((Path(run_dir) / "summary.json").read_text())
    except (OSError, ValueError):  # ValueError covers bad JSON and bytes that are not UTF-8
        return None
    return record if isinstance(record, dict) else None


def read_csv(path: str | Path) -> list[dict]:
    """Rows of a CSV. Every write ends its lines with a newline, so a last line without one was cut
    short by a kill mid-append (steps.csv): it is dropped, never misread as a shorter number."""
    text = Path(path).read_text()
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    return list(csv.DictReader(text.splitlines()))

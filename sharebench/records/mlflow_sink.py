"""logger=mlflow: a run in an MLflow tracking store, and a sweep as a parent run with its jobs nested.

The CSV files stay the source of truth; MLflow gets a copy: the flattened config as params, each
evaluation row's metrics at its step, the summary's numbers as metrics and its words (status,
versions, git commit, host) as tags, and at the end the run's records and figures as artifacts.
mlflow is imported here only, and only when logger=mlflow (it takes seconds to import).

A tracker that cannot be reached costs the run nothing: one warning line, and the sink goes quiet.
Files that tie the records to MLflow:
  <run dir>/mlflow_run.json      the run's id, so `resume=` continues the same MLflow run
  <sweep dir>/mlflow_sweep.json  the sweep's parent run, written before its jobs start (Hydra
                                 callback, compare/mlflow_sweep.py); each job, in whatever process
                                 or machine a launcher runs it, finds it above its run dir
"""

import importlib.util
import json
import logging
import math
import os
import queue
import threading
import time
from pathlib import Path

from sharebench.errors import UserError

log = logging.getLogger("sharebench")

MISSING = 'logger=mlflow needs the mlflow package: pip install -e ".[mlflow]" (or use logger=csv)'
RUN_FILE = "mlflow_run.json"
SWEEP_FILE = "mlflow_sweep.json"
# sharebench's status → MLflow's; a diverged run is FAILED in MLflow, its tag sharebench.status says why
STATUS = {"completed": "FINISHED", "diverged": "FAILED", "failed": "FAILED", "interrupted": "KILLED"}
# a tracker that does not answer must not hold a run for minutes (MLflow's defaults: 7 retries with
# exponential backoff, 120 s per request); a value the user set in the environment wins
HTTP_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}
HTTP_ENV |= {"MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
# MLflow 3 reports its own usage over the network around every call: on an offline cluster node that is
# time spent for nothing, and a run's records are the lab's, so it is off unless the user turns it on
HTTP_ENV |= {"MLFLOW_DISABLE_TELEMETRY": "true"}
ARTIFACTS = ("summary.json", "metrics.csv", "steps.csv", "params.csv", "sharebench.log", "plots", ".hydra")
MAX_PARAM, MAX_TAG = 6000, 5000  # MLflow's limits on a param's and a tag's value
CLOSE_WAIT = 300  # seconds close() waits for the queue: each request gives up after ~20 s (HTTP_ENV)
AS_TAGS = ("seed", "pid")  # numbers in summary.json that name something rather than measure it


def _read_json(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def resolve_uri(tracking_uri: str | None) -> str:
    """The store's URI, with a relative SQLite path made absolute: a job that a launcher runs from
    another directory still finds the same database."""
    uri = tracking_uri or "sqlite:///results/mlflow.db"
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        path = Path(uri[len("sqlite:///") :]).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{path}"
    return uri


def connect(tracking_uri: str | None, experiment: str):
    """(client, experiment id, resolved URI); raises whatever the store raises when it cannot be reached."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise UserError(MISSING) from None
    for key, value in HTTP_ENV.items():
        os.environ.setdefault(key, value)
    for name in ("alembic", "mlflow.store.db.utils"):  # a new SQLite store's migrations, a line each
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)  # "Retrying…" before our one warning
    uri = resolve_uri(tracking_uri)
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        return client, found.experiment_id, uri
    artifacts = None
    if uri.startswith("sqlite:///"):  # a local store keeps its artifacts beside its database
        artifacts = (Path(uri[len("sqlite:///") :]).parent / "mlartifacts").as_uri()
    # MLflow 3's UI opens an experiment of this kind on its training runs, not on GenAI traces
    kind = {"mlflow.experimentKind": "custom_model_development"}
    return client, client.create_experiment(experiment, artifact_location=artifacts, tags=kind), uri


def _clip(text, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tags(summary: dict) -> dict[str, str]:
    """The summary's words (status, model, versions, git commit, host…) as sharebench.<key> tags."""
    return {
        f"sharebench.{k}": _clip(v, MAX_TAG)
        for k, v in summary.items()
        if v is not None and (k in AS_TAGS or (_number(v) is None and not isinstance(v, float)))
    }


def _overrides(run_dir: Path) -> list[str]:
    """The job's own overrides, as Hydra saved them in .hydra/overrides.yaml (none outside Hydra)."""
    try:
        import yaml

        found = yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text())
    except (OSError, ValueError, ImportError):
        return []
    return [str(o) for o in found] if isinstance(found, list) else []


def _run_name(overrides: list[str], swept: list[str] | None) -> str:
    """A job by what it varies in its sweep ("model=mlp seed=1"); a single run by its overrides."""
    from sharebench.configs import parse_overrides

    keys = [o.key_or_group for o in parse_overrides(overrides)]
    return " ".join(o for o, k in zip(overrides, keys) if (k in swept if swept else k != "resume"))


def find_sweep(run_dir: Path) -> dict | None:
    """The parent run of the sweep this run dir belongs to, from the nearest mlflow_sweep.json above it."""
    for folder in run_dir.resolve().parents:
        record = _read_json(folder / SWEEP_FILE)
        if record:
            return record
    return None


class MlflowSink:
    """One run in MLflow, kept in step with the run dir's records (records/sinks.py's protocol).

    Everything MLflow does happens on the sink's own thread, in order: the training loop only
    queues work and goes on, so a slow store or network never holds a step (close() waits).
    Evaluation rows and the summary's tags are held and sent together, a call per checkpoint
    (flush()) and one at the end: each call is a few commits to the store, too many when made at
    every evaluation (scripts/bench/mlflow_cost.py); the checkpoint is what a killed run continues
    from, so MLflow keeps up with it."""

    def __init__(self, run_dir: str, tracking_uri: str | None = None, experiment: str = "sharebench"):
        self.dir = Path(run_dir)
        self.tracking_uri, self.experiment = tracking_uri, experiment
        self.client = self.run_id = self.thread = None
        self.opened = 0
        self.summary: dict = {}  # the last summary.json written …
        self.tagged: dict = {}  # … and the last one sent as tags
        self.step = 0
        self.failed = False
        self.work: queue.Queue = queue.Queue()
        self.held: list[tuple[int, dict]] = []  # evaluations (ms since the epoch, row) not yet sent

    def _failed(self, err: Exception) -> None:
        """Say it once, then stay quiet: the run and its CSV records go on as if logger=csv."""
        self.failed = True
        log.warning(
            "sharebench: MLflow at %s cannot be reached (%s: %s); the run goes on, records in CSV only",
            self.tracking_uri or "sqlite:///results/mlflow.db",
            type(err).__name__,
            str(err).splitlines()[0][:200] if str(err) else "",
        )

    def _submit(self, fn, *args) -> None:
        if self.thread is not None and not self.failed:
            self.work.put((fn, args))

    def _drain(self) -> None:
        while (item := self.work.get()) is not None:
            if isinstance(item, threading.Event):  # flush() waits for the work queued before it
                item.set()
                continue
            fn, args = item
            if self.failed:
                continue
            try:
                fn(*args)
            except Exception as err:
                self._failed(err)

    def start(self, config: dict, restored: list[dict] | None) -> None:
        """Open the MLflow run (on the sink's thread): the one in mlflow_run.json when the run resumes
        (`restored`: its evaluations so far), else a new one, nested under its sweep's parent run when
        there is one, with the config as params."""
        if importlib.util.find_spec("mlflow") is None:
            raise UserError(MISSING)
        self.opened = int(time.time() * 1000)  # the time of the restored rows: before any new one
        self.thread = threading.Thread(target=self._drain, name="sharebench-mlflow", daemon=True)
        self.thread.start()
        self._submit(self._open, config, restored)

    def add_evaluation(self, row: dict) -> None:
        self.held.append((int(time.time() * 1000), dict(row)))  # MLflow shows when it was measured

    def _take_held(self) -> tuple[list[dict], list[int], dict]:
        """The rows held, their times, and the summary when its tags changed since last sent."""
        held, self.held = self.held, []
        summary = self.summary if self.summary != self.tagged else {}
        self.tagged = self.summary
        return [row for _, row in held], [ms for ms, _ in held], summary

    def _send_held(self) -> None:
        rows, stamps, summary = self._take_held()
        if rows or summary:
            self._submit(self._log_rows, rows, stamps, summary)

    def flush(self) -> None:
        """At every checkpoint: the evaluations held so far go to MLflow, and once MLflow's run is open
        the checkpoint waits for them, so MLflow holds every evaluation a killed run's checkpoint holds
        (the loop stretches the interval between checkpoints to keep that wait a small share of the
        time). Before, the run trains on while MLflow is imported and the run opened: a resume logs
        what a kill left out (_log_missing)."""
        self._send_held()
        if self.thread is not None and not self.failed and self.run_id is not None:
            done = threading.Event()
            self.work.put(done)
            done.wait(timeout=CLOSE_WAIT)

    def add_steps(self, rows: list[dict]) -> None:
        """The loss curve stays in steps.csv (an artifact at the end): a call per flush would cost more
        than it shows."""

    def add_summary(self, summary: dict) -> None:
        """Every summary.json write: its words go as tags with the next rows sent."""
        self.summary = dict(summary)

    def close(self) -> None:
        """The rows still held, the summary's numbers and words, the records as artifacts, the run's end
        status; then wait for the sink's thread to finish its queue."""
        if self.thread is None:
            return
        self._submit(self._finish, *self._take_held(), dict(self.summary))
        self.work.put(None)
        self.thread.join(timeout=CLOSE_WAIT)
        self.thread = None

    # ---- on the sink's thread ----------------------------------------------------------------------

    def _open(self, config: dict, restored: list[dict] | None) -> None:
        sweep = find_sweep(self.dir)
        if sweep:  # a job logs where its sweep's parent run is, whatever its own config says
            self.tracking_uri, self.experiment = sweep["tracking_uri"], sweep["experiment"]
        client, experiment_id, uri = connect(self.tracking_uri, self.experiment)
        self.tracking_uri = uri
        before = _read_json(self.dir / RUN_FILE)
        if before and before.get("tracking_uri") == uri:
            if restored is not None:  # the same MLflow run goes on
                client.update_run(before["run_id"], status="RUNNING")
                self.client, self.run_id = client, before["run_id"]
                self._log_missing(restored)
                return
            if client.get_run(before["run_id"]).info.status == "RUNNING":  # killed, now started over
                client.set_terminated(before["run_id"], "KILLED")
        overrides = _overrides(self.dir)
        tags = {"sharebench.run_dir": str(self.dir.resolve()), "sharebench.seed": str(config.get("seed"))}
        if overrides:
            tags["sharebench.overrides"] = _clip(" ".join(overrides), MAX_TAG)
        if sweep:
            tags["mlflow.parentRunId"] = sweep["run_id"]
        name = _run_name(overrides, (sweep or {}).get("swept")) or self.dir.name
        run = client.create_run(experiment_id, run_name=_clip(name, 250), tags=tags)
        self.client, self.run_id = client, run.info.run_id
        from mlflow.entities import Param

        params = [Param(k[:250], _clip("null" if v is None else v, MAX_PARAM)) for k, v in sorted(config.items())]
        for i in range(0, len(params), 100):  # MLflow takes at most 100 params per call
            client.log_batch(self.run_id, params=params[i : i + 100])
        from sharebench.records.atomic import write_atomic

        record = {"tracking_uri": uri, "experiment": self.experiment, "run_id": self.run_id}
        self.dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.dir / RUN_FILE, json.dumps(record, indent=2) + "\n")
        self._log_rows(restored or [])  # resumed, but never logged here before (it ran with logger=csv)

    def _log_missing(self, rows: list[dict]) -> None:
        """Rows of a killed run's checkpoint that did not reach MLflow before the kill: log them now."""
        logged = {m.step for m in self.client.get_metric_history(self.run_id, "train_loss")}
        self._log_rows([row for row in rows if int(row["step"]) not in logged])

    def _row_metrics(self, rows: list[dict], stamps: list[int] | None = None) -> list:
        """Each metric of the evaluation rows at its row's step and time (the run's start, for rows of
        a checkpoint)."""
        from mlflow.entities import Metric

        if rows:
            self.step = int(rows[-1]["step"])
        stamps = stamps or [self.opened] * len(rows)
        return [
            Metric(k, v, ms, int(row["step"]))
            for row, ms in zip(rows, stamps)
            for k, v in row.items()
            if k != "step" and _number(v) is not None
        ]

    def _log_rows(self, rows: list[dict], stamps: list[int] | None = None, summary: dict | None = None) -> None:
        self._log_batch(self._row_metrics(rows, stamps), summary or {})

    def _log_batch(self, metrics: list, summary: dict) -> None:
        """Metrics, and a summary's words as tags, in as few calls as MLflow takes."""
        from mlflow.entities import RunTag

        tags = [RunTag(k, v) for k, v in _tags(summary).items()]
        while metrics or tags:  # at most 1000 items per call, 100 of them tags
            some_tags, tags = tags[:100], tags[100:]
            cut = 1000 - len(some_tags)
            some, metrics = metrics[:cut], metrics[cut:]
            self.client.log_batch(self.run_id, metrics=some, tags=some_tags)

    def _finish(self, rows: list[dict], stamps: list[int], tagged: dict, summary: dict) -> None:
        """In one call (when they fit) the rows held, the summary's numbers as metrics and its words
        as tags (when changed); then the records as artifacts and the end status. A run closed while
        its summary still says `running` ended in an exception: FAILED."""
        from mlflow.entities import Metric

        metrics = self._row_metrics(rows, stamps)
        step = int(summary.get("steps") or self.step)
        now = int(time.time() * 1000)
        metrics += [
            Metric(k, _number(v), now, step) for k, v in summary.items() if k not in AS_TAGS and _number(v) is not None
        ]
        self._log_batch(metrics, tagged)
        for name in ARTIFACTS:
            path = self.dir / name
            if path.is_dir():
                self.client.log_artifacts(self.run_id, str(path), name)
            elif path.is_file():
                self.client.log_artifact(self.run_id, str(path))
        self.client.set_terminated(self.run_id, STATUS.get(summary.get("status", "running"), "FAILED"))


def start_sweep(sweep_dir: Path, tracking_uri: str | None, experiment: str, params: dict, swept: list[str]) -> None:
    """The sweep's parent run, before its jobs start: a new one, or the one a resumed sweep already has."""
    client, experiment_id, uri = connect(tracking_uri, experiment)
    before = _read_json(sweep_dir / SWEEP_FILE)
    if before and before.get("tracking_uri") == uri:
        client.update_run(before["run_id"], status="RUNNING")
        return
    from mlflow.entities import Param

    run = client.create_run(
        experiment_id,
        run_name=_clip(f"sweep {sweep_dir.parent.name}/{sweep_dir.name}", 250),
        tags={"sharebench.sweep_dir": str(sweep_dir.resolve()), "sharebench.kind": "sweep"},
    )
    client.log_batch(run.info.run_id, params=[Param(k[:250], _clip(v, MAX_PARAM)) for k, v in params.items()])
    from sharebench.records.atomic import write_atomic

    sweep_dir.mkdir(parents=True, exist_ok=True)
    record = {"tracking_uri": uri, "experiment": experiment, "run_id": run.info.run_id, "swept": swept}
    write_atomic(sweep_dir / SWEEP_FILE, json.dumps(record, indent=2) + "\n")


def end_sweep(sweep_dir: Path, folders: list[Path], failed: bool) -> None:
    """The sweep's comparison (its files) as the parent run's artifacts, and the parent's end status."""
    record = _read_json(sweep_dir / SWEEP_FILE)
    if not record:
        return
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=record["tracking_uri"])
    for folder in folders:
        if folder.is_dir():
            client.log_artifacts(record["run_id"], str(folder), folder.name)
    if (sweep_dir / "multirun.yaml").is_file():
        client.log_artifact(record["run_id"], str(sweep_dir / "multirun.yaml"))
    client.set_terminated(record["run_id"], "FAILED" if failed else "FINISHED")

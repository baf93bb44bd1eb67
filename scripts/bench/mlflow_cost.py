"""Bench part: what logger=mlflow costs a run, against logger=csv, on the default run (shared_cnn on
MNIST-1D, 50 epochs, an evaluation per epoch). Goal: ≤ 5% of the run's training time.

Both loggers train the same configuration, interleaved in this one process (alternating which goes
first), into a local SQLite store made before the clock starts (a new store's schema migrations and
`import mlflow` are paid once per store and per process: reported on their own rows). The time spent
in the MLflow sink is clocked around its calls: on the training thread (a row held; at a checkpoint,
the wait for the rows held so far to reach MLflow) and on the sink's own thread (MLflow's work, which
overlaps training); the whole run's wall-clock
difference is what the run pays: each pair's difference as a share of its own csv run's training
time, the median over the pairs. On a shared, loaded machine that difference follows the load more
than the logger (it came out negative there, both before and after the sink held its rows), so the
goal is judged on the CPU time of the process (every thread: training and the sink's), paired the
same way: the work the logger adds, which a machine with no core to spare takes from training.

Run alone:  python scripts/bench/mlflow_cost.py [--quick] [--device auto]  → results/bench/mlflow_cost.md
(--quick: 5 epochs, 2 repeats: a smoke test, not a measurement)
"""

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
GOAL = 0.05  # of the run's training time


def _compose(*overrides):
    from sharebench.configs import compose

    return compose(overrides)


@contextlib.contextmanager
def _clocked(cls, names: list[str], spent: dict):
    """Add the seconds spent in cls.<name> to spent[name] while inside (a name cls lacks is left out)."""
    originals = {name: getattr(cls, name) for name in names if hasattr(cls, name)}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name].append(time.perf_counter() - start)

        return wrapper

    for name, fn in originals.items():
        setattr(cls, name, timed(name, fn))
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(cls, name, fn)


def _import_seconds() -> float:
    """`import mlflow` (the client) in a fresh interpreter, minus the interpreter's own start."""

    def clock(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    return clock("from mlflow.tracking import MlflowClient") - clock("pass")


def _fresh_runs(device, epochs: int, uri: str, tmp: Path, pairs: int) -> dict[str, list[float]]:
    """Wall seconds of whole `sharebench run` commands, each in a new process, so `import mlflow` and
    the thread it runs on count as a user pays them: the two loggers alternate, pair by pair."""
    exe = str(Path(sys.executable).with_name("sharebench"))
    base = [f"device={device}", f"trainer.epochs={epochs}", "trainer.progress=false"]
    loggers = {"csv": ["logger=csv"], "mlflow": ["logger=mlflow", f"logger.tracking_uri={uri}"]}
    wall = {name: [] for name in loggers}
    for r in range(pairs):
        for name in list(loggers) if r % 2 == 0 else reversed(list(loggers)):
            start = time.perf_counter()
            args = [exe, "run", *base, *loggers[name], f"hydra.run.dir={tmp / f'fresh-{name}{r}'}"]
            subprocess.run(args, check=True, capture_output=True)
            wall[name].append(time.perf_counter() - start)
    return wall


def measure(device, quick: bool) -> list[dict]:
    from sharebench.records.mlflow_sink import MlflowSink, connect
    from sharebench.records.run_dir import read_csv
    from sharebench.run import experiment

    epochs, repeats = (5, 2) if quick else (50, 5)
    base = [f"device={device}", f"trainer.epochs={epochs}", "trainer.progress=false"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
        start = time.perf_counter()
        connect(uri, "sharebench")  # a new store: its schema migrations, once
        new_store = time.perf_counter() - start
        variants = {
            "csv": _compose(*base, "logger=csv"),
            "mlflow": _compose(*base, "logger=mlflow", f"logger.tracking_uri={uri}"),
        }
        wall = {name: [] for name in variants}
        cpu = {name: [] for name in variants}  # CPU seconds of every thread of this process
        train = {name: [] for name in variants}
        # the training thread's calls, and the sink thread's work (MLflow's own time, off the step loop)
        spent = {n: [] for n in ("add_evaluation", "flush", "close", "_open", "_log_rows", "_finish")}
        spent |= {"_log_row": [], "_log_summary": []}  # the sink before it held rows: a call per evaluation
        evaluations = 0
        with _clocked(MlflowSink, list(spent), spent):
            with contextlib.redirect_stdout(io.StringIO()):
                experiment.run(variants["mlflow"], Path(tmp) / "warmup")  # imports, data cache, first compiles
            fresh = _fresh_runs(device, epochs, uri, Path(tmp), 2)
            for name in spent:
                spent[name].clear()
            for r in range(repeats):
                for name in list(variants) if r % 2 == 0 else reversed(list(variants)):
                    run_dir = Path(tmp) / f"{name}{r}"
                    begin, begin_cpu = time.perf_counter(), time.process_time()
                    with contextlib.redirect_stdout(io.StringIO()):  # the summary lines
                        summary = experiment.run(variants[name], run_dir)
                    wall[name].append(time.perf_counter() - begin)
                    cpu[name].append(time.process_time() - begin_cpu)
                    train[name].append(summary["train_seconds"])
                    evaluations = len(read_csv(run_dir / "metrics.csv"))
    held = statistics.median(spent["add_evaluation"])  # what a step loop waits for: a row kept in a list
    per_eval = (
        sum(spent["_log_rows"] + spent["_log_row"]) / repeats / evaluations
    )  # rows sent at checkpoints, on the sink's thread
    flushed = sum(spent["flush"]) / repeats  # checkpoints waiting for the rows held to reach MLflow
    opened = sum(spent["_open"]) / repeats  # the MLflow run made, the config as params
    finished = (
        sum(spent["_finish"] + spent["_log_summary"]) / repeats
    )  # the rows still held, the summary, artifacts, end status
    waited = sum(spent["close"]) / repeats  # close() waits for what is still queued
    train_s = statistics.median(train["csv"])
    # each pair's own share (its runs back to back, under the same load), then the median of the pairs
    shares = [(m - c) / t for m, c, t in zip(wall["mlflow"], wall["csv"], train["csv"])]
    extra = statistics.median(shares) * train_s
    # the work the logger adds, whatever the load: on a machine with no core to spare, what the run pays
    worked = statistics.median((m - c) / t for m, c, t in zip(cpu["mlflow"], cpu["csv"], train["csv"])) * train_s
    case = f"default run ({epochs} epochs, {evaluations} evaluations) on {device}"

    def row(what, ms, share, goal="—"):  # share: of the csv run's training time
        return {
            "case": case,
            "cost": what,
            "ms": round(ms, 1),
            "of_training_time": f"{100 * share:.2f}%" if share is not None else "—",
            "goal": goal,
        }

    rows.append(row("per evaluation, on the training thread (hold a row)", 1e3 * held, held * evaluations / train_s))
    rows.append(
        row(
            "per evaluation, on the sink's thread (held rows sent at a checkpoint)",
            1e3 * per_eval,
            per_eval * evaluations / train_s,
        )
    )
    rows.append(row("per run, checkpoints waiting for MLflow (flush)", 1e3 * flushed, flushed / train_s))
    rows.append(row("per run, on the sink's thread: open (the config as params)", 1e3 * opened, opened / train_s))
    end = "per run, on the sink's thread: at the end (rows still held, summary, artifacts, status)"
    rows.append(row(end, 1e3 * finished, finished / train_s))
    rows.append(row("per run, close() waiting for the sink's thread", 1e3 * waited, waited / train_s))
    rows.append(row("whole run in this process, wall clock: mlflow minus csv", 1e3 * extra, extra / train_s))
    rows.append(row("whole run in this process, CPU time: mlflow minus csv", 1e3 * worked, worked / train_s, "≤ 5%"))
    extra_fresh = statistics.median(m - c for m, c in zip(fresh["mlflow"], fresh["csv"]))
    rows.append(
        row(
            "whole `sharebench run` in a new process (import included): mlflow minus csv",
            1e3 * extra_fresh,
            extra_fresh / train_s,
        )
    )
    imported = _import_seconds()
    rows.append(row("once per process: import mlflow (on the sink's thread)", 1e3 * imported, imported / train_s))
    rows.append(row("once per store: a new SQLite store's schema", 1e3 * new_store, None))
    return rows


def markdown(rows: list[dict]) -> str:
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    return "\n".join(lines + ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results/bench")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import torch

    from sharebench.train.devices import pick_device

    device = pick_device(args.device)
    rows = measure(device, args.quick)
    header = (
        f"logger=mlflow against logger=csv on {device} ({os.cpu_count()} CPUs, torch {torch.__version__}), "
        f"{time.strftime('%Y-%m-%d')}: `python scripts/bench/mlflow_cost.py {' '.join(sys.argv[1:])}`\n\n"
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "mlflow_cost.md").write_text(header + markdown(rows))
    print(header + markdown(rows))


if __name__ == "__main__":
    main()

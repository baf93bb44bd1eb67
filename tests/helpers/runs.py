"""Running, stopping and reading runs in tests: a `sharebench run` process, its curves, a stop after
N steps, a snapshot of a run dir's bytes, a process that holds a run dir's lock."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from sharebench.records.run_dir import read_csv

EXE = str(Path(sys.executable).with_name("sharebench"))


def curves(run_dir: Path) -> tuple[list, list]:
    """metrics.csv without wall-clock time, and steps.csv: what must match bit for bit."""
    metrics = [{k: v for k, v in r.items() if k != "elapsed_s"} for r in read_csv(run_dir / "metrics.csv")]
    return metrics, read_csv(run_dir / "steps.csv")


def start(*args: str, cwd: Path) -> subprocess.Popen:
    """`sharebench run ARGS` as its own process, one thread, output captured."""
    return subprocess.Popen(
        [EXE, "run", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def wait_for(predicate, timeout=60.0):
    end = time.time() + timeout
    while not predicate():
        assert time.time() < end, "timed out waiting"
        time.sleep(0.05)


def training_started(run_dir: Path) -> bool:
    return (run_dir / "steps.csv").exists() and len(read_csv(run_dir / "steps.csv")) > 0


def stopper(after: int):
    """A should_stop that turns true at its `after`-th call (the loop asks once per step)."""
    calls = iter(range(10**9))
    return lambda: next(calls) >= after


def one_thread():
    """Subprocesses run with OMP_NUM_THREADS=1; in-process runs compared with them must too."""
    import torch

    @contextlib.contextmanager
    def scope():
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)

    return scope()


def dir_bytes(root: Path) -> dict[str, bytes]:
    """Every file under `root` (hidden ones included) → its bytes: what a refused command must not change."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


HOLD = """
import sys, time
from sharebench.records.lock import RunLock
lock = RunLock(sys.argv[1]).acquire()
lock.claim()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


@contextlib.contextmanager
def held(run_dir: Path, seconds: float = 120.0):
    """Another process holding `run_dir`'s lock (as a training run would) while the block runs."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir), str(seconds)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=30)

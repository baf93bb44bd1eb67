"""Run dirs in tests: written by hand as `sharebench run` lays them out (make_run, for comparison
tests that need exact numbers or many groups), and running, stopping and reading real runs: a `sharebench run` process, its curves, a stop after
N steps, a snapshot of a run dir's bytes, a process that holds a run dir's lock."""

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from helpers.commands import EXE, wait_for  # noqa: F401  (wait_for: for the tests that import it from here)
from sharebench.records.run_dir import read_csv


def make_run(
    root: Path,
    name: str,
    model: str,
    seed: int,
    acc: float,
    *,
    params=10_000,
    effective=None,
    extra: dict | None = None,
    config: dict | None = None,
    evals=((30, 1.0, 0.5),),
    summary=None,
) -> Path:
    """One completed run: `extra` are overrides beside model and seed (also written into the config),
    `evals` the (step, test_loss, test_acc) rows of metrics.csv."""
    run = root / name
    (run / ".hydra").mkdir(parents=True)
    extra = extra or {}
    overrides = [f"model={model}", f"seed={seed}", *(f"{k}={v}" for k, v in extra.items())]
    cfg = {
        "model": {"_target_": "m.Net", "width": 8},
        "optim": {"lr": 0.01},
        "trainer": {"max_steps": 30},
        "dataset": {"train_size": None},
        "seed": seed,
        **(config or {}),
    }
    for key, value in extra.items():
        node = cfg
        *path, leaf = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = value
    (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (run / ".hydra" / "config.yaml").write_text(yaml.safe_dump(cfg))
    (run / ".hydra" / "hydra.yaml").write_text(
        yaml.safe_dump({"hydra": {"runtime": {"choices": {"model": model, "dataset": "synthetic", "optim": "adam"}}}})
    )
    record = {
        "status": "completed",
        "model": model,
        "dataset": "synthetic",
        "seed": seed,
        "final_test_acc": acc,
        "final_test_loss": 1 - acc,
        "params_total": params,
        "train_size": 200,
        "torch_version": "2.4.0",
        "git_commit": "abc123",
        "device": "cpu",
        **({"params_effective": effective} if effective else {}),
        **(summary or {}),
    }
    (run / "summary.json").write_text(json.dumps(record))
    rows = ["step,train_loss,test_loss,test_acc"] + [f"{s},{loss},{loss},{a}" for s, loss, a in evals]
    (run / "metrics.csv").write_text("\n".join(rows) + "\n")
    return run


def fraction_sweep(root: Path, models=("shared_cnn", "local_cnn"), fractions=(0.01, 0.1, 1.0), seeds=2) -> None:
    """Runs of `models` × dataset.train_fraction × seeds, as the sample-efficiency preset makes them:
    accuracy grows with the fraction (0.5 + fraction / 3) and falls a point a seed."""
    for model in models:
        for fraction in fractions:
            for seed in range(seeds):
                accuracy = 0.5 + fraction / 3 - seed / 100
                extra = {"dataset.train_fraction": fraction}
                make_run(root, f"{model}-{fraction}-{seed}", model, seed, accuracy, extra=extra)


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

"""Whole `sharebench run` processes, start to summary: the default run, and the MNIST-1D paper's CNN
trained until it reaches TARGET percent test accuracy (the default run has no target)."""

import csv
import json
import subprocess
import tempfile
import time
from pathlib import Path

from scripts.bench.harness import sharebench_exe

TARGET = 90  # percentage points of test accuracy (metrics.csv holds fractions)
JOBS = (
    ("default `sharebench run`", [], None),
    (
        f"MNIST-1D paper CNN (mnist1d_cnn), to {TARGET}% test accuracy",
        ["model=mnist1d_cnn", "trainer.epochs=100"],
        TARGET,
    ),
)


def measure(device, quick: bool) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        return [
            _job(Path(tmp) / str(i), label, args, target, device)
            for i, (label, args, target) in enumerate(JOBS[: 1 if quick else None])
        ]


def _job(run_dir: Path, label: str, args: list[str], target, device) -> dict:
    start = time.perf_counter()
    command = [sharebench_exe(), "run", *args, f"hydra.run.dir={run_dir}", f"device={device}", "trainer.progress=false"]
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - start
    summary = json.loads((run_dir / "summary.json").read_text())
    row = {
        "job": label,
        "process_wall_s": round(wall, 2),
        "train_s": summary["train_seconds"],
        "final_test_acc_pct": round(100 * summary["final_test_acc"], 2),
        "seconds_to_target": "— (no target)",
        "steps_to_target": "— (no target)",
    }
    if target is not None:
        with open(run_dir / "metrics.csv") as f:
            hit = next((r for r in csv.DictReader(f) if 100 * float(r["test_acc"]) >= target), None)
        if hit is None:  # a row without its measure is no row: say why instead of writing nan
            raise RuntimeError(
                f"{label}: never reached {target}% (final {row['final_test_acc_pct']}%): raise its epochs"
            )
        row.update(seconds_to_target=float(hit["elapsed_s"]), steps_to_target=int(hit["step"]))
    return row

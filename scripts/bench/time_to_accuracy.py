"""Whole `sharebench run` processes, start to summary: the default run, and the MNIST-1D paper's CNN
trained until it reaches 90% test accuracy."""

import csv
import json
import math
import subprocess
import tempfile
import time
from pathlib import Path

from scripts.bench.harness import sharebench_exe


def measure(device, quick: bool) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, args in (
            ("default `sharebench run`", []),
            ("MNIST-1D paper CNN (mnist1d_cnn), to 90% test accuracy", ["model=mnist1d_cnn", "trainer.epochs=100"]),
        ):
            run_dir = Path(tmp) / str(len(rows))
            start = time.perf_counter()
            subprocess.run(
                [
                    sharebench_exe(),
                    "run",
                    *args,
                    f"hydra.run.dir={run_dir}",
                    f"device={device}",
                    "trainer.progress=false",
                ],
                check=True,
                capture_output=True,
            )
            wall = time.perf_counter() - start
            summary = json.loads((run_dir / "summary.json").read_text())
            with open(run_dir / "metrics.csv") as f:
                metrics = list(csv.DictReader(f))
            hit = next((r for r in metrics if float(r["test_acc"]) >= 0.9), None)
            rows.append(
                {
                    "job": label,
                    "process_wall_s": round(wall, 2),
                    "train_s": summary["train_seconds"],
                    "final_test_acc": summary["final_test_acc"],
                    "seconds_to_90pct": float(hit["elapsed_s"]) if hit else math.nan,
                    "steps_to_90pct": int(hit["step"]) if hit else None,
                }
            )
            if quick:
                break
    return rows

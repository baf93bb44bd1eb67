"""experiment.run writes a complete run directory; the Hydra command does the same from any cwd."""

import csv
import json
import math

from helpers.commands import sharebench
from helpers.configs import TINY, make_cfg

from sharebench.records.columns import METRIC_COLUMNS, PARAM_COLUMNS, STEP_COLUMNS
from sharebench.run import experiment


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_run_writes_every_record(tmp_path):
    cfg = make_cfg(*TINY, "model=shared_cnn", "trainer.epochs=3")
    summary = experiment.run(cfg, tmp_path, choices={"model": "shared_cnn", "dataset": "synthetic", "optim": "adam"})
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk == json.loads(json.dumps(summary, default=str).replace("NaN", "null"))
    assert on_disk["status"] == "completed" and on_disk["model"] == "shared_cnn"
    for key in (
        "params_total",
        "params_trainable",
        "params_frozen",
        "final_test_acc",
        "best_test_acc",
        "final_val_acc",
        "best_val_acc",
        "final_test_loss",
        "train_seconds",
        "samples_per_second",
        "torch_version",
        "device",
        "seed",
        "dataset",
    ):
        assert on_disk[key] is not None, key
    assert (
        on_disk["params_total"]
        == on_disk["params_trainable"]
        == (16 * 9 + 16) + (32 * 16 * 9 + 32) + (32 * 64 * 10 + 10)
    )

    metrics = rows(tmp_path / "metrics.csv")
    # the standard columns, then where each block sits (models/position_maps.py): a conv at (1, 1)
    position_maps = [f"conv{i}_{k}" for i in (1, 2) for k in ("locality", "sharing")]
    assert list(metrics[0]) == METRIC_COLUMNS + position_maps and len(metrics) == 3
    assert all(float(metrics[-1][c]) == 1.0 for c in position_maps)
    assert math.isclose(float(metrics[-1]["test_acc"]), on_disk["final_test_acc"])
    steps = rows(tmp_path / "steps.csv")
    assert list(steps[0]) == STEP_COLUMNS and [int(s["step"]) for s in steps] == list(range(1, 13))
    params = rows(tmp_path / "params.csv")
    assert list(params[0]) == PARAM_COLUMNS
    assert [(p["name"], p["shape"]) for p in params][:2] == [("conv1.weight", "16x1x3x3"), ("conv1.bias", "16")]
    assert sum(int(p["count"]) for p in params) == on_disk["params_total"]
    assert (tmp_path / "plots" / "loss.png").stat().st_size > 10_000
    assert (tmp_path / "plots" / "accuracy.png").stat().st_size > 10_000


def test_command_writes_hydra_run_dir_under_cwd(tmp_path):
    out = sharebench("run", *TINY, "trainer.epochs=2", "model=local_cnn", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (run_dir,) = (tmp_path / "results" / "runs").glob("*/*")
    assert run_dir.name.endswith("_local_cnn_synthetic")
    for name in (
        ".hydra/config.yaml",
        ".hydra/overrides.yaml",
        "sharebench.log",
        "summary.json",
        "metrics.csv",
        "steps.csv",
        "params.csv",
        "plots/loss.png",
    ):
        assert (run_dir / name).exists(), name
    assert "completed" in out.stdout and str(run_dir.relative_to(tmp_path)) in out.stdout
    assert "parameters" in out.stdout and "accuracy" in out.stdout


def test_multirun_makes_one_dir_per_job(tmp_path):
    out = sharebench(
        "run", "-m", *TINY, "trainer.max_steps=3", "model=shared_cnn,local_cnn,mlp", "seed=0,1,2", cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    summaries = [json.loads(p.read_text()) for p in (tmp_path / "results" / "multirun").glob("*/*/*/summary.json")]
    assert len(summaries) == 9
    assert sorted((s["model"], s["seed"]) for s in summaries) == sorted(
        (m, s) for m in ("shared_cnn", "local_cnn", "mlp") for s in (0, 1, 2)
    )
    assert all(s["status"] == "completed" for s in summaries)


def test_runs_started_together_never_share_a_dir(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    exe = str(Path(sys.executable).with_name("sharebench"))
    args = [exe, "run", *TINY, "trainer.max_steps=2", "trainer.plots=false", "model=mlp"]
    procs = [subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(3)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    assert len(list((tmp_path / "results" / "runs").glob("*/*/summary.json"))) == 3


def test_a_diverged_run_says_what_to_try():
    from sharebench.run.recording import format_summary

    summary = {
        "model": "mlp",
        "dataset": "synthetic",
        "seed": 0,
        "status": "diverged",
        "params_total": 10,
        "params_trainable": 10,
        "params_frozen": 0,
        "task": "classification",
        "final_test_acc": 0.1,
        "final_val_acc": 0.1,
        "best_val_acc": 0.1,
        "final_test_loss": float("nan"),
        "final_val_loss": float("nan"),
        "final_train_loss": float("nan"),
        "train_seconds": 1.0,
        "steps": 5,
        "samples_per_second": 10.0,
        "device": "cpu",
        "run_dir": "results/runs/x",
    }
    text = format_summary(summary, make_cfg("optim.lr=5"))
    assert "optim.lr (now 5)" in text and "trainer.grad_clip" in text
    assert "diverged" not in format_summary({**summary, "status": "completed"}, None).split("\n", 1)[1]

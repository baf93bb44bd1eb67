"""Run dirs: written by hand as `sharebench run` lays them out (for the comparison tests that need
exact numbers or many groups rather than a real sweep), and read back for bit-for-bit comparisons."""

import json
from pathlib import Path

import yaml

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


def curves(run_dir: Path) -> tuple[list, list]:
    """metrics.csv without wall-clock time, and steps.csv: what must match bit for bit."""
    metrics = [{k: v for k, v in r.items() if k != "elapsed_s"} for r in read_csv(run_dir / "metrics.csv")]
    return metrics, read_csv(run_dir / "steps.csv")

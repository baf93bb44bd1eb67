"""Hydra launcher plugins (the `launchers` extra): a real sweep with joblib and with submitit_local
gives the same comparison. Skipped when the plugins are not installed."""
import pandas as pd
import pytest

from conftest import TINY, sharebench

SWEEP = ("model=shared_cnn,mlp", "seed=0,1", *TINY, "trainer.max_steps=2", "trainer.plots=false")


def sweep_with(launcher: str, cwd, *extra) -> pd.DataFrame:
    out = sharebench("run", "-m", f"hydra/launcher={launcher}", *SWEEP, *extra, cwd=cwd,
                     env={"OMP_NUM_THREADS": "1"}, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    (sweep,) = (cwd / "results" / "multirun").glob("*/*")
    assert sorted(p.name for p in sweep.iterdir() if p.name.isdigit()) == ["0", "1", "2", "3"]
    plotted = sharebench("plot", str(sweep), "--out", str(cwd / "cmp"), cwd=cwd)
    assert plotted.returncode == 0, plotted.stderr
    return pd.read_csv(cwd / "cmp" / "comparison.csv")


@pytest.mark.slow
def test_joblib_and_submitit_local_sweeps_compare_the_same(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    (tmp_path / "joblib").mkdir()
    (tmp_path / "submitit").mkdir()
    joblib = sweep_with("joblib", tmp_path / "joblib", "hydra.launcher.n_jobs=2")
    submitit = sweep_with("submitit_local", tmp_path / "submitit", "hydra.launcher.timeout_min=10")
    assert list(joblib["group"]) == list(submitit["group"]) == ["shared_cnn", "mlp"]
    assert joblib["n"].tolist() == submitit["n"].tolist() == [2, 2]
    for column in ("final_test_acc_mean", "final_test_acc_std", "final_test_loss_mean", "params_total_mean"):
        assert joblib[column].tolist() == pytest.approx(submitit[column].tolist(), rel=1e-5), column


def test_launcher_overrides_pass_the_preflight(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    out = sharebench("run", "hydra/launcher=submitit_slurm", "hydra.launcher.partition=gpu",
                     "hydra.launcher.gpus_per_node=1", "hydra.launcher.tasks_per_node=1",
                     "hydra.launcher.timeout_min=60", "hydra.launcher.mem_gb=16", "model=mlp",
                     "--cfg", "hydra", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "partition: gpu" in out.stdout and "gpus_per_node: 1" in out.stdout

"""The Optuna sweeper preset (the `optuna` extra): skipped when the plugin is not installed."""
import pytest
import yaml

from conftest import TINY, sharebench


def test_tune_lr_preset_searches_the_interval(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    out = sharebench("run", "-m", "experiment=tune_lr", "hydra.sweeper.n_trials=2", "optim.lr=interval(0.001,0.01)",
                     *TINY, "trainer.max_steps=2", "trainer.plots=false", cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    (sweep,) = (tmp_path / "results" / "multirun").glob("*/*")
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert 0.001 <= best["best_params"]["optim.lr"] <= 0.01  # the command line's interval beat the preset's
    assert 0.0 <= best["best_value"] <= 1.0  # a validation accuracy
    assert sorted(p.name for p in sweep.iterdir() if p.name.isdigit()) == ["0", "1"]
    assert "sharebench comparison: 2 runs (2 completed)" in out.stdout and "by optim.lr" in out.stdout

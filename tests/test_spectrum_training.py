"""The spectrum's training hooks, through the real loop and run records: soft tying pulls kernels
together, dynamic sharing makes them equal, untying switches mid-run and resumes exactly."""

import math

import pytest
from helpers.configs import TINY, make_cfg

from sharebench.records.checkpoints import load_checkpoint
from sharebench.records.run_dir import read_csv
from sharebench.run import experiment

RUN = (*TINY, "trainer.max_steps=12", "trainer.eval_every=4", "trainer.plots=false")


def last_row(run_dir):
    return read_csv(run_dir / "metrics.csv")[-1]


def test_soft_tying_pulls_the_kernels_toward_their_mean(tmp_path):
    free = experiment.run(make_cfg(*RUN, "model=local_cnn"), tmp_path / "free")
    tied = experiment.run(make_cfg(*RUN, "model=soft_tied_cnn", "model.scheme.tie_strength=1.0"), tmp_path / "tied")
    assert free["status"] == tied["status"] == "completed"
    for run in ("free", "tied"):
        rows = read_csv(tmp_path / run / "metrics.csv")
        assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"]), run  # both learn
    for layer, at_most in (("conv1", 0.7), ("conv2", 0.5)):  # measured: 0.52 and 0.25
        assert float(last_row(tmp_path / "tied")[f"{layer}_dist_to_mean"]) < at_most * float(
            last_row(tmp_path / "free")[f"{layer}_dist_to_mean"]
        )


def test_dynamic_sharing_every_step_leaves_one_kernel_per_layer(tmp_path):
    summary = experiment.run(make_cfg(*RUN, "model=dynamic_shared_cnn", "model.scheme.share_every=1"), tmp_path / "run")
    rows = read_csv(tmp_path / "run" / "metrics.csv")
    row = rows[-1]
    assert float(row["conv1_dist_to_mean"]) < 1e-5 and float(row["conv1_neighbor_dist"]) < 1e-5
    assert float(row["train_loss"]) < float(rows[0]["train_loss"])  # it learns, as a conv would
    assert (
        summary["final_conv1_snr"] is None or summary["final_conv1_snr"] > 1e3 or math.isinf(summary["final_conv1_snr"])
    )


@pytest.mark.parametrize("stop_after", [3, 8])  # before and after the switch at step 6
def test_untie_switches_mid_run_and_resumes_exactly(tmp_path, stop_after):
    cfg = make_cfg(*RUN, "model=untie_cnn", "model.scheme.untie_at=6")
    whole = experiment.run(cfg, tmp_path / "whole")
    assert whole["untied_at_step"] == 6
    rows = read_csv(tmp_path / "whole" / "metrics.csv")
    assert rows[0]["conv1_snr"] == ""  # step 4: still a conv, nothing unshared to measure
    assert float(rows[1]["conv1_neighbor_dist"]) > 0  # step 8: locally connected, kernels drift apart
    losses = [float(r["train_loss"]) for r in rows]
    assert losses[2] < losses[1] < losses[0]  # learning goes on across the switch
    calls = iter(range(10**9))
    part = experiment.run(cfg, tmp_path / "pieces", should_stop=lambda: next(calls) >= stop_after)
    assert part["status"] == "interrupted"
    final = experiment.run(cfg, tmp_path / "pieces", resume=load_checkpoint(tmp_path / "pieces"))
    assert final["status"] == "completed" and final["untied_at_step"] == 6
    for key in ("final_test_loss", "final_val_loss", "final_train_loss", "final_conv2_dist_to_mean"):
        assert final[key] == whole[key], key


def test_a_spectrum_point_on_a_model_that_is_not_a_convnet_is_one_line_naming_it(tmp_path):
    from helpers.commands import sharebench

    out = sharebench("run", "spectrum=lowrank_k4", "model=mlp", cwd=tmp_path)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "spectrum=lowrank_k4" in out.stderr and "model=mlp" in out.stderr and not (tmp_path / "results").exists()

"""The dense points that may learn to share, on MNIST-1D and on the 2-D digits (dataset=mnist5k), as
short real runs of the MNIST-1D paper's net (mnist1d_cnn): the dense net started from a conv
(spectrum=dense_from_conv) is the conv until its relax time, then a dense map leaving the conv's
neighbourhoods; the β-LASSO dense net (spectrum=dense_blasso) prunes its dense blocks. And the preset
that asks whether sharing emerges (experiment=sharing_emerges) composes to the sweep it describes."""

import math

import pytest
import torch
from helpers.configs import make_cfg

from sharebench.configs import expand_sweep
from sharebench.records.run_dir import read_csv
from sharebench.run import experiment

SHORT = (
    "model=mnist1d_cnn",
    "trainer.max_steps=6",
    "trainer.eval_every=3",
    "trainer.batch_size=50",
    "trainer.threads=1",
    "trainer.progress=false",
    "trainer.plots=false",
)
# small parts of each dataset: class-balanced training subsets, no validation split
DATASETS = {
    "mnist1d": ("dataset=mnist1d", "dataset.train_size=200", "dataset.val_size=0"),
    "mnist5k": ("dataset=mnist5k", "dataset.train_size=100", "dataset.val_size=0", "dataset.test_size=100"),
}
BLOCKS = ("conv1", "conv2", "conv3")


@pytest.mark.parametrize("dataset", DATASETS)
def test_dense_from_conv_is_the_conv_until_its_relax_time_then_leaves_its_neighbourhoods(tmp_path, dataset):
    cfg = make_cfg(*SHORT, *DATASETS[dataset], "spectrum=dense_from_conv", "model.scheme.untie_at=3")
    summary = experiment.run(cfg, tmp_path)
    assert summary["status"] == "completed" and summary["untied_at_step"] == 3
    at_switch, _ = read_csv(tmp_path / "metrics.csv")
    weights = torch.load(tmp_path / "model.pt", weights_only=True)
    for block in BLOCKS:
        # step 3, just embedded: the conv's function, every weight inside its neighbourhoods, one kernel
        assert float(at_switch[f"{block}_locality"]) == pytest.approx(1, abs=1e-6)  # float32 energies
        assert float(at_switch[f"{block}_sharing"]) == pytest.approx(1, abs=1e-9)
        # three steps later the dense map has put weight outside them and its kernels drift apart
        assert 0 < summary[f"final_{block}_locality"] < 1 and summary[f"final_{block}_sharing"] < 1
        assert math.isfinite(summary[f"final_{block}_rf_width"])
        assert weights[f"{block}.weight"].dim() == 2  # a dense map, (outputs, inputs)


@pytest.mark.parametrize("dataset", DATASETS)
def test_dense_blasso_prunes_its_dense_blocks(tmp_path, dataset):
    summary = experiment.run(make_cfg(*SHORT, *DATASETS[dataset], "spectrum=dense_blasso"), tmp_path)
    assert summary["status"] == "completed" and math.isfinite(summary["final_test_loss"])
    weights = torch.load(tmp_path / "model.pt", weights_only=True)
    for block in BLOCKS:
        zeros = (weights[f"{block}.weight"] == 0).double().mean().item()
        assert 0 < zeros < 1 and summary[f"final_{block}_zero_fraction"] == pytest.approx(zeros)
        assert 0 < summary[f"final_{block}_locality"] < 1


def test_the_preset_sweeps_three_dense_nets_local_and_conv_with_and_without_shuffled_positions():
    jobs = expand_sweep(["experiment=sharing_emerges"], multirun=True)
    arms = {tuple(o for o in job if o.startswith(("spectrum=", "dataset.shuffle_seq="))) for job in jobs}
    points = ("dense", "dense_blasso", "dense_from_conv", "local", "conv")
    assert arms == {(f"spectrum={p}", f"dataset.shuffle_seq={s}") for p in points for s in ("False", "True")}
    seeds = {o for job in jobs for o in job if o.startswith("seed=")}
    assert len(jobs) == 30 and seeds == {"seed=0", "seed=1", "seed=2"}
    cfg = make_cfg("experiment=sharing_emerges", "spectrum=dense_blasso", "dataset.shuffle_seq=true")
    assert cfg.dataset.shuffle_seq is True and cfg.model.layer == "dense" and cfg.model.channels == [25, 25, 25]

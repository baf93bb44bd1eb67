"""Datasets: MNIST-1D as published, its shuffled variant, validation splits and synthetic data."""

import pytest
import torch
from helpers.configs import make_cfg

from sharebench import data
from sharebench.errors import UserError


@pytest.fixture(scope="module")
def mnist1d():
    return data.load(make_cfg().dataset)


def test_mnist1d_is_the_published_split(mnist1d):
    assert mnist1d.sizes() == {"train": 3500, "val": 500, "test": 1000}
    assert mnist1d.input_shape == (1, 40) and mnist1d.num_outputs == 10
    assert mnist1d.task == "classification"
    labels = torch.cat([mnist1d.train[1], mnist1d.val[1], mnist1d.test[1]])
    assert torch.bincount(labels).tolist() == [500] * 10  # the generator makes 500 per class


def test_mnist1d_cache_gives_identical_data(mnist1d, data_cache):
    assert list((data_cache / "mnist1d").glob("*.npz")), "generated data are cached"
    again = data.load(make_cfg().dataset)
    assert torch.equal(again.train[0], mnist1d.train[0]) and torch.equal(again.test[1], mnist1d.test[1])


def test_a_cached_mnist1d_is_read_without_importing_the_generator(mnist1d, data_cache):
    """A cached run reads the .npz without importing mnist1d (scipy.interpolate, matplotlib.pyplot:
    most of a second of every job's start); the data are the same."""
    import subprocess
    import sys

    code = (
        "import sys; from sharebench.data import mnist1d; "
        f"d = mnist1d.cached({str(data_cache)!r}, False); "
        "print(len(d['x']), 'mnist1d' in sys.modules, 'scipy.interpolate' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["4000", "False", "False"], out.stderr[-2000:]


def test_shuffle_seq_is_one_fixed_permutation_for_train_and_test(mnist1d):
    shuffled = data.load(make_cfg("dataset.shuffle_seq=true").dataset)
    x, xs = mnist1d.train[0][:, 0], shuffled.train[0][:, 0]
    assert not torch.equal(x, xs)
    # recover the permutation from the first example, then check it explains every example
    perm = [int((x[0] - xs[0, j]).abs().argmin()) for j in range(40)]
    assert sorted(perm) == list(range(40))
    assert torch.allclose(x[:, perm], xs, atol=1e-6)
    assert torch.allclose(mnist1d.test[0][:, 0][:, perm], shuffled.test[0][:, 0], atol=1e-6)


def test_validation_split_is_fixed_by_split_seed_not_run_seed():
    a = data.load(make_cfg("seed=1").dataset)
    b = data.load(make_cfg("seed=2").dataset)
    c = data.load(make_cfg("dataset.split_seed=7").dataset)
    assert torch.equal(a.val[0], b.val[0])
    assert not torch.equal(a.val[0], c.val[0])


def test_synthetic_shapes_and_tasks():
    cls = data.load(make_cfg("dataset=synthetic", "dataset.shape=[3,8,8]", "dataset.train_size=64").dataset)
    assert cls.input_shape == (3, 8, 8) and cls.train[1].dtype == torch.long and cls.sizes()["train"] == 64
    reg = data.load(
        make_cfg(
            "dataset=synthetic",
            "dataset.shape=[1000]",
            "dataset.task=regression",
            "dataset.out_dim=10",
            "dataset.val_size=0",
            "dataset.test_size=0",
        ).dataset
    )
    assert reg.task == "regression" and reg.train[1].shape == (2000, 10) and reg.val is None and reg.test is None


def test_val_size_too_large_is_a_user_error():
    with pytest.raises(UserError, match="val_size"):
        data.load(make_cfg("dataset.val_size=4000").dataset)


def test_synthetic_classes_are_shifted_noisy_prototypes():
    from sharebench.data import synthetic

    clean = synthetic.load([1, 12, 12], noise=0.0, shift=0, train_size=100, val_size=0, test_size=0)
    x, y = clean.train
    assert torch.bincount(y).tolist() == [10] * 10  # classes take turns
    for c in range(10):  # without noise or shift, every example of a class is its prototype
        assert torch.equal(x[y == c], x[y == c][:1].expand_as(x[y == c]))
    assert (x[:, :, 1:] - x[:, :, :-1]).abs().mean() < 0.5 * x.std()  # smooth: neighbours are alike
    moved = synthetic.load([1, 12, 12], noise=0.0, shift=2, train_size=100, val_size=0, test_size=0).train
    assert len(torch.unique(moved[0][moved[1] == 0].flatten(1), dim=0)) > 1  # shifted copies differ
    noisy = synthetic.load([1, 12, 12], noise=1.0, train_size=400).train[0]
    assert 0.8 < float(noisy.std()) < 1.2  # inputs of variance about 1, whatever the noise
    flat = synthetic.load([16], shift=3, train_size=10).train[0]  # a flat vector: neither smoothed nor shifted
    assert flat.shape == (10, 16)


def test_synthetic_is_fixed_by_data_seed():
    def x(*overrides):
        return data.load(make_cfg("dataset=synthetic", "dataset.shape=[2,6,6]", *overrides).dataset).train[0]

    assert torch.equal(x(), x("seed=3")) and not torch.equal(x(), x("dataset.data_seed=1"))


def test_synthetic_classification_is_learnable_and_random_labels_are_not():
    from helpers.configs import TINY
    from hydra.utils import instantiate

    from sharebench import models
    from sharebench.run.experiment import seed_everything
    from sharebench.train.loop import fit

    def val_acc(*overrides):
        cfg = make_cfg(*TINY, "model=mlp", "trainer.epochs=10", "optim.lr=0.003", *overrides)
        splits = data.load(cfg.dataset)
        seed_everything(0)
        model = models.build(cfg.model, splits.input_shape, splits.num_outputs)
        evals = []
        fit(
            model,
            splits,
            instantiate(cfg.optim, params=model.parameters()),
            cfg.trainer,
            torch.device("cpu"),
            0,
            evals.append,
            lambda steps: None,
        )
        return evals[-1]["val_acc"]

    assert val_acc() > 0.5  # 10 classes: chance is 0.1 (0.78 when written)
    assert val_acc("dataset.teacher=false") < 0.3


@pytest.mark.parametrize(
    "override, fix", [("dataset.noise=-1", "dataset.noise=1.0"), ("dataset.shift=1.5", "dataset.shift=2")]
)
def test_synthetic_bad_noise_or_shift_is_a_user_error(override, fix):
    cfg = make_cfg("dataset=synthetic", override).dataset
    for check in (data.describe, data.load):
        with pytest.raises(UserError, match=fix):
            check(cfg)

"""Datasets: MNIST-1D as published, its shuffled variant, validation splits and synthetic data."""
import pytest
import torch

from conftest import make_cfg
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
    reg = data.load(make_cfg("dataset=synthetic", "dataset.shape=[1000]", "dataset.task=regression",
                             "dataset.out_dim=10", "dataset.val_size=0", "dataset.test_size=0").dataset)
    assert reg.task == "regression" and reg.train[1].shape == (2000, 10) and reg.val is None and reg.test is None


def test_val_size_too_large_is_a_user_error():
    with pytest.raises(UserError, match="val_size"):
        data.load(make_cfg("dataset.val_size=4000").dataset)

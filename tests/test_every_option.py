"""Every shipped option, found in conf/ as `sharebench list` finds it (never a list kept here), as
timm's tests go over list_models(): a new option file is tested the moment it exists.

- every `model` builds, counts (on the meta device as for real), takes a step of the real training
  loop and answers according to its input, on a 1-D input ([C, L]) and on a 2-D one ([C, H, W]);
- every `spectrum` point does the same on the default ConvNet;
- every `dataset` loads, from small files in its published format, what its describe() declares.
"""

import copy
import functools
import math
import random

import pytest
import torch
from helpers import datafiles
from helpers.configs import make_cfg
from hydra.utils import instantiate
from omegaconf import OmegaConf

from sharebench import data, models
from sharebench.accounting import account
from sharebench.configs import available_options
from sharebench.errors import UserError
from sharebench.models.cnn import ConvNet
from sharebench.run.experiment import seed_everything
from sharebench.train.loop import fit

OPTIONS = available_options()
RANKS = {"1-D": 2, "2-D": 3}  # input kinds, by the number of dims of one example
TINY_INPUTS = {"1-D": (1, 16), "2-D": (1, 8, 8)}


@functools.cache
def shipped_dataset(name: str):
    """The config with this dataset option, composed once for the whole module."""
    return make_cfg(f"dataset={name}")


@functools.cache
def inputs(kind: str) -> list[tuple[int, ...]]:
    """A tiny input of this kind, then the inputs of the shipped datasets of this kind (as declared,
    nothing read), smallest first: a model is tested on the first it accepts."""
    shipped = set()
    for name in OPTIONS["dataset"]:
        shape = data.declared(shipped_dataset(name).dataset)
        if shape is not None and len(shape.input_shape) == RANKS[kind]:
            shipped.add(tuple(shape.input_shape))
    return [TINY_INPUTS[kind], *sorted(shipped, key=math.prod)]


# a synthetic dataset (its shape set per input): one batch of 4 to train on, 2 examples to evaluate on
ONE_STEP = (
    "dataset=synthetic",
    "dataset.train_size=4",
    "dataset.val_size=2",
    "dataset.test_size=2",
    "trainer.batch_size=4",
    "trainer.max_steps=1",
    "trainer.progress=false",
)


@functools.cache
def composed(overrides: tuple[str, ...]):
    """The run's config, composed once (Hydra's composition is the slow part of a small test), and its
    model config without pretrained weights (offline: no ImageNet download)."""
    cfg = make_cfg(*overrides, *ONE_STEP)
    return cfg, models.without_pretrained_weights(cfg.model)


def dataset_of(cfg, shape):
    return OmegaConf.merge(cfg.dataset, {"shape": list(shape)})


@functools.cache
def accepted_input(overrides: tuple[str, ...], kind: str):
    """(the first input of this kind the model builds on, None) or (None, the model's reason)."""
    cfg, model_cfg = composed(overrides)
    reason = None
    for shape in inputs(kind):
        try:
            with torch.device("meta"):
                models.build(model_cfg, shape, data.describe(dataset_of(cfg, shape)).num_outputs)
        except UserError as err:
            reason = str(err)
            continue
        return shape, None
    return None, reason


def builds_counts_and_steps(overrides: tuple[str, ...], kind: str) -> torch.nn.Module:
    shape, reason = accepted_input(overrides, kind)
    if shape is None:
        pytest.skip(f"{' '.join(overrides)} takes no {kind} input: {reason}")
    cfg, model_cfg = composed(overrides)
    splits = data.load(dataset_of(cfg, shape))
    seed_everything(cfg.seed)
    model = models.build(model_cfg, shape, splits.num_outputs)
    with torch.device("meta"):
        meta = models.build(model_cfg, shape, splits.num_outputs)

    # counts: `sharebench params` answers on the meta device; it must say what the real model has
    random.seed(0)  # a model that draws at random (dynamic_net) draws the same in each forward below
    table, totals = account(model, shape)
    random.seed(0)
    assert account(meta, shape) == (table, totals)
    assert [r["name"] for r in table] == [n for n, _ in model.named_parameters()]
    assert totals["params_total"] > 0 and totals["params_effective"] > 0 and totals["macs_per_example"] > 0

    # one step of the real loop: the gradient reaches every trainable tensor the forward uses, and
    # the optimizer moves each one it says something to
    used = {r["name"] for r in table if r["trainable"] and r["effective"] > 0}
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    evals, steps = [], []
    random.seed(0)
    optimizer = instantiate(cfg.optim, params=model.parameters())
    result = fit(model, splits, optimizer, cfg.trainer, torch.device("cpu"), cfg.seed, evals.append, steps.extend)
    assert result.status == "completed" and result.steps == 1 and len(steps) == 1
    assert math.isfinite(steps[0]["loss"]) and math.isfinite(evals[-1]["val_loss"])
    grads = {n: p.grad for n, p in model.named_parameters() if n in used}
    assert used and None not in grads.values(), f"no gradient reached {[n for n, g in grads.items() if g is None]}"
    params = dict(model.named_parameters())
    still = [n for n, g in grads.items() if g.any() and torch.equal(params[n].detach(), before[n])]
    assert not still, f"one step left {still} unchanged"

    # the answers depend on the input: two examples, two different rows of num_outputs each
    with torch.no_grad():
        out = model.eval()(splits.train[0][:2])
    assert out.shape[-1] == splits.num_outputs and not torch.equal(out[0], out[1])
    return model


@pytest.mark.parametrize("kind", RANKS)
@pytest.mark.parametrize("name", OPTIONS["model"])
def test_every_model_builds_counts_and_steps(name, kind):
    builds_counts_and_steps((f"model={name}",), kind)


@pytest.mark.parametrize("name", OPTIONS["model"])
def test_every_model_takes_some_input(name):
    """A model that refused every input would only be skipped above: it must take one kind at least."""
    assert any(accepted_input((f"model={name}",), kind)[0] for kind in RANKS)


@pytest.mark.parametrize("kind", RANKS)
@pytest.mark.parametrize("point", OPTIONS["spectrum"])
def test_every_spectrum_point_builds_counts_and_steps(point, kind):
    shape, reason = accepted_input((f"spectrum={point}",), kind)
    assert shape == TINY_INPUTS[kind], reason  # the default ConvNet takes the tiny inputs at every point
    assert isinstance(builds_counts_and_steps((f"spectrum={point}",), kind), ConvNet)


def described_as_loaded(cfg) -> None:
    """What the checks before a run and `sharebench params` trust describe() for: the shape of load()."""
    shape, splits = data.describe(cfg), data.load(cfg)
    assert (shape.input_shape, shape.num_outputs, shape.task) == (splits.input_shape, splits.num_outputs, splits.task)
    for name, pair in (("train", splits.train), ("val", splits.val), ("test", splits.test)):
        if pair is None:
            continue
        x, y = pair
        assert tuple(x.shape[1:]) == shape.input_shape and len(x) == len(y) > 0, name
        if shape.task == "classification":
            assert y.dtype == torch.long and 0 <= int(y.min()) and int(y.max()) < shape.num_outputs, name
        else:
            assert tuple(y.shape[1:]) == (shape.num_outputs,), name


@pytest.mark.parametrize("name", OPTIONS["dataset"])
def test_every_dataset_loads_what_it_describes(name, tmp_path):
    cfg = copy.deepcopy(shipped_dataset(name))
    for key, value in datafiles.offline_settings(cfg.dataset, tmp_path).items():
        cfg.dataset[key] = value
    described_as_loaded(cfg.dataset)


@pytest.mark.parametrize(
    "overrides",
    [
        ("dataset.shape=[3,5,7]", "dataset.task=regression", "dataset.out_dim=4", "dataset.train_size=10"),
        ("dataset.shape=[6]", "dataset.num_classes=3", "dataset.val_size=0", "dataset.test_size=0"),
        ("dataset.shape=[2,9]", "dataset.train_size=20"),
    ],
)
def test_synthetic_loads_what_it_describes_for_every_task_and_rank(overrides):
    """synthetic's shape comes from its options: each task, and inputs of 1, 2 and 3 dims."""
    described_as_loaded(make_cfg("dataset=synthetic", *overrides).dataset)

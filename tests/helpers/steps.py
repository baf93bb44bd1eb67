"""A few training steps of any shipped model config, on a tiny synthetic dataset, through the real loop."""

import torch

from sharebench import data, models
from sharebench.configs import available_options, compose
from sharebench.data.augment import make_augment
from sharebench.errors import UserError, instantiate
from sharebench.models import without_pretrained_weights
from sharebench.train.loop import fit

MODELS = available_options()["model"]  # every file of conf/model/
SHAPES = ([1, 8, 8], [1, 40])  # an image where the model takes one this small, else a sequence
SLOW_MODELS = {"resnet_transfer"}  # an 11M-parameter backbone: seconds a step on two cores


def model_cfg(name: str, shape, *overrides: str):
    return compose(
        [
            f"model={name}",
            "dataset=synthetic",
            f"dataset.shape=[{','.join(map(str, shape))}]",
            "dataset.train_size=24",
            "dataset.val_size=8",
            "dataset.test_size=8",
            "trainer.batch_size=8",
            "trainer.max_steps=3",
            "trainer.progress=false",
            *(["model.scheme.untie_at=2"] if name == "untie_cnn" else []),  # the switch happens inside the steps
            *overrides,
        ],
    )


def build(name: str, *overrides: str):
    """(cfg, splits on the CPU, model) for the first shape in SHAPES the model takes."""
    for shape in SHAPES:
        cfg = model_cfg(name, shape, *overrides)
        splits = data.load(cfg.dataset)
        try:
            model = models.build(without_pretrained_weights(cfg.model), splits.input_shape, splits.num_outputs)
        except UserError:
            continue
        return cfg, splits, model
    raise AssertionError(f"model={name} takes none of the shapes {SHAPES}")


def train_steps(name: str, *overrides: str):
    """Build the model and train it for cfg.trainer.max_steps steps with augment.translate=1; returns
    (the loop's result, the evaluation rows, the model)."""
    torch.manual_seed(0)
    device = torch.device("cpu")
    cfg, splits, model = build(name, *overrides)
    optimizer = instantiate(cfg.optim, params=model.parameters())
    augment = make_augment(1, False, splits.fill, 0, device)
    rows = []
    result = fit(model, splits, optimizer, cfg.trainer, device, 0, rows.append, lambda steps: None, augment=augment)
    return result, rows, model

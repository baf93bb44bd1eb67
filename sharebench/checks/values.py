"""Value checks of a composed config that YAML types cannot express; each failure names the key and a fix.

Only what no constructor checks itself: the trainer, optimizer, seed, device, data options, and the
model keys shared by several families. A model's own options (model.cell, pool, tile, rank, hidden, …)
are checked where they are used, in its constructor, which dry_build.py runs before any work; the
schedules are train/schedules.py's list. Imports neither torch nor Hydra.
"""

import re
from numbers import Integral, Real

from omegaconf import DictConfig, ListConfig, OmegaConf

from sharebench.errors import UserError, invalid
from sharebench.train.schedules import SCHEDULES

DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _get(cfg: DictConfig, key: str):
    return OmegaConf.select(cfg, key, throw_on_missing=False)


def _fail(key: str, value, want: str, example: str):
    raise invalid(key, value, want, example)


def _is_int(v) -> bool:
    return isinstance(v, Integral) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool)


def positive_int(cfg, key, example="10", optional=False):
    v = _get(cfg, key)
    if v is None and optional:
        return
    if not (_is_int(v) and v > 0):
        _fail(key, v, "a positive integer" + (" or null" if optional else ""), example)


def number(cfg, key, example, low=0.0, strict=True, high=None):
    v = _get(cfg, key)
    ok = _is_num(v) and (v > low if strict else v >= low) and (high is None or v < high)
    if not ok:
        bound = f"> {low}" if strict else f">= {low}"
        _fail(key, v, f"a number {bound}" + (f" and < {high}" if high is not None else ""), example)


def int_or_ints(cfg, key, example, low=1):
    v = _get(cfg, key)
    values = list(v) if isinstance(v, ListConfig) else [v]
    if not values or not all(_is_int(x) and x >= low for x in values):
        _fail(key, v, f"an integer >= {low} or a list of them", example)


def check_seed(v) -> None:
    if not (_is_int(v) and 0 <= v < 2**32):  # NumPy takes no larger seed
        _fail("seed", v, "an integer from 0 to 2**32-1", "0")


def check_config(cfg: DictConfig) -> None:
    """Raise UserError for the first value that cannot work."""
    check_seed(_get(cfg, "seed"))
    if not DEVICE.match(str(_get(cfg, "device"))):
        _fail("device", _get(cfg, "device"), "auto, cpu, cuda, cuda:N or mps", "auto")

    number(cfg, "optim.lr", "0.001")
    if _get(cfg, "optim.weight_decay") is not None:
        number(cfg, "optim.weight_decay", "0.0", strict=False)
    if _get(cfg, "optim.momentum") is not None:
        number(cfg, "optim.momentum", "0.9", strict=False, high=1.0)

    positive_int(cfg, "trainer.epochs", "10")
    positive_int(cfg, "trainer.max_steps", "1000", optional=True)
    positive_int(cfg, "trainer.batch_size", "100")
    positive_int(cfg, "trainer.eval_batch_size", "1000")
    positive_int(cfg, "trainer.eval_every", "100", optional=True)
    threads = _get(cfg, "trainer.threads")
    if threads not in (None, "auto") and not (_is_int(threads) and threads > 0):
        _fail("trainer.threads", threads, "auto or a positive integer", "1")
    if _get(cfg, "trainer.schedule") not in SCHEDULES:
        _fail("trainer.schedule", _get(cfg, "trainer.schedule"), " | ".join(SCHEDULES), "cosine")
    if _get(cfg, "trainer.checkpoint_every") is not None:
        number(cfg, "trainer.checkpoint_every", "60", strict=False)
    if _get(cfg, "trainer.grad_clip") is not None:
        number(cfg, "trainer.grad_clip", "1.0")
    if _get(cfg, "trainer.loss_reduction") not in (None, "mean", "sum"):
        _fail("trainer.loss_reduction", _get(cfg, "trainer.loss_reduction"), "mean or sum", "sum")
    for flag in (
        "trainer.amp",
        "trainer.progress",
        "trainer.plots",
        "trainer.save_model",
        "trainer.save_initial_model",
    ):
        if not isinstance(_get(cfg, flag), bool):
            _fail(flag, _get(cfg, flag), "true or false", "false")

    model = cfg.get("model") or {}
    if "channels" in model:
        int_or_ints(cfg, "model.channels", "[16,32]")
    for key, low in (("kernel_size", 1), ("stride", 1), ("dilation", 1), ("padding", 0), ("pool_size", 1)):
        if key in model:
            int_or_ints(cfg, f"model.{key}", str(max(low, 1)), low=low)

    dataset = cfg.get("dataset") or {}
    if "shape" in dataset:
        v = _get(cfg, "dataset.shape")
        if not (isinstance(v, ListConfig) and len(v) and all(_is_int(x) and x > 0 for x in v)):
            _fail("dataset.shape", v, "a list of positive integers", "[1,28,28]")
    for key in ("num_classes", "out_dim"):
        if key in dataset:
            positive_int(cfg, f"dataset.{key}", "10")
    if "task" in dataset and dataset.task not in ("classification", "regression"):
        _fail("dataset.task", dataset.task, "classification or regression", "classification")
    for key in ("val_size", "train_size", "test_size"):
        if key in dataset:
            v, low = dataset[key], 1 if key == "train_size" else 0
            if not (_is_int(v) and v >= low) and not (v is None and key == "train_size"):  # null: all of it
                _fail(f"dataset.{key}", v, f"an integer >= {low}", "500")
    check_data_options(cfg)


def check_data_options(cfg: DictConfig) -> None:
    """Subsets, augmentation and shifted evaluation (see sharebench/data/ and train/shifted_eval.py)."""
    dataset = cfg.get("dataset") or {}
    for key in ("train_fraction", "val_fraction", "test_fraction"):
        v = dataset.get(key) if key in dataset else None
        if v is not None and not (_is_num(v) and 0 <= v <= 1 and (v > 0 or key == "val_fraction")):
            _fail(f"dataset.{key}", v, "a fraction in (0, 1]" + (" or null" if key == "train_fraction" else ""), "0.1")
    if (
        "train_fraction" in dataset
        and dataset.get("train_fraction") is not None
        and dataset.get("train_size") is not None
    ):
        raise UserError(
            "set dataset.train_fraction or dataset.train_size, not both "
            "(e.g. dataset.train_fraction=0.1 dataset.train_size=null)"
        )
    if "path" in list(dataset.keys()) and OmegaConf.is_missing(dataset, "path"):  # `in` skips ??? values
        raise UserError("dataset=image_folder needs dataset.path=/folder/with/one/subfolder/per/class")
    if _get(cfg, "augment.translate") is not None:
        v = _get(cfg, "augment.translate")
        if not (_is_int(v) and v >= 0):
            _fail("augment.translate", v, "a non-negative integer (pixels)", "2")
    if _get(cfg, "augment.flip") is not None and not isinstance(_get(cfg, "augment.flip"), bool):
        _fail("augment.flip", _get(cfg, "augment.flip"), "true or false", "true")
    shifts = _get(cfg, "eval.shifts")
    if shifts is not None and not (isinstance(shifts, ListConfig) and all(_is_int(s) and s >= 0 for s in shifts)):
        _fail("eval.shifts", shifts, "a list of non-negative integers", "[0,1,2,4]")
    if _get(cfg, "eval.shift_axes") not in (None, "both", "x"):
        _fail("eval.shift_axes", _get(cfg, "eval.shift_axes"), "both or x", "both")

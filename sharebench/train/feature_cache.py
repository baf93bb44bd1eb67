"""Frozen-backbone feature caching: run the backbone over the data once, then train only the head.

A model opts in with `split_frozen()` → (backbone, head) — `backbone` maps inputs to features and
`head` is the trainable nn.Module that maps features to outputs — or None when nothing is frozen.
When the backbone is frozen and its inputs are the same every epoch (no augmentation), running it
again each epoch would compute the same numbers: the features of train/val/test are computed once,
and the training loop then sees `head` and a Splits of features instead of the model and the images.
The head is a submodule of the model, so the model's own weights are what trains.
"""

import logging

import torch
import torch.nn as nn
from omegaconf import DictConfig

from sharebench.data import Pair, Splits

log = logging.getLogger("sharebench")


def augmentation_enabled(cfg: DictConfig) -> bool:
    """True when the inputs change from epoch to epoch, so cached features would be stale.

    Any truthy key of the `augment` group (translate, flip) counts, and any truthy `dataset.augment*`
    or `trainer.augment*` key (for a dataset or trainer that brings its own).
    """
    if any((cfg.get("augment") or {}).values()):
        return True
    for section in (cfg.get("dataset") or {}, cfg.get("trainer") or {}):
        if any(str(key).startswith("augment") and section[key] for key in section):
            return True
    return False


@torch.inference_mode()
def _features_of(backbone, x: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    return [backbone(x[start : start + batch_size]) for start in range(0, len(x), batch_size)]


def compute_features(backbone, pair: Pair | None, batch_size: int) -> Pair | None:
    if pair is None:
        return None
    x, y = pair
    # cat outside inference mode: the result is an ordinary tensor the head can train on
    return torch.cat(_features_of(backbone, x, batch_size)), y


def with_cached_features(model: nn.Module, splits: Splits, cfg: DictConfig) -> tuple[nn.Module, Splits]:
    """(module to train, splits to train it on): the head and cached features when possible,
    otherwise the model and splits unchanged."""
    split = getattr(model, "split_frozen", None)
    parts = split() if split is not None else None
    if parts is None or augmentation_enabled(cfg):
        return model, splits
    backbone, head = parts
    model.eval()  # the backbone computes features as it will at evaluation time
    batch_size = cfg.trainer.eval_batch_size
    features = Splits(
        train=compute_features(backbone, splits.train, batch_size),
        val=compute_features(backbone, splits.val, batch_size),
        test=compute_features(backbone, splits.test, batch_size),
        task=splits.task,
        num_outputs=splits.num_outputs,
    )
    log.info(
        "frozen backbone: features %s computed once for %s examples; training the head only",
        "×".join(map(str, features.input_shape)),
        f"{sum(splits.sizes().values()):,}",
    )
    return head, features

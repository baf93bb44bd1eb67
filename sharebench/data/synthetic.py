"""Random tensors of any shape, for tests and the seeds' random-data examples."""
import math

import torch

from sharebench.data import Shape, Splits
from sharebench.errors import UserError


def describe(shape, task="classification", num_classes=10, out_dim=10, train_size=2000, **_) -> Shape:
    """Check the settings and return the shape of `load`'s output, without making any data."""
    if task not in ("classification", "regression"):
        raise UserError(f"dataset.task={task!r} is not valid: use classification or regression")
    if train_size < 1:
        raise UserError("dataset.train_size must be at least 1 (for example dataset.train_size=2000)")
    shape = tuple(shape)
    if not shape or any(s < 1 for s in shape):
        raise UserError(f"dataset.shape={list(shape)} is not valid: give positive sizes, e.g. [1,28,28]")
    return Shape(shape, num_classes if task == "classification" else out_dim, task)


def load(shape, task="classification", num_classes=10, out_dim=10, teacher=True,
         train_size=2000, val_size=500, test_size=500, data_seed=0) -> Splits:
    shape = describe(shape, task, num_classes, out_dim, train_size).input_shape
    gen = torch.Generator().manual_seed(data_seed)
    n = train_size + val_size + test_size
    x = torch.randn(n, *shape, generator=gen)
    flat = x.reshape(n, -1)
    width = num_classes if task == "classification" else out_dim
    # a fixed random linear teacher makes the targets a learnable function of the inputs
    w = torch.randn(flat.shape[1], width, generator=gen) / math.sqrt(flat.shape[1])
    if task == "classification":
        y = (flat @ w).argmax(1) if teacher else torch.randint(num_classes, (n,), generator=gen)
    else:
        y = flat @ w if teacher else torch.randn(n, width, generator=gen)
    cut = [train_size, train_size + val_size]
    part = lambda a, b: (x[a:b], y[a:b]) if b > a else None  # noqa: E731
    return Splits(train=part(0, cut[0]), val=part(cut[0], cut[1]), test=part(cut[1], n),
                  task=task, num_outputs=width)


"""Translation robustness: test accuracy with every test example shifted by a few pixels.

"A cat moved one pixel is still a cat": a model that shares weights across positions should keep
its accuracy under small shifts better than one that does not. For shift s the test set is moved
by s positions in each direction — images: right, left, down, up (axes=both) or right, left
(axes=x); sequences: right, left — and the accuracies are averaged. Shift 0 is the test set as is.
"""

import torch
import torch.nn as nn

from sharebench.data import Splits
from sharebench.data.augment import shift
from sharebench.errors import UserError
from sharebench.train.loop import autocast_for, evaluate


def require_positions(input_shape: tuple[int, ...], shifts, translate: int) -> None:
    """Shifts need positions to move along: images (C, H, W) or sequences (C, L), not flat vectors."""
    if (shifts or translate) and len(input_shape) < 2:
        key = "eval.shifts" if shifts else "augment.translate"
        raise UserError(
            f"{key} moves images or sequences, but this dataset's examples are flat vectors "
            f"of shape {list(input_shape)}: drop {key} or use [C, L] / [C, H, W] data"
        )


def directions(s: int, spatial_dims: int, axes: str) -> list[tuple[int, ...]]:
    if s == 0:
        return [(0,) * spatial_dims]
    if spatial_dims == 1:
        return [(s,), (-s,)]
    moves = [(0, s), (0, -s)]  # (dy, dx): along x first
    return moves + ([(s, 0), (-s, 0)] if axes == "both" else [])


def shifted(x: torch.Tensor, move: tuple[int, ...], fill, batch_size: int) -> torch.Tensor:
    """x with every example moved by `move`, built in batches (shift's index tensors stay small)."""
    offsets = torch.tensor(move, device=x.device).expand(min(batch_size, len(x)), -1)
    return torch.cat(
        [
            shift(x[i : i + batch_size], offsets[: len(x[i : i + batch_size])], fill)
            for i in range(0, len(x), batch_size)
        ]
    )


def shifted_accuracy(
    model: nn.Module, splits: Splits, shifts, axes: str = "both", batch_size: int = 1000, amp: bool = False
) -> dict[str, float]:
    """{"test_acc_shift<s>": accuracy} for each s, averaged over the directions of that shift; empty
    for regression or without a test split. Each shifted test set is scored by the trainer's own
    `evaluate` (eval mode, no autograd, a model's `targets` hook, amp as in training)."""
    if splits.task != "classification" or splits.test is None or not shifts:
        return {}
    x, y = splits.test
    autocast = autocast_for(x.device, amp)
    out = {}
    for s in shifts:
        accuracies = []
        for move in directions(int(s), x.dim() - 2, axes):
            moved = shifted(x, move, splits.fill, batch_size) if any(move) else x  # shift 0: the test set itself
            accuracies.append(evaluate(model, (moved, y), splits.task, batch_size, autocast)[1])
        out[f"test_acc_shift{s}"] = sum(accuracies) / len(accuracies)
    return out

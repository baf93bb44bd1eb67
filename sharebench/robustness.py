"""Translation robustness: test accuracy with every test example shifted by a few pixels.

"A cat moved one pixel is still a cat": a model that shares weights across positions should keep
its accuracy under small shifts better than one that does not. For shift s the test set is moved
by s positions in each direction — images: right, left, down, up (axes=both) or right, left
(axes=x); sequences: right, left — and the accuracies are averaged. Shift 0 is the test set as is.
"""
from contextlib import nullcontext

import torch
import torch.nn as nn

from sharebench.data import Splits
from sharebench.data.augment import shift
from sharebench.errors import UserError


def require_positions(input_shape: tuple[int, ...], shifts, translate: int) -> None:
    """Shifts need positions to move along: images (C, H, W) or sequences (C, L), not flat vectors."""
    if (shifts or translate) and len(input_shape) < 2:
        key = "eval.shifts" if shifts else "augment.translate"
        raise UserError(f"{key} moves images or sequences, but this dataset's examples are flat vectors "
                        f"of shape {list(input_shape)}: drop {key} or use [C, L] / [C, H, W] data")


def directions(s: int, spatial_dims: int, axes: str) -> list[tuple[int, ...]]:
    if s == 0:
        return [(0,) * spatial_dims]
    if spatial_dims == 1:
        return [(s,), (-s,)]
    moves = [(0, s), (0, -s)]  # (dy, dx): along x first
    return moves + ([(s, 0), (-s, 0)] if axes == "both" else [])


@torch.inference_mode()
def shifted_accuracy(model: nn.Module, splits: Splits, shifts, axes: str = "both", batch_size: int = 1000,
                     amp: bool = False) -> dict[str, float]:
    """{"test_acc_shift<s>": accuracy} for each s; empty for regression or without a test split."""
    if splits.task != "classification" or splits.test is None or not shifts:
        return {}
    x, y = splits.test
    use_amp = amp and x.device.type == "cuda"  # as the trainer's evaluation does
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else nullcontext
    was_training = model.training
    model.eval()
    spatial = x.dim() - 2
    targets = getattr(model, "targets", None)  # a model that answers each example more than once
    counts = {}
    for s in shifts:
        moves = directions(int(s), spatial, axes)
        correct = torch.zeros((), dtype=torch.long, device=x.device)
        answers = 0
        for move in moves:
            offsets = torch.tensor(move, device=x.device).expand(min(batch_size, len(x)), -1)
            for start in range(0, len(x), batch_size):
                xb, yb = x[start:start + batch_size], y[start:start + batch_size]
                if any(move):  # shift 0 evaluates the test set itself, bit for bit
                    xb = shift(xb, offsets[:len(xb)], splits.fill)
                yb = targets(yb) if targets is not None else yb
                answers += len(yb)
                with autocast():
                    correct += (model(xb).argmax(1) == yb).sum()
        counts[f"test_acc_shift{s}"] = (correct, answers)
    model.train(was_training)
    return {k: c.item() / n for k, (c, n) in counts.items()}

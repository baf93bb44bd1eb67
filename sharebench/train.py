"""The training loop. Knows nothing about files: it reports through two callbacks.

Data are device-resident tensors and a batch is an index slice of a per-epoch permutation. The
step loop never synchronises with the device: losses stay on it until an evaluation flushes them.
"""
import math
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F
from omegaconf import DictConfig

from sharebench.data import Pair, Splits


@dataclass
class FitResult:
    status: str  # completed | diverged
    steps: int
    epochs: float
    train_seconds: float  # time spent in training steps, evaluations excluded
    samples_seen: int


def loss_function(task: str) -> Callable:
    return F.cross_entropy if task == "classification" else F.mse_loss


def make_scheduler(optimizer, schedule: str, total_steps: int):
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if schedule == "onecycle":
        max_lr = [g["lr"] for g in optimizer.param_groups]
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total_steps)
    return None


@torch.inference_mode()
def evaluate(model: nn.Module, pair: Pair, task: str, batch_size: int, autocast) -> tuple[float, float]:
    """Mean loss and accuracy (NaN for regression) over a split, without autograd, in large batches."""
    was_training = model.training
    model.eval()
    x, y = pair
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        with autocast():
            out = model(xb)
        if task == "classification":
            loss_sum += F.cross_entropy(out.float(), yb, reduction="sum")
            correct += (out.argmax(1) == yb).sum()
        else:  # mean squared error per target element, summed over examples here
            loss_sum += F.mse_loss(out.float(), yb, reduction="sum") / yb[0].numel()
    model.train(was_training)
    loss = loss_sum.item() / len(x)
    return loss, (correct.item() / len(x) if task == "classification" else math.nan)


def fit(model: nn.Module, splits: Splits, optimizer: torch.optim.Optimizer, cfg: DictConfig,
        device: torch.device, seed: int, on_evaluation: Callable[[dict], None],
        on_steps: Callable[[list[dict]], None], augment: Callable | None = None) -> FitResult:
    """Train for cfg's steps; `augment`, when given, maps each training batch to an augmented one."""
    x, y = splits.train
    n, batch = len(x), min(cfg.batch_size, len(x))
    steps_per_epoch = math.ceil(n / batch)
    total = cfg.max_steps or cfg.epochs * steps_per_epoch
    eval_every = cfg.eval_every or steps_per_epoch
    scheduler = make_scheduler(optimizer, cfg.schedule, total)
    loss_fn = loss_function(splits.task)
    use_amp = cfg.amp and device.type == "cuda"
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else nullcontext
    order_gen = torch.Generator().manual_seed(seed)  # on CPU: the same batches on every device

    from tqdm.auto import tqdm

    bar = tqdm(total=total, unit="step", leave=False, dynamic_ncols=True,
               disable=not (cfg.progress and sys.stderr.isatty()))
    model.train()
    losses, corrects, step_lrs, seen_since = [], [], [], 0
    status, seen, train_seconds = "completed", 0, 0.0
    start = resumed = time.perf_counter()
    for step in range(1, total + 1):
        pos = (step - 1) % steps_per_epoch
        if pos == 0:
            order = torch.randperm(n, generator=order_gen).to(device, non_blocking=True)
        idx = order[pos * batch:(pos + 1) * batch]
        xb, yb = x[idx], y[idx]
        if augment is not None:
            xb = augment(xb)
        with autocast():
            out = model(xb)
            loss = loss_fn(out.float(), yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        step_lrs.append(optimizer.param_groups[0]["lr"])
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.detach())
        if splits.task == "classification":
            corrects.append((out.argmax(1) == yb).sum())
        seen += len(idx)
        seen_since += len(idx)
        bar.update()
        if step % eval_every and step != total:
            continue
        # flush: the one synchronisation point, every eval_every steps
        step_losses = torch.stack(losses).float().tolist()
        train_seconds += time.perf_counter() - resumed
        epoch = step / steps_per_epoch
        first = step - len(step_losses) + 1
        on_steps([{"step": first + i, "epoch": round((first + i) / steps_per_epoch, 4), "loss": v,
                   "lr": lr} for i, (v, lr) in enumerate(zip(step_losses, step_lrs))])
        row = {"step": step, "epoch": round(epoch, 4), "lr": step_lrs[-1],
               "train_loss": sum(step_losses) / len(step_losses),
               "train_acc": (torch.stack(corrects).sum().item() / seen_since) if corrects else math.nan}
        for name, pair in (("val", splits.val), ("test", splits.test)):
            row[f"{name}_loss"], row[f"{name}_acc"] = (
                evaluate(model, pair, splits.task, cfg.eval_batch_size, autocast) if pair else (math.nan,) * 2)
        row["elapsed_s"] = round(time.perf_counter() - start, 3)
        on_evaluation(row)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", val_acc=f"{row['val_acc']:.3f}")
        losses, corrects, step_lrs, seen_since = [], [], [], 0
        if not all(math.isfinite(v) for v in step_losses):
            status = "diverged"
            break
        resumed = time.perf_counter()
    bar.close()
    return FitResult(status=status, steps=step, epochs=round(step / steps_per_epoch, 4),
                     train_seconds=train_seconds, samples_seen=seen)

"""The training loop. Knows nothing about files: it reports through two callbacks.

Data are device-resident tensors, shuffled once per epoch; a batch is a contiguous slice of them. The
step loop never synchronises with the device: losses stay on it until an evaluation flushes them.

Optional model hooks (methods a model may define; every other model is trained as it is):
  targets(y) -> y'             the labels for the model's output rows, when it answers each example
                               more than once (models/tied_pair.py: task A's rows, then task B's);
                               losses and accuracies are then over all the answers.
  penalty() -> scalar tensor   added to every step's loss (e.g. λ·‖w_A − w_B‖²).
  evaluation_metrics(splits, batch_size) -> dict
                               extra columns for each evaluation row (they land in metrics.csv and
                               as final_<column> in summary.json).
"""
import math
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
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


def loss_function(task: str, reduction: str = "mean") -> Callable:
    """The training loss; reduction "sum" adds over the batch (and target elements), as the seed's MSE does."""
    loss = F.cross_entropy if task == "classification" else F.mse_loss
    return loss if reduction == "mean" else partial(loss, reduction=reduction)


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
    targets, answers = getattr(model, "targets", None), 0
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        yb = targets(yb) if targets is not None else yb
        answers += len(yb)
        with autocast():
            out = model(xb)
        if task == "classification":
            loss_sum += F.cross_entropy(out.float(), yb, reduction="sum")
            correct += (out.argmax(1) == yb).sum()
        else:  # mean squared error per target element, summed over examples here
            loss_sum += F.mse_loss(out.float(), yb, reduction="sum") / yb[0].numel()
    model.train(was_training)
    loss = loss_sum.item() / answers
    return loss, (correct.item() / answers if task == "classification" else math.nan)


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
    loss_fn = loss_function(splits.task, cfg.get("loss_reduction", "mean"))
    use_amp = cfg.amp and device.type == "cuda"
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_amp else nullcontext
    targets, penalty = getattr(model, "targets", None), getattr(model, "penalty", None)  # optional hooks
    extra_metrics = getattr(model, "evaluation_metrics", None)
    order_gen = torch.Generator().manual_seed(seed)  # on CPU: the same batches on every device

    from tqdm.auto import tqdm

    bar = tqdm(total=total, unit="step", leave=False, dynamic_ncols=True,
               disable=not (cfg.progress and sys.stderr.isatty()))
    model.train()
    losses, predictions, labels, step_lrs = [], [], [], []
    status, seen, train_seconds = "completed", 0, 0.0
    start = resumed = time.perf_counter()
    for step in range(1, total + 1):
        pos = (step - 1) % steps_per_epoch
        if pos == 0:  # shuffle once per epoch; each batch is then a contiguous slice (a view)
            order = torch.randperm(n, generator=order_gen).to(device, non_blocking=True)
            x_epoch, y_epoch = x.index_select(0, order), y.index_select(0, order)
        xb, yb = x_epoch[pos * batch:(pos + 1) * batch], y_epoch[pos * batch:(pos + 1) * batch]
        if augment is not None:
            xb = augment(xb)
        yb = targets(yb) if targets is not None else yb
        with autocast():
            out = model(xb)
            loss = loss_fn(out.float(), yb)
            if penalty is not None:
                loss = loss + penalty()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        step_lrs.append(optimizer.param_groups[0]["lr"])
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.detach())
        if splits.task == "classification":  # compared with the labels at the flush, in one go
            predictions.append(out.argmax(1))
            labels.append(yb)
        seen += len(xb)
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
               "train_acc": (torch.cat(predictions) == torch.cat(labels)).float().mean().item() if labels else math.nan}
        for name, pair in (("val", splits.val), ("test", splits.test)):
            row[f"{name}_loss"], row[f"{name}_acc"] = (
                evaluate(model, pair, splits.task, cfg.eval_batch_size, autocast) if pair else (math.nan,) * 2)
        if extra_metrics is not None:
            row.update(extra_metrics(splits, cfg.eval_batch_size))
        row["elapsed_s"] = round(time.perf_counter() - start, 3)
        on_evaluation(row)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", val_acc=f"{row['val_acc']:.3f}")
        losses, predictions, labels, step_lrs = [], [], [], []
        if not all(math.isfinite(v) for v in step_losses):
            status = "diverged"
            break
        resumed = time.perf_counter()
    bar.close()
    return FitResult(status=status, steps=step, epochs=round(step / steps_per_epoch, 4),
                     train_seconds=train_seconds, samples_seen=seen)

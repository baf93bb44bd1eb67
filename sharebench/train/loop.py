"""The training loop. Knows nothing about files: it reports through two callbacks.

Data are device-resident tensors; a batch is gathered from them by a per-epoch permutation
(batches.py). The step loop never synchronises with the device: each step's loss, learning rate and
outputs wait there (pending.py) until one flush reads them back, at an evaluation or a checkpoint
(a NaN/inf loss is still noticed within a few steps: divergence.py). `should_stop()` ends the loop
between two steps with the state needed to go on (state.py). `fit(..., resume=state)` continues bit
for bit on the CPU; on CUDA it continues on the same generators and batches, and bit for bit where
the kernels are deterministic (train/devices.py sets what is cheap to set; docs/gpu.md says what holds).

What the loop asks of a model besides its forward pass (labels per output row, a loss penalty, a
step after each optimizer step, extra evaluation columns) is models/hooks.py's TrainingHooks: a model
subclasses it to train in its own way (ConvNet's sharing schemes, TiedPair); any other module trains
as it is.
"""

import math
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F
from omegaconf import DictConfig

from sharebench.data import Pair, Splits
from sharebench.models.hooks import hooks_of
from sharebench.terminal import SafeStream
from sharebench.train.batches import EpochBatches
from sharebench.train.pending import PendingSteps, Window
from sharebench.train.schedules import make_scheduler
from sharebench.train.state import LoopState, TrainingState


@dataclass
class FitResult:
    status: str  # completed | diverged | interrupted
    steps: int
    epochs: float
    train_seconds: float  # time spent in training steps, evaluations excluded
    samples_seen: int
    state: TrainingState | None = None  # when interrupted: what checkpoint.pt keeps to go on from here


def loss_function(task: str, reduction: str = "mean") -> Callable:
    """The training loss; reduction "sum" adds over the batch (and target elements), as the source post's MSE does."""
    loss = F.cross_entropy if task == "classification" else F.mse_loss
    return loss if reduction == "mean" else partial(loss, reduction=reduction)


def autocast_for(device: torch.device, amp: bool) -> Callable:
    """A context factory: bfloat16 autocast when amp is asked for on CUDA, otherwise nothing."""
    if amp and device.type == "cuda":
        return lambda: torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext


def planned_steps(train_size: int, cfg: DictConfig) -> int:
    """trainer.max_steps, or trainer.epochs passes over `train_size` examples."""
    return cfg.max_steps or cfg.epochs * math.ceil(train_size / min(cfg.batch_size, train_size))


@torch.inference_mode()
def evaluate(model: nn.Module, pair: Pair, task: str, batch_size: int, autocast) -> tuple[float, float]:
    """Mean loss and accuracy (NaN for regression) over a split, without autograd, in large batches."""
    was_training = model.training
    model.eval()
    x, y = pair
    targets, answers = hooks_of(model).targets, 0
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        yb = targets(yb)
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


def fit(
    model: nn.Module,
    splits: Splits,
    optimizer: torch.optim.Optimizer,
    cfg: DictConfig,
    device: torch.device,
    seed: int,
    on_evaluation: Callable[[dict], None],
    on_steps: Callable[[list[dict]], None],
    augment: Callable | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    resume: TrainingState | None = None,
    on_checkpoint: Callable[[TrainingState], None] | None = None,
) -> FitResult:
    """Train; stop early when a loss turns NaN/inf (diverged) or `should_stop()` (interrupted: the
    result then carries the loop's state). `augment`, when given, maps each training batch to an
    augmented one. `on_checkpoint(state)` receives the state every `cfg.checkpoint_every` seconds of
    training (stretched so that saving costs at most ~1% of the time), so a killed run loses at most
    that much."""
    x, y = splits.train
    total = planned_steps(len(x), cfg)
    loop, optimizer, scheduler, order_gen = _start(model, optimizer, cfg.schedule, total, seed, resume, augment, device)
    augment_gen = getattr(augment, "generator", None)
    batches = EpochBatches(x, y, cfg.batch_size, order_gen, device, loop.order)
    eval_every = cfg.eval_every or batches.per_epoch
    pending = PendingSteps(loop, batches.per_epoch, on_steps, device, device_clock(device))
    autocast = autocast_for(device, cfg.amp)
    measure = partial(evaluate, task=splits.task, batch_size=cfg.eval_batch_size, autocast=autocast)
    loss_fn = loss_function(splits.task, cfg.get("loss_reduction", "mean"))
    hooks = hooks_of(model)  # models/hooks.py: a plain module gets the defaults
    step, after_step = partial(train_step, model, loss_fn, autocast, hooks.targets, hooks.penalty), hooks.after_step
    grad_clip, classify = cfg.grad_clip, splits.task == "classification"  # read once: a config lookup costs ~10 µs

    def snapshot() -> TrainingState:
        """Flush the steps since the last evaluation (they are carried into its train loss) and
        capture everything needed to go on from here."""
        pending.flush(loop.step)
        loop.order, loop.elapsed = batches.order_on_cpu(), time.perf_counter() - start
        state = replace(loop, carried=list(loop.carried))  # a copy: the loop goes on changing its own
        return TrainingState.capture(state, model, optimizer, scheduler, order_gen, augment_gen, device)

    bar = _progress_bar(cfg, total, loop.step)
    model.train()
    status = "completed"
    start = time.perf_counter() - loop.elapsed  # elapsed_s runs on across interruptions
    resumed = pending.start_clock()
    every = (cfg.get("checkpoint_every") or 0) if on_checkpoint is not None else 0
    next_checkpoint = resumed + every if every else math.inf
    while loop.step < total:
        if should_stop():
            status = "interrupted"
            break
        if time.perf_counter() >= next_checkpoint:  # one clock read a step
            next_checkpoint = _checkpoint(on_checkpoint, snapshot, pending, every)
        loop.step += 1
        xb, yb = batches.take(loop.step)
        xb = augment(xb) if augment is not None else xb
        loss, out, yb = step(optimizer, xb, yb, grad_clip)
        lr = optimizer.param_groups[0]["lr"]
        if scheduler is not None:
            scheduler.step()
        if after_step(loop.step):
            optimizer, scheduler = _rebuilt(optimizer, model, cfg.schedule, total, loop.step)
        diverging = pending.add(loss, lr, out if classify else None, yb)
        loop.seen += xb.shape[0]
        bar.update()
        if loop.step % eval_every and loop.step != total and not diverging:
            continue
        pending.flush(loop.step)  # the one synchronisation point, every eval_every steps
        window = pending.take_window()
        on_evaluation(row := evaluation_row(loop.step, batches.per_epoch, window, model, splits, measure, start))
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", val_acc=f"{row['val_acc']:.3f}")
        if not window.finite:
            status = "diverged"
            break
        pending.start_clock()
    bar.close()
    state = snapshot() if status == "interrupted" else None  # the steps since the last evaluation, and how to go on
    epochs = round(loop.step / batches.per_epoch, 4)
    return FitResult(status, loop.step, epochs, loop.train_seconds, loop.seen, state)


def _start(model, optimizer, schedule: str, total: int, seed: int, resume, augment, device):
    """(loop state, optimizer, scheduler, batch-order generator) of a new run, or of a resumed one
    restored from its checkpoint (with the augmentation's generator)."""
    scheduler = make_scheduler(optimizer, schedule, total)
    order_gen = torch.Generator().manual_seed(seed)  # on CPU: the same batches on every device
    if not resume:
        return LoopState(), optimizer, scheduler, order_gen
    model.load_state_dict(resume.model)
    if not _optimizes(optimizer, model):  # the model changed its parameters before the checkpoint (untie_at)
        optimizer, scheduler = _rebuilt(optimizer, model, schedule, total, 0)
    resume.restore(optimizer, scheduler, order_gen, getattr(augment, "generator", None), device)
    return replace(resume.loop), optimizer, scheduler, order_gen


def _checkpoint(on_checkpoint, snapshot, pending: PendingSteps, every: float) -> float:
    """Hand the loop's state to on_checkpoint; the time of the next one, so that saving costs at most
    ~1% of the training time."""
    saving = time.perf_counter()
    on_checkpoint(snapshot())
    resumed = pending.start_clock()
    return resumed + max(every, 100 * (resumed - saving))


def train_step(model: nn.Module, loss_fn, autocast, targets, penalty, optimizer, xb, yb, grad_clip):
    """One optimizer step on one batch: (the loss, the outputs, the targets they answer), all left on
    the device. `targets` and `penalty` are the model's hooks (models/hooks.py)."""
    yb = targets(yb)
    with autocast():
        out = model(xb)
        loss = loss_fn(out.float(), yb)
        extra = penalty()
        if extra is not None:
            loss = loss + extra
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    return loss, out, yb


def evaluation_row(
    step: int, steps_per_epoch: int, window: Window, model: nn.Module, splits: Splits, measure, started: float
) -> dict:
    """The row an evaluation gives metrics.csv (the caller may add columns): where training is, the
    train loss and accuracy over the steps since the last evaluation, val and test measured now by
    `measure(model, pair)`, the model's own columns (its evaluation_metrics hook), the wall time since
    `started`."""
    row = {
        "step": step,
        "epoch": round(step / steps_per_epoch, 4),
        "lr": window.lr,
        "train_loss": window.loss,
        "train_acc": window.accuracy,
    }
    for name, pair in (("val", splits.val), ("test", splits.test)):
        row[f"{name}_loss"], row[f"{name}_acc"] = measure(model, pair) if pair else (math.nan,) * 2
    row.update(hooks_of(model).evaluation_metrics(splits, measure))
    row["elapsed_s"] = round(time.perf_counter() - started, 3)
    return row


def _progress_bar(cfg: DictConfig, total: int, initial: int):
    """tqdm's bar on stderr, shown only when asked for and stderr is a terminal."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="step",
        leave=False,
        dynamic_ncols=True,
        file=SafeStream(sys.stderr),
        disable=not (cfg.progress and sys.stderr.isatty()),
    )


def device_clock(device: torch.device) -> Callable[[], float]:
    """time.perf_counter, read once the device has done the work queued so far: on CUDA the host runs
    ahead of the GPU, and a clock read before waiting would leave the queued steps uncounted."""
    if device.type != "cuda":
        return time.perf_counter

    def clock() -> float:
        torch.cuda.synchronize(device)
        return time.perf_counter()

    return clock


def _optimizes(optimizer, model: nn.Module) -> bool:
    """Whether the optimizer holds exactly the model's trainable parameters."""
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    return held == {id(p) for p in model.parameters() if p.requires_grad}


def _rebuilt(optimizer, model: nn.Module, schedule: str, total: int, step: int):
    """The same optimizer (class and hyperparameters) over the model's new parameters, and its schedule
    advanced to `step`. Its running statistics (Adam's moments) start over: the parameters are new."""
    fresh = type(optimizer)([p for p in model.parameters() if p.requires_grad], **optimizer.defaults)
    scheduler = make_scheduler(fresh, schedule, total)
    if scheduler is not None:
        import warnings

        with warnings.catch_warnings():  # stepping a schedule before any optimizer step warns
            warnings.simplefilter("ignore")
            for _ in range(step):
                scheduler.step()
    return fresh, scheduler

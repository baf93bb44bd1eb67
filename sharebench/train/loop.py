"""The training loop. Knows nothing about files: it reports through two callbacks.

Data are device-resident tensors; a batch is gathered from them by a per-epoch permutation. The
step loop never synchronises with the device: losses stay on it until an evaluation flushes them
(a NaN/inf loss is still noticed within a few steps: divergence.py). `should_stop()` ends the loop
between two steps with the state needed to go on (state.py). `fit(..., resume=state)` continues bit
for bit on the CPU; on CUDA it continues on the same generators and batches, and bit for bit where
the kernels are deterministic (train/devices.py sets what is cheap to set; docs/gpu.md says what holds).

Optional model hooks (methods a model may define; every other model is trained as it is):
  targets(y) -> y'             the labels for the model's output rows, when it answers each example
                               more than once (models/tied_pair.py: task A's rows, then task B's);
                               losses and accuracies are then over all the answers.
  penalty() -> tensor | None   added to every step's loss (e.g. λ·‖w_A − w_B‖², soft positional tying).
  after_step(step) -> bool     called after every optimizer step with the 1-based step (dynamic
                               sharing averages kernels here); True when the model's parameters
                               changed (untie_at): the optimizer and scheduler are then rebuilt.
  evaluation_metrics(splits, evaluate) -> dict
                               extra columns for each evaluation row (they land in metrics.csv and
                               as final_<column> in summary.json); evaluate(module, (x, y)) gives
                               (loss, accuracy) as the trainer measures them.
"""

import math
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F
from omegaconf import DictConfig

from sharebench.data import Pair, Splits
from sharebench.terminal import SafeStream
from sharebench.train.divergence import NonFiniteWatch
from sharebench.train.schedules import make_scheduler
from sharebench.train.state import LoopState, TrainingState

# Per-step work the MNIST-1D paper's hand loop does not do, batched (scripts/bench/runner_overhead.py):
WHOLE_EPOCH_BYTES = 16 * 2**20  # a training set this small is shuffled once an epoch, not gathered per batch
HELD_OUTPUTS = 2**20  # outputs held for the train accuracy's argmax until this many values, then reduced


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
    targets, answers = getattr(model, "targets", None), 0
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
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
    n, batch = len(x), min(cfg.batch_size, len(x))
    steps_per_epoch = math.ceil(n / batch)
    total = planned_steps(n, cfg)
    eval_every = cfg.eval_every or steps_per_epoch
    scheduler = make_scheduler(optimizer, cfg.schedule, total)
    loss_fn = loss_function(splits.task, cfg.get("loss_reduction", "mean"))
    autocast = autocast_for(device, cfg.amp)
    targets, penalty = getattr(model, "targets", None), getattr(model, "penalty", None)  # optional hooks
    after_step = getattr(model, "after_step", None)
    extra_metrics = getattr(model, "evaluation_metrics", None)
    grad_clip, classify = cfg.grad_clip, splits.task == "classification"  # read once: a config lookup costs ~10 µs
    order_gen = torch.Generator().manual_seed(seed)  # on CPU: the same batches on every device
    augment_gen = getattr(augment, "generator", None)
    loop = LoopState()
    if resume:
        loop = resume.loop
        model.load_state_dict(resume.model)
        if not _optimizes(optimizer, model):  # the model changed its parameters before the checkpoint (untie_at)
            optimizer, scheduler = _rebuilt(optimizer, model, cfg.schedule, total, 0)
        resume.restore(optimizer, scheduler, order_gen, augment_gen, device)
    order = None if loop.order is None else loop.order.to(device)
    whole_epoch, shuffled = x.numel() * x.element_size() <= WHOLE_EPOCH_BYTES, None
    watch = NonFiniteWatch(device)
    clock = device_clock(device)

    from tqdm.auto import tqdm

    bar = tqdm(
        total=total,
        initial=loop.step,
        unit="step",
        leave=False,
        dynamic_ncols=True,
        file=SafeStream(sys.stderr),
        disable=not (cfg.progress and sys.stderr.isatty()),
    )
    model.train()
    losses, predictions, labels, step_lrs, held = [], [], [], [], []
    status, seen, train_seconds, step = "completed", loop.seen, loop.train_seconds, loop.step
    start = time.perf_counter() - loop.elapsed  # elapsed_s runs on across interruptions
    resumed = time.perf_counter()
    every = (cfg.get("checkpoint_every") or 0) if on_checkpoint is not None else 0
    next_checkpoint = resumed + every if every else math.inf

    def write_steps(upto: int) -> list[float]:
        values = torch.stack(losses).float().tolist() if losses else []
        first = upto - len(values) + 1
        if values:
            on_steps(
                [
                    {"step": first + i, "epoch": round((first + i) / steps_per_epoch, 4), "loss": v, "lr": lr}
                    for i, (v, lr) in enumerate(zip(values, step_lrs))
                ]
            )
        return values

    def predict_held() -> None:
        """The held outputs' predictions: one argmax for many steps, not one per step."""
        nonlocal held
        if held:
            predictions.append(torch.cat(held).argmax(1))
            held = []

    def correct_and_answers() -> tuple[int, int]:
        predict_held()
        if not labels:
            return 0, 0
        answers = torch.cat(labels)
        return (torch.cat(predictions) == answers).sum().item(), answers.shape[0]

    def snapshot() -> TrainingState:
        """Flush the steps since the last evaluation (they are carried into its train loss) and
        capture everything needed to go on from here."""
        nonlocal loop, losses, predictions, labels, step_lrs, train_seconds
        train_seconds += clock() - resumed
        carried = loop.carried + write_steps(step)
        correct, answers = correct_and_answers()
        loop = LoopState(
            step=step,
            seen=seen,
            train_seconds=train_seconds,
            elapsed=time.perf_counter() - start,
            order=None if order is None else order.cpu(),
            carried=carried,
            carried_correct=loop.carried_correct + correct,
            carried_answers=loop.carried_answers + answers,
        )
        losses, predictions, labels, step_lrs = [], [], [], []
        watch.reset()
        return TrainingState.capture(loop, model, optimizer, scheduler, order_gen, augment_gen, device)

    while step < total:
        if should_stop():
            status = "interrupted"
            break
        if time.perf_counter() >= next_checkpoint:  # one clock read a step
            saving = time.perf_counter()
            on_checkpoint(snapshot())
            resumed = time.perf_counter()
            next_checkpoint = resumed + max(every, 100 * (resumed - saving))
        step += 1
        pos = (step - 1) % steps_per_epoch
        if pos == 0:
            order = torch.randperm(n, generator=order_gen).to(device, non_blocking=True)
            shuffled = None
        if whole_epoch and shuffled is None:  # a small set: gathered once an epoch, its batches are views
            shuffled = x.index_select(0, order), y.index_select(0, order)
        if whole_epoch:
            xb, yb = shuffled[0][pos * batch : (pos + 1) * batch], shuffled[1][pos * batch : (pos + 1) * batch]
        else:  # one gather per batch (into a buffer that stays in cache): a big set copied whole moves twice the memory
            idx = order[pos * batch : (pos + 1) * batch]
            xb, yb = x.index_select(0, idx), y.index_select(0, idx)
        if augment is not None:
            xb = augment(xb)
        yb = targets(yb) if targets is not None else yb
        with autocast():
            out = model(xb)
            loss = loss_fn(out.float(), yb)
            extra = penalty() if penalty is not None else None
            if extra is not None:
                loss = loss + extra
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        step_lrs.append(optimizer.param_groups[0]["lr"])
        if scheduler is not None:
            scheduler.step()
        if after_step is not None and after_step(step):
            optimizer, scheduler = _rebuilt(optimizer, model, cfg.schedule, total, step)
        losses.append(loss.detach())
        if classify:  # predicted and compared with the labels at the flush, in one go
            held.append(out.detach())
            labels.append(yb)
            if len(held) * out.numel() > HELD_OUTPUTS:
                predict_held()
        seen += xb.shape[0]
        bar.update()
        diverging = watch.tripped(losses)
        if step % eval_every and step != total and not diverging:
            continue
        # flush: the one synchronisation point, every eval_every steps
        train_seconds += clock() - resumed
        step_losses = loop.carried + write_steps(step)
        correct, answers = correct_and_answers()
        correct, answers = correct + loop.carried_correct, answers + loop.carried_answers
        row = {
            "step": step,
            "epoch": round(step / steps_per_epoch, 4),
            "lr": step_lrs[-1],
            "train_loss": sum(step_losses) / len(step_losses),
            "train_acc": correct / answers if answers else math.nan,
        }
        for name, pair in (("val", splits.val), ("test", splits.test)):
            row[f"{name}_loss"], row[f"{name}_acc"] = (
                evaluate(model, pair, splits.task, cfg.eval_batch_size, autocast) if pair else (math.nan,) * 2
            )
        if extra_metrics is not None:
            row.update(
                extra_metrics(splits, lambda net, pair: evaluate(net, pair, splits.task, cfg.eval_batch_size, autocast))
            )
        row["elapsed_s"] = round(time.perf_counter() - start, 3)
        on_evaluation(row)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", val_acc=f"{row['val_acc']:.3f}")
        losses, predictions, labels, step_lrs = [], [], [], []
        loop.carried, loop.carried_correct, loop.carried_answers = [], 0, 0
        watch.reset()
        if not all(math.isfinite(v) for v in step_losses):
            status = "diverged"
            break
        resumed = time.perf_counter()
    bar.close()
    state = snapshot() if status == "interrupted" else None  # the steps since the last evaluation, and how to go on
    return FitResult(
        status=status,
        steps=step,
        epochs=round(step / steps_per_epoch, 4),
        train_seconds=train_seconds,
        samples_seen=seen,
        state=state,
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

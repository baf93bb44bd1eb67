"""The steps since the last flush, kept on the device: the loop's one synchronisation point.

Each training step leaves here its loss, its learning rate and, for a classification, its outputs and
labels, without reading anything back (on a GPU a read makes the host wait for the queued work).
`flush(step)` is the one place they are read back, at an evaluation and at a checkpoint alike: it waits
for the device and counts the steps' training time (the clock is read only once the queued steps are
done), writes their rows (steps.csv), and adds their losses and correct answers to the tallies since the
last evaluation. The tallies live in the loop's state (state.LoopState), so a checkpoint carries them
and a resumed run reports the train loss and accuracy of the run that never stopped; an evaluation
takes them (`take_window`) and they start over. A NaN/inf pending loss is noticed without a sync
(divergence.py).
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from sharebench.train.divergence import NonFiniteWatch
from sharebench.train.state import LoopState

HELD_OUTPUTS = 2**20  # outputs held for the train accuracy's argmax until this many values, then reduced


@dataclass
class Window:
    """The steps since the last evaluation, all flushed: what its row says about training."""

    losses: list[float]
    correct: int
    answers: int
    lr: float  # the last step's learning rate

    @property
    def loss(self) -> float:
        return sum(self.losses) / len(self.losses)

    @property
    def accuracy(self) -> float:
        return self.correct / self.answers if self.answers else math.nan

    @property
    def finite(self) -> bool:
        return all(math.isfinite(v) for v in self.losses)


class PendingSteps:
    def __init__(self, loop: LoopState, steps_per_epoch: int, on_steps: Callable[[list[dict]], None], device, clock):
        self.loop, self.steps_per_epoch, self.on_steps = loop, steps_per_epoch, on_steps
        self.watch, self.clock = NonFiniteWatch(device), clock
        self.losses, self.lrs = [], []  # one a step: the loss on the device, the learning rate
        self.held, self.predictions, self.labels = [], [], []  # classification: outputs, their argmaxes, labels
        self.last_lr = math.nan  # the learning rate of the last step flushed
        self.since = time.perf_counter()  # training time is counted from here to the next flush

    def add(self, loss: torch.Tensor, lr: float, out: torch.Tensor | None = None, labels=None) -> bool:
        """Keep one step's record (`out`: the outputs to score against `labels`); True once a pending
        loss is NaN/inf."""
        self.losses.append(loss.detach())
        self.lrs.append(lr)
        if out is not None:  # predicted and compared with the labels at the flush, in one go
            self.held.append(out.detach())
            self.labels.append(labels)
            if len(self.held) * out.numel() > HELD_OUTPUTS:
                self._predict_held()
        return self.watch.tripped(self.losses)

    def flush(self, step: int) -> None:
        """Wait for the pending steps (the last is `step`) and count their time, write their rows, add
        their losses and correct answers to the loop's tallies; nothing is pending after."""
        loop = self.loop
        loop.train_seconds += self.clock() - self.since
        values = torch.stack(self.losses).float().tolist() if self.losses else []
        first = step - len(values) + 1
        if values:
            self.on_steps(
                [
                    {"step": first + i, "epoch": round((first + i) / self.steps_per_epoch, 4), "loss": v, "lr": lr}
                    for i, (v, lr) in enumerate(zip(values, self.lrs))
                ]
            )
        self._predict_held()
        if self.labels:
            answers = torch.cat(self.labels)
            loop.carried_correct += (torch.cat(self.predictions) == answers).sum().item()
            loop.carried_answers += answers.shape[0]
        if self.lrs:
            self.last_lr = self.lrs[-1]
        loop.carried = loop.carried + values
        self.losses, self.lrs, self.predictions, self.labels = [], [], [], []
        self.watch.reset()

    def take_window(self) -> Window:
        """The tallies since the last evaluation (flush first), which then start over."""
        loop = self.loop
        window = Window(loop.carried, loop.carried_correct, loop.carried_answers, self.last_lr)
        loop.carried, loop.carried_correct, loop.carried_answers = [], 0, 0
        return window

    def start_clock(self) -> float:
        """Training time counts again from now (after an evaluation or a checkpoint's save); returns now."""
        self.since = time.perf_counter()
        return self.since

    def _predict_held(self) -> None:
        """The held outputs' predictions: one argmax for many steps, not one per step."""
        if self.held:
            self.predictions.append(torch.cat(self.held).argmax(1))
            self.held = []

"""Soft and hard parameter tying (Lasserre et al. 2006; Goodfellow et al. §7.9): two copies A and B
of a base network, trained together on two related tasks.

Task A is the dataset as it is. Task B is the same data with every input rolled by `shift` positions
along its last axis (task_b="shift": the same labels, translated inputs) or with the labels renamed
by a fixed random permutation (task_b="relabel": the same inputs, other names for the classes).

mode="soft": A and B have their own weights, and `penalty()` adds lam·‖w_A − w_B‖² to the loss
             (lam=0: two independent networks).
mode="hard": B *is* A — the same module, called once per task in every forward — so there is one
             set of weights (parameter tables count it once, effective counts twice).

The model answers every example twice: forward returns task A's outputs, then task B's, and
`targets(y)` returns the matching labels, so the training loop's loss is the mean of the two task
losses (plus the penalty) and its accuracy is over both tasks. `evaluation_metrics` adds each task's
own val/test loss and accuracy and the distance ‖w_A − w_B‖ to every evaluation.
"""

import math

import torch
import torch.nn as nn

from sharebench import models
from sharebench.errors import UserError
from sharebench.models.hooks import TrainingHooks


class TiedPair(TrainingHooks, nn.Module):
    def __init__(self, input_shape, num_outputs, base, mode="soft", lam=0.01, task_b="shift", shift=1, relabel_seed=0):
        super().__init__()
        if mode not in ("soft", "hard"):
            raise UserError(f"model.mode={mode!r} is not valid: use soft or hard")
        if task_b not in ("shift", "relabel"):
            raise UserError(f"model.task_b={task_b!r} is not valid: use shift or relabel")
        if isinstance(lam, bool) or not isinstance(lam, (int, float)) or lam < 0:
            raise UserError(f"model.lam={lam!r} is not valid: use a number >= 0 (e.g. model.lam=0.01)")
        if isinstance(shift, bool) or not isinstance(shift, int):
            raise UserError(f"model.shift={shift!r} is not valid: use an integer (e.g. model.shift=1)")
        if isinstance(relabel_seed, bool) or not isinstance(relabel_seed, int) or relabel_seed < 0:
            raise UserError(f"model.relabel_seed={relabel_seed!r} is not valid: use an integer >= 0")
        if not base or "_target_" not in base:
            raise UserError("model.base names no model: choose one with model@model.base=shared_cnn")
        if str(base["_target_"]).endswith("TiedPair"):
            raise UserError("model.base cannot itself be a tied_pair: choose e.g. model@model.base=shared_cnn")
        self.mode, self.lam, self.task_b, self.shift = mode, float(lam), task_b, int(shift)
        self.a = models.build(base, input_shape, num_outputs)
        self.b = self.a if mode == "hard" else models.build(base, input_shape, num_outputs)  # own init
        if task_b == "relabel":
            gen = torch.Generator().manual_seed(relabel_seed)
            self.register_buffer("relabel", torch.randperm(num_outputs, generator=gen))

    def input_b(self, x: torch.Tensor) -> torch.Tensor:
        return torch.roll(x, self.shift, dims=-1) if self.task_b == "shift" else x

    def labels_b(self, y: torch.Tensor) -> torch.Tensor:
        if self.task_b != "relabel":
            return y
        if y.is_floating_point():
            raise UserError("model.task_b=relabel needs class labels: use model.task_b=shift for regression")
        return self.relabel[y]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Task A's outputs for the batch, then task B's: (2·batch, outputs)."""
        return torch.cat([self.a(x), self.b(self.input_b(x))])

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        return torch.cat([y, self.labels_b(y)])

    def squared_distance(self) -> torch.Tensor:
        """‖w_A − w_B‖² over every pair of corresponding parameters (0 in hard mode)."""
        pairs = list(zip(self.a.parameters(), self.b.parameters()))
        return torch.stack([(pa - pb).pow(2).sum() for pa, pb in pairs]).sum()

    def penalty(self):
        return self.lam * self.squared_distance() if self.mode == "soft" and self.lam > 0 else 0.0

    def evaluation_metrics(self, splits, evaluate) -> dict:
        """Each task's own loss and accuracy on val and test, and ‖w_A − w_B‖; `evaluate(net, (x, y))`
        is the trainer's (loss, accuracy) of a module over a split."""
        row = {}
        for split, pair in (("val", splits.val), ("test", splits.test)):
            if pair is None:
                continue
            x, y = pair
            for task, net, data in (("a", self.a, pair), ("b", self.b, (self.input_b(x), self.labels_b(y)))):
                loss, acc = evaluate(net, data)
                row[f"{split}_loss_{task}"], row[f"{split}_acc_{task}"] = loss, acc
        with torch.no_grad():
            row["weight_distance"] = math.sqrt(self.squared_distance().item())
        return row

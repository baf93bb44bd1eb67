"""What the training loop asks of a model, besides its forward pass: the interface a sharing scheme
(or any other model that trains itself in its own way) implements by subclassing TrainingHooks.
A model that does not subclass it trains as a plain module: hooks_of gives it the defaults.

  targets(y) -> y'             the labels for the model's output rows, when it answers each example
                               more than once (tied_pair.py: task A's rows, then task B's).
  penalty() -> tensor | None   added to every step's loss (soft positional tying, β-LASSO, λ·‖w_A − w_B‖²).
  after_step(step) -> bool     called after every optimizer step with the 1-based step (dynamic
                               sharing averages kernels here); True when the model's parameters
                               changed (untie_at): the optimizer and scheduler are then rebuilt.
  evaluation_metrics(splits, evaluate) -> dict
                               extra columns for each evaluation row (metrics.csv, and final_<column>
                               in summary.json); evaluate(module, (x, y)) gives (loss, accuracy) as
                               the trainer measures them.
  largest_parameter_count()    the parameters it will hold at its largest (a net that unties grows):
                               what the memory check before training counts (train/memory.py).
"""

import torch
import torch.nn as nn


class TrainingHooks:
    """The hooks with the answers of a model that asks for nothing; a subclass overrides what it needs.
    Listed before nn.Module among the bases (class Net(TrainingHooks, nn.Module))."""

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        return y

    def penalty(self) -> torch.Tensor | None:
        return None

    def after_step(self, step: int) -> bool:
        return False

    def evaluation_metrics(self, splits, evaluate) -> dict[str, float]:
        return {}

    def largest_parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


class _Plain(TrainingHooks):
    """The default hooks for a module that does not subclass TrainingHooks."""

    def __init__(self, module: nn.Module):
        self.parameters = module.parameters


def hooks_of(model: nn.Module) -> TrainingHooks:
    """The model's hooks: its own where it subclasses TrainingHooks, else the defaults."""
    return model if isinstance(model, TrainingHooks) else _Plain(model)

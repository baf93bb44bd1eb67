"""The source post's DynamicNet: a middle layer reused a random number of times in every forward pass.

input linear → ReLU → [middle linear → ReLU] × k → output linear, with k drawn from 0…max_reuse by
Python's `random` at every call, as the post does (seeded by the run's seed). The middle layer's
weights are shared across depths: one tensor, used k times. Accounting counts the uses of the one
forward it measures (the same draw as the first training step), so effective counts vary with k.
"""

import math
import random

import torch
import torch.nn as nn

from sharebench.errors import invalid


class DynamicNet(nn.Module):
    def __init__(self, input_shape, num_outputs, hidden=100, max_reuse=3):
        super().__init__()
        if not (isinstance(hidden, int) and not isinstance(hidden, bool) and hidden > 0):
            raise invalid("model.hidden", hidden, "a positive integer", "100")
        if not (isinstance(max_reuse, int) and not isinstance(max_reuse, bool) and max_reuse >= 0):
            raise invalid("model.max_reuse", max_reuse, "a non-negative integer", "3")
        self.max_reuse = max_reuse
        self.input_linear = nn.Linear(math.prod(input_shape), hidden)
        self.middle_linear = nn.Linear(hidden, hidden)
        self.output_linear = nn.Linear(hidden, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h_relu = self.input_linear(x.flatten(1)).clamp(min=0)
        for _ in range(random.randint(0, self.max_reuse)):  # reuse middle_linear k times
            h_relu = self.middle_linear(h_relu).clamp(min=0)
        return self.output_linear(h_relu)

"""MLP: flatten → [linear → ReLU] blocks → linear head. Every weight serves one input position."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from sharebench.errors import invalid


class MLP(nn.Module):
    def __init__(self, input_shape, num_outputs, hidden=(100, 100)):
        super().__init__()
        if not (
            isinstance(hidden, (list, tuple))
            and hidden
            and all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden)
        ):
            raise invalid("model.hidden", hidden, "a list of positive integers (one per hidden layer)", "[100,100]")
        self.input_shape = tuple(input_shape)  # the first layer's input positions (position_maps.py)
        width = math.prod(input_shape)
        self.num_hidden = len(hidden)
        for i, h in enumerate(hidden, start=1):
            setattr(self, f"linear{i}", nn.Linear(width, h))
            width = h
        self.fc = nn.Linear(width, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        for i in range(1, self.num_hidden + 1):
            x = F.relu(getattr(self, f"linear{i}")(x))
        return self.fc(x)

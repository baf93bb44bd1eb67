"""The training batches: each epoch a fresh permutation of the device-resident training set, sliced.

The permutation is drawn on the CPU from the loop's own generator, so every device trains on the same
batches, and it is kept (`order`) so that a run stopped inside an epoch goes on with that epoch's order.
"""

import math

import torch

# Per-step work the MNIST-1D paper's hand loop does not do, batched (scripts/bench/runner_overhead.py):
WHOLE_EPOCH_BYTES = 16 * 2**20  # a training set this small is shuffled once an epoch, not gathered per batch


class EpochBatches:
    def __init__(self, x, y, batch_size: int, generator: torch.Generator, device, order: torch.Tensor | None = None):
        self.x, self.y, self.size = x, y, min(batch_size, len(x))
        self.per_epoch = math.ceil(len(x) / self.size)
        self.generator, self.device = generator, device
        self.order = None if order is None else order.to(device)  # this epoch's order, on the device
        self.whole_epoch, self.shuffled = x.numel() * x.element_size() <= WHOLE_EPOCH_BYTES, None

    def take(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch of the 1-based `step`; the first step of an epoch draws the epoch's order."""
        pos = (step - 1) % self.per_epoch
        if pos == 0:
            self.order = torch.randperm(len(self.x), generator=self.generator).to(self.device, non_blocking=True)
            self.shuffled = None
        lo, hi = pos * self.size, (pos + 1) * self.size
        if (
            not self.whole_epoch
        ):  # one gather per batch (into a buffer that stays in cache): a big set copied whole moves twice the memory
            idx = self.order[lo:hi]
            return self.x.index_select(0, idx), self.y.index_select(0, idx)
        if self.shuffled is None:  # a small set: gathered once an epoch, its batches are views
            self.shuffled = self.x.index_select(0, self.order), self.y.index_select(0, self.order)
        return self.shuffled[0][lo:hi], self.shuffled[1][lo:hi]

    def order_on_cpu(self) -> torch.Tensor | None:
        """This epoch's order, for a checkpoint (None before the first step)."""
        return None if self.order is None else self.order.cpu()

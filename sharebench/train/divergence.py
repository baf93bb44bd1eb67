"""Notice a NaN/inf training loss within a few steps, without the host ever waiting for the device.

Reading a loss on the host (`.item()`) every step would make the CPU wait for the GPU every step,
which is what the loop is built to avoid. Instead, every `every` steps the newest losses are reduced
on the device to one "all finite" flag, which is copied into pinned host memory with a non-blocking
copy, followed by a CUDA event. The flag is read only once the event says the copy has landed
(`event.query()` never blocks). So a divergence is seen at most `every` steps plus the device's
queue later, for three tiny kernel launches per `every` steps. On the CPU there is no device to
wait for: each loss is read as it comes (0.3 µs a step, against 10 µs for the flag route, measured
on the 2-core development machine).
"""

import math

import torch

CUDA_EVERY = 8  # steps between checks on a GPU: the lag in steps vs. kernel launches per step
OTHER_EVERY = 16  # MPS and others: the copy blocks there, so check more rarely


class NonFiniteWatch:
    def __init__(self, device: torch.device):
        self.cuda, self.device = device.type == "cuda", device
        self.every = 1 if device.type == "cpu" else CUDA_EVERY if self.cuda else OTHER_EVERY
        self.host = torch.zeros((), dtype=torch.bool, pin_memory=self.cuda)
        self.event = torch.cuda.Event() if self.cuda else None
        self.in_flight = False
        self.checked = 0  # losses[:checked] are already in a flag
        if device.type == "cpu":
            self.tripped = self._newest_not_finite  # the step loop calls this every step: keep it short

    @staticmethod
    def _newest_not_finite(losses: list[torch.Tensor]) -> bool:
        return not math.isfinite(losses[-1].item())

    def tripped(self, losses: list[torch.Tensor]) -> bool:
        """True once some loss in `losses` (the steps since the last flush) is NaN or inf."""
        if self.in_flight:
            if not self.event.query():
                return False
            self.in_flight = False
            if self.host.item():  # pinned host memory: no device sync
                return True
        if len(losses) - self.checked < self.every:
            return False
        bad = ~torch.isfinite(torch.stack(losses[self.checked :])).all()
        self.checked = len(losses)
        if not self.cuda:
            return bool(bad)
        self.host.copy_(bad, non_blocking=True)
        self.event.record(torch.cuda.current_stream(self.device))  # the run's GPU, which need not be the current one
        self.in_flight = True
        return False

    def reset(self) -> None:
        """The loop flushed (and checked) its losses and starts a new list."""
        self.checked, self.in_flight = 0, False

"""Count what would make the host wait for a GPU, as sharebench's own code calls it.

On the CPU nothing waits, so the calls themselves are counted: reading a tensor's value on the host
(`.item()`, `.tolist()`, `bool()`, `float()`, `int()`) and making a device tensor from Python data
(`torch.tensor` / `torch.as_tensor` with a `device=`: a blocking host→device copy on CUDA). Only calls
made directly from sharebench's package count (PyTorch's own, such as Adam reading its CPU step
counter, do not), and calls made inside the loop's flush (PendingSteps.flush, evaluating, capturing
the state) or by the CPU-only divergence check are the loop's planned synchronisation points.
"""

import sys
from pathlib import Path

import torch

import sharebench

PACKAGE = str(Path(sharebench.__file__).parent)
PLANNED = {  # (file, function) on the stack: the loop's flush and the CPU's per-step loss read
    ("pending.py", "flush"),
    ("loop.py", "evaluate"),
    ("loop.py", "snapshot"),
    ("divergence.py", "_newest_not_finite"),
    (None, "evaluation_metrics"),  # a model's hook, called at each evaluation
}
READS = ("item", "tolist", "__bool__", "__float__", "__int__")


class SyncCounter:
    """A context manager; `.unplanned` lists "file:line function" of each counted call outside PLANNED."""

    def __init__(self):
        self.unplanned: list[str] = []

    def _note(self, what: str) -> None:
        caller = sys._getframe(2)
        if not caller.f_code.co_filename.startswith(PACKAGE):
            return
        frame = caller
        while frame is not None:
            name = frame.f_code.co_name
            if (Path(frame.f_code.co_filename).name, name) in PLANNED or (None, name) in PLANNED:
                return
            frame = frame.f_back
        where = f"{Path(caller.f_code.co_filename).name}:{caller.f_lineno} {caller.f_code.co_name}"
        self.unplanned.append(f"{what} in {where}")

    def __enter__(self):
        self._saved = {name: getattr(torch.Tensor, name) for name in READS}
        self._made = {name: getattr(torch, name) for name in ("tensor", "as_tensor")}
        for name, original in self._saved.items():
            setattr(torch.Tensor, name, self._read(name, original))
        for name, original in self._made.items():
            setattr(torch, name, self._make(name, original))
        return self

    def _read(self, name, original):
        def read(tensor, *args, **kwargs):
            self._note(f".{name}()")
            return original(tensor, *args, **kwargs)

        return read

    def _make(self, name, original):
        def make(data, *args, **kwargs):
            if (kwargs.get("device") is not None or len(args) >= 2) and not isinstance(data, torch.Tensor):
                self._note(f"torch.{name}(..., device=)")
            return original(data, *args, **kwargs)

        return make

    def __exit__(self, *exc):
        for name, original in self._saved.items():
            setattr(torch.Tensor, name, original)
        for name, original in self._made.items():
            setattr(torch, name, original)

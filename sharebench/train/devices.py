"""Which device a run trains on (`device=auto` picks cuda, then mps, then cpu), and how it computes
there: one precision and determinism policy, set in one place, for every arm of a comparison."""

import torch

from sharebench.errors import UserError


def pick_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device={name} but CUDA is not available here: use device=auto or device=cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UserError("device=mps but MPS is not available here: use device=auto or device=cpu")
    device = torch.device(name)
    if device.type == "cuda" and device.index is not None:
        if device.index >= torch.cuda.device_count():
            raise UserError(
                f"device={name} but this machine shows {torch.cuda.device_count()} GPU(s): use device=cuda:0 … "
                f"cuda:{torch.cuda.device_count() - 1}, or device=auto"
            )
        # made current, so that nothing (pinned memory, an event, a library handle) opens a
        # context on GPU 0 as well, and work without an explicit device goes to this one
        torch.cuda.set_device(device)
    return device


def set_precision(device: torch.device, amp: bool) -> dict:
    """One precision for every arm of a comparison, set before the run computes anything; returns
    the summary.json columns that state it.

    float32 is float32 for convolutions and matmuls alike: TF32 off for both (cuDNN's convolutions
    default to TF32 while matmuls stay float32, so a conv would train at lower precision than its
    locally connected or dense twin). With trainer.amp on CUDA, autocast runs both in bfloat16
    (recurrent layers stay float32: models/rnn.py). On CUDA, cuDNN picks deterministic algorithms
    without autotuning, and PyTorch's deterministic variants are used where they exist (a warning,
    not an error, names an operation that has none): cheap for these models' operations.
    """
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    deterministic = device.type == "cuda"
    if deterministic:
        import os

        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # read when cuBLAS starts: before any matmul
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.utils.deterministic.fill_uninitialized_memory = False  # a cost, and our kernels read none
    autocast = amp and device.type == "cuda"
    return {
        "precision": "bfloat16 autocast, recurrences float32" if autocast else "float32",
        "tf32": False,
        "deterministic_algorithms": deterministic,
    }

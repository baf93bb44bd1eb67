"""Will the run fit? An estimate made before training, from shapes only, so that what cannot fit is
refused in one line instead of failing (or swapping) an hour in.

The estimate is a floor, not a forecast: the data as float32 on the device, and per parameter
(at the model's largest: after untie_at, when it unties) its value, its gradient and two optimizer
moments, 16 bytes. Activations, workspaces and the allocator's slack come on top.
"""

import os

import torch

from sharebench.errors import UserError
from sharebench.models.hooks import hooks_of

BYTES_PER_PARAMETER = 4 * 4  # float32 value, gradient, and Adam's two moments


def largest_parameter_count(model: torch.nn.Module) -> int:
    """The parameters the model will hold at its largest (a net that unties grows when it does)."""
    return hooks_of(model).largest_parameter_count()


def device_memory(device: torch.device) -> int | None:
    """Total memory of the device in bytes (the machine's RAM for the CPU); None when unknown."""
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    if device.type == "cpu":
        try:
            return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            return None
    return None


def check_fits(device: torch.device, parameters: int, data_elements: int) -> None:
    """A UserError naming the fix when the floor estimate exceeds the device's memory."""
    total = device_memory(device)
    need = parameters * BYTES_PER_PARAMETER + data_elements * 4
    if total is not None and need > total:
        raise UserError(
            f"this run needs at least {need / 2**30:.1f} GiB on {device} ({parameters:,} parameters at "
            f"16 bytes each with gradients and optimizer state, {data_elements * 4 / 2**30:.1f} GiB of data) "
            f"and {device} has {total / 2**30:.1f} GiB: use a smaller model, input or dataset "
            f"(e.g. model.scheme.untie_to=local instead of dense, model.channels, dataset.train_size)"
        )

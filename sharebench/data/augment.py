"""Augmentation and shifts as batched tensor ops on the device: no per-example Python, no PIL.

Works on images (N, C, H, W) and sequences (N, C, L) alike. A shift moves the content and fills
the positions it vacates with `fill` (per channel: the normalised value of a black pixel), so a
shifted digit sits on its usual background rather than on a grey frame.
"""

from collections.abc import Callable

import torch


def shift(x: torch.Tensor, offsets: torch.Tensor, fill=0.0) -> torch.Tensor:
    """Move example i by offsets[i] positions along each spatial axis ((dy, dx) for images, (d,) for
    sequences; positive = down/right). Values are copied exactly; vacated positions get `fill`."""
    n, c, *size = x.shape
    b = torch.arange(n, device=x.device)
    index, valid = [], torch.ones((n, *size), dtype=torch.bool, device=x.device)
    for axis, length in enumerate(size):
        pos = torch.arange(length, device=x.device) - offsets[:, axis : axis + 1]  # (n, length): source index
        ok = (pos >= 0) & (pos < length)
        view = [n] + [1] * len(size)
        view[axis + 1] = length
        index.append(pos.clamp(0, length - 1).view(view))
        valid &= ok.view(view)
    moved = x[(b.view([n] + [1] * len(size)), slice(None), *index)]  # (n, *size, c): advanced dims first
    moved = moved.movedim(-1, 1)
    fill = torch.as_tensor(fill, dtype=x.dtype, device=x.device).reshape(-1, *([1] * len(size)))
    return torch.where(valid.unsqueeze(1), moved, fill.expand(c, *size))


def make_augment(translate: int, flip: bool, fill, seed: int, device: torch.device) -> Callable | None:
    """A function from a training batch to an augmented batch, or None when nothing is switched on.

    translate: shift each example by a random offset in [-translate, translate] along every axis.
    flip: mirror each example left-right with probability 1/2 (for natural images, not digits).

    The draws come from a CPU generator, as the batch order does: the same augmentation on every
    device, and a generator state that any machine can restore (a CUDA generator's 16-byte state
    fits no CPU generator, and `device=auto` may resolve differently on the machine that resumes).
    Each batch's few draws go to the device with a non-blocking copy: the host never waits.
    """
    if not translate and not flip:
        return None
    gen = torch.Generator().manual_seed(seed)
    # made once: a tensor made from Python numbers on the device every batch is a blocking copy
    fill = torch.as_tensor(fill, dtype=torch.float32).to(device)

    def augment(x: torch.Tensor) -> torch.Tensor:
        if translate:
            offsets = torch.randint(-translate, translate + 1, (len(x), x.dim() - 2), generator=gen)
            x = shift(x, to_device(offsets, x.device), fill.to(x.dtype))
        if flip:
            mirror = to_device(torch.rand(len(x), generator=gen) < 0.5, x.device)
            x = torch.where(mirror.view(-1, *([1] * (x.dim() - 1))), x.flip(-1), x)
        return x

    augment.generator = gen  # its state goes into checkpoint.pt, so a resumed run draws the same
    return augment


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A small CPU tensor on `device` without the host waiting: pinned, then copied asynchronously
    (PyTorch's pinned-memory cache keeps the buffer until the copy has landed)."""
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)

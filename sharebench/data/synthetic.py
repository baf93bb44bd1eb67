"""Random tensors of any shape, for tests and the seeds' random-data examples.

Classification is learnable and rewards locality: each class has a smooth random prototype (a
gaussian-blurred random pattern), and each example is its class's prototype, moved by up to `shift`
positions along each spatial axis, plus gaussian noise. A random linear teacher on noise, used
before, left a CNN at chance: its labels depend on every pixel at once, nothing local to find.
Regression keeps that teacher: targets are a fixed random linear function of gaussian inputs.
"""

import itertools
import math

import torch

from sharebench.data import DataDescription, Splits
from sharebench.errors import UserError

BLUR = 1.5  # std of the gaussian (in positions) that smooths each prototype


def describe(
    shape, task="classification", num_classes=10, out_dim=10, train_size=2000, noise=1.0, shift=2, **_
) -> DataDescription:
    """Check the settings and return the shape of `load`'s output, without making any data."""
    if task not in ("classification", "regression"):
        raise UserError(f"dataset.task={task!r} is not valid: use classification or regression")
    if train_size < 1:
        raise UserError("dataset.train_size must be at least 1 (for example dataset.train_size=2000)")
    shape = tuple(shape)
    if not shape or any(s < 1 for s in shape):
        raise UserError(f"dataset.shape={list(shape)} is not valid: give positive sizes, e.g. [1,28,28]")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise < math.inf:
        raise UserError(f"dataset.noise={noise} is not valid: give a number >= 0, e.g. dataset.noise=1.0")
    if isinstance(shift, bool) or not isinstance(shift, int) or shift < 0:
        raise UserError(f"dataset.shift={shift} is not valid: give an integer >= 0, e.g. dataset.shift=2")
    return DataDescription(shape, num_classes if task == "classification" else out_dim, task)


def blur(x: torch.Tensor, dims: tuple[int, ...], sigma: float) -> torch.Tensor:
    """Gaussian blur along `dims` (periodic, through the FFT): any number of spatial axes at once."""
    if not dims:
        return x
    spectrum = torch.fft.fftn(x, dim=dims)
    for d in dims:
        f = torch.fft.fftfreq(x.shape[d])
        gain = torch.exp(-2 * (math.pi * sigma * f) ** 2)  # the gaussian's Fourier transform
        spectrum = spectrum * gain.view([-1 if i == d else 1 for i in range(x.dim())])
    return torch.fft.ifftn(spectrum, dim=dims).real


def prototypes(
    shape: tuple[int, ...], num_classes: int, shift: int, n: int, noise: float, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` examples (x, y): class prototypes, shifted at random, plus noise; inputs of variance about 1.

    The spatial axes are all but the first (channels) of an image or sequence; a flat vector [D] has
    none, so it is neither smoothed nor shifted. Classes take turns, so every split is near balanced.
    """
    spatial = tuple(range(2, len(shape) + 1)) if len(shape) > 1 else ()
    shift = shift if spatial else 0
    canvas = (num_classes, *shape[:1], *(s + 2 * shift for s in shape[1:])) if spatial else (num_classes, *shape)
    protos = blur(torch.randn(canvas, generator=gen), spatial, BLUR)
    protos = (protos - protos.mean()) / protos.std()  # smoothing shrinks the scale: restore it
    y = (torch.arange(n) % num_classes)[torch.randperm(n, generator=gen)]
    offsets = torch.randint(2 * shift + 1, (n, len(spatial)), generator=gen)
    x = torch.empty(n, *shape)
    for offset in itertools.product(range(2 * shift + 1), repeat=len(spatial)):  # one window per offset
        rows = (offsets == torch.tensor(offset, dtype=torch.long)).all(1).nonzero().flatten()
        window = protos[(slice(None), slice(None), *(slice(o, o + s) for o, s in zip(offset, shape[1:])))]
        x[rows] = window[y[rows]]
    x += noise * torch.randn(x.shape, generator=gen)
    return x / math.sqrt(1 + noise**2), y


def load(
    shape,
    task="classification",
    num_classes=10,
    out_dim=10,
    teacher=True,
    noise=1.0,
    shift=2,
    train_size=2000,
    val_size=500,
    test_size=500,
    data_seed=0,
) -> Splits:
    shape = describe(shape, task, num_classes, out_dim, train_size, noise, shift).input_shape
    gen = torch.Generator().manual_seed(data_seed)
    n = train_size + val_size + test_size
    width = num_classes if task == "classification" else out_dim
    if task == "classification" and teacher:
        x, y = prototypes(shape, num_classes, shift, n, noise, gen)
    else:
        x = torch.randn(n, *shape, generator=gen)
        flat = x.reshape(n, -1)
        # a fixed random linear teacher makes regression targets a learnable function of the inputs
        w = torch.randn(flat.shape[1], width, generator=gen) / math.sqrt(flat.shape[1])
        if task == "classification":  # teacher: false — random labels, only to be memorised
            y = torch.randint(num_classes, (n,), generator=gen)
        else:
            y = flat @ w if teacher else torch.randn(n, width, generator=gen)
    cut = [train_size, train_size + val_size]
    part = lambda a, b: (x[a:b], y[a:b]) if b > a else None  # noqa: E731
    return Splits(train=part(0, cut[0]), val=part(cut[0], cut[1]), test=part(cut[1], n), task=task, num_outputs=width)

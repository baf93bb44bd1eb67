"""Your own images, one folder per class (torchvision's ImageFolder layout), resized to one size.

    path/cat/001.png, path/dog/xyz.jpg, …              → test (and validation) carved off at random
    path/train/cat/…, path/test/cat/…                  → the given split is used

Decoded once into uint8 tensors and cached in `path` (beside the images) until any image changes.
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from sharebench.data import Splits
from sharebench.data.images import cached_decode, image_splits
from sharebench.errors import UserError


def _image_folder(path: Path):
    from torchvision.datasets import ImageFolder

    try:
        # the loader only lists files here; decoding happens once, in _decode
        return ImageFolder(str(path), loader=lambda p: p)
    except (FileNotFoundError, RuntimeError) as err:
        raise UserError(
            f"dataset.path={path}: {' '.join(str(err).split())[:160]}: put one folder per class "
            f"in it, with images inside (png, jpg, …)"
        ) from None


def _decode(samples, size: tuple[int, int], channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    from PIL import Image

    mode = {1: "L", 3: "RGB"}[channels]
    images = np.empty((len(samples), size[0], size[1], channels), dtype=np.uint8)
    for i, (file, _) in enumerate(samples):
        with Image.open(file) as img:
            img = img.convert(mode)
            if img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), Image.BILINEAR)
            images[i] = np.asarray(img).reshape(size[0], size[1], channels)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    return x, torch.tensor([label for _, label in samples], dtype=torch.long)


def _carve_test(x, y, fraction: float, seed: int):
    n_test = round(fraction * len(x))
    if not 0 < n_test < len(x):
        raise UserError(
            f"dataset.test_fraction={fraction} of {len(x)} images leaves no test or no training "
            f"images: use a fraction between 0 and 1, or give the folder train/ and test/ subfolders"
        )
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    return (x[order[n_test:]], y[order[n_test:]]), (x[order[:n_test]], y[order[:n_test]])


def load(
    path: str,
    image_size=(32, 32),
    channels: int = 3,
    test_fraction: float = 0.2,
    val_fraction: float = 0.1,
    split_seed: int = 0,
    train_fraction: float | None = None,
    train_size: int | None = None,
    subset_seed: int = 0,
) -> Splits:
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise UserError(
            f"dataset.path={path} is not a folder: set dataset.path to a folder with one subfolder per class"
        )
    if channels not in (1, 3):
        raise UserError(f"dataset.channels={channels} is not valid: use 1 (grey) or 3 (RGB)")
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    split = (folder / "train").is_dir() and (folder / "test").is_dir()
    parts = (
        {"train": _image_folder(folder / "train"), "test": _image_folder(folder / "test")}
        if split
        else {"train": _image_folder(folder)}
    )
    if split and parts["train"].classes != parts["test"].classes:
        raise UserError(f"{folder}/train and {folder}/test hold different class folders: give both the same")
    classes = parts["train"].classes
    files = [Path(p) for part in parts.values() for p, _ in part.samples]
    key = hashlib.sha1(json.dumps([size, channels, split]).encode()).hexdigest()[:8]

    def decode():
        tensors = {}
        for name, part in parts.items():
            tensors[f"x_{name}"], tensors[f"y_{name}"] = _decode(part.samples, size, channels)
        return tensors

    tensors = cached_decode(folder / f".sharebench-cache-{key}.pt", files, decode)
    if not split:
        (tensors["x_train"], tensors["y_train"]), (tensors["x_test"], tensors["y_test"]) = _carve_test(
            tensors["x_train"], tensors["y_train"], test_fraction, split_seed
        )
    val_size = round(val_fraction * len(tensors["x_train"]))
    return image_splits(tensors, len(classes), val_size, split_seed, train_fraction, train_size, subset_seed)

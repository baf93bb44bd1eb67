"""torchvision datasets (MNIST family, CIFAR, SVHN) read through torchvision's own classes.

Each is decoded once into uint8 tensors (N, C, H, W) and cached next to its files, so later runs
skip torchvision altogether. Files sit where torchvision puts them under `root`; when they are
missing and cannot be fetched, the run ends with one line naming the files and the folder.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sharebench.data import Shape, Splits
from sharebench.data.images import cached_decode, image_splits
from sharebench.errors import UserError


@dataclass(frozen=True)
class Spec:
    folder: str  # under root, as torchvision lays it out
    files: tuple[str, ...]  # what must be in `folder` (the decoded cache depends on these)
    num_classes: int
    source: str  # where to get the files by hand
    input_shape: tuple[int, int, int] = (1, 28, 28)  # (C, H, W) of every example


MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
SPECS = {
    "mnist": Spec("MNIST/raw", MNIST_FILES, 10, "https://ossci-datasets.s3.amazonaws.com/mnist/, gunzipped"),
    "fashion_mnist": Spec(
        "FashionMNIST/raw", MNIST_FILES, 10, "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/, gunzipped"
    ),
    "kmnist": Spec("KMNIST/raw", MNIST_FILES, 10, "http://codh.rois.ac.jp/kmnist/dataset/kmnist/, gunzipped"),
    "emnist": Spec(
        "EMNIST/raw",
        tuple(f"emnist-balanced-{s}-{k}-ubyte" for s in ("train", "test") for k in ("images-idx3", "labels-idx1")),
        47,
        "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip: the emnist-balanced-* files, gunzipped",
    ),
    "cifar10": Spec(
        "cifar-10-batches-py",
        tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta"),
        10,
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, extracted in dataset.root",
        (3, 32, 32),
    ),
    "cifar100": Spec(
        "cifar-100-python",
        ("train", "test", "meta"),
        100,
        "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz, extracted in dataset.root",
        (3, 32, 32),
    ),
    "svhn": Spec(
        "SVHN", ("train_32x32.mat", "test_32x32.mat"), 10, "http://ufldl.stanford.edu/housenumbers/", (3, 32, 32)
    ),
}


def _torchvision_class(name: str, check_md5: bool):
    """torchvision's dataset class; with check_md5=False, one that accepts any files in the same format."""
    from torchvision import datasets

    cls = {
        "mnist": datasets.MNIST,
        "fashion_mnist": datasets.FashionMNIST,
        "kmnist": datasets.KMNIST,
        "emnist": datasets.EMNIST,
        "cifar10": datasets.CIFAR10,
        "cifar100": datasets.CIFAR100,
        "svhn": datasets.SVHN,
    }[name]
    if check_md5 or name not in ("cifar10", "cifar100", "svhn"):
        return cls  # the MNIST family checks only that its files exist

    class SameFormat(cls):
        """Reads files in the published format without comparing them to the published checksums."""

        def _check_integrity(self) -> bool:
            if name == "svhn":
                return os.path.isfile(os.path.join(self.root, self.filename))
            return all(
                os.path.isfile(os.path.join(self.root, self.base_folder, f))
                for f, _ in self.train_list + self.test_list
            )

        def _load_meta(self) -> None:  # class names only; the loader does not need them
            self.classes = []

    return SameFormat


def _read(name: str, root: Path, train: bool, download: bool, check_md5: bool):
    cls = _torchvision_class(name, check_md5)
    if name == "svhn":
        return cls(str(root / "SVHN"), split="train" if train else "test", download=download)
    if name == "emnist":
        return cls(str(root), split="balanced", train=train, download=download)
    return cls(str(root), train=train, download=download)


def _as_uint8(ds, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, C, H, W) uint8 images and int64 labels from a torchvision dataset's arrays."""
    if name in ("cifar10", "cifar100"):  # (N, H, W, C) numpy
        return torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2))), torch.tensor(ds.targets)
    if name == "svhn":  # (N, C, H, W) numpy
        return torch.from_numpy(np.ascontiguousarray(ds.data)), torch.from_numpy(ds.labels).long()
    x = ds.data.unsqueeze(1)  # MNIST family: (N, H, W) uint8 tensor
    if name == "emnist":  # EMNIST's files store each image transposed; torchvision leaves that to the user
        x = x.transpose(2, 3)
    return x, ds.targets.long()


def _missing_message(name: str, folder: Path, download: bool, reason: str) -> str:
    spec = SPECS[name]
    missing = [f for f in spec.files if not (folder / f).is_file()] or list(spec.files)
    why = f"the download failed ({reason})" if download else "dataset.download=false"
    return (
        f"{name}: files missing and {why}: put {', '.join(missing)} in {folder} (get them from "
        f"{spec.source}), or point dataset.root at the folder that holds {spec.folder}/"
    )


def decode(name: str, root: Path, download: bool, check_md5: bool) -> dict[str, torch.Tensor]:
    folder = root / SPECS[name].folder
    try:
        (x_train, y_train), (x_test, y_test) = (
            _as_uint8(_read(name, root, train, download, check_md5), name) for train in (True, False)
        )
    except ImportError as err:  # SVHN reads .mat files with scipy
        raise UserError(
            f"{name} needs {err.name or 'an optional package'}: "
            f"pip install -e . (sharebench depends on it) or pip install scipy"
        ) from None
    except Exception as err:  # torchvision says "not found", "corrupted", or fails to parse a file
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        if not all((folder / f).is_file() for f in SPECS[name].files):
            raise UserError(_missing_message(name, folder, download, reason)) from None
        if check_md5 and "corrupted" in reason:
            raise UserError(
                f"{name}: the files in {folder} do not match torchvision's published checksums: "
                f"fetch them afresh, or set dataset.check_md5=false to read files of your own "
                f"in the same format"
            ) from None
        raise UserError(
            f"{name}: could not read the files in {folder} ({reason}): replace them with "
            f"the published ones from {SPECS[name].source}"
        ) from None
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def load(
    name: str,
    root: str,
    download: bool = True,
    check_md5: bool = True,
    val_size: int = 5000,
    split_seed: int = 0,
    train_fraction: float | None = None,
    train_size: int | None = None,
    subset_seed: int = 0,
) -> Splits:
    if name not in SPECS:
        raise UserError(f"dataset.name={name!r} is not valid: use one of {', '.join(SPECS)}")
    root_path = Path(root).expanduser()
    folder = root_path / SPECS[name].folder
    files = [folder / f for f in SPECS[name].files]
    # the cache lives beside the files it was decoded from: one file, read in one go; files read
    # without their md5 check get a cache of their own, which a checking run never takes for checked
    unchecked = not check_md5 and name in ("cifar10", "cifar100", "svhn")
    cache = folder / f"sharebench-{name}-uint8{'-unchecked' if unchecked else ''}.pt"
    tensors = cached_decode(cache, files, lambda: decode(name, root_path, download, check_md5))
    return image_splits(tensors, SPECS[name].num_classes, val_size, split_seed, train_fraction, train_size, subset_seed)


def describe(name: str, **_) -> Shape:
    """Shape of `load`'s output without reading (or downloading) any file."""
    if name not in SPECS:
        raise UserError(f"dataset.name={name!r} is not valid: use one of {', '.join(SPECS)}")
    return Shape(input_shape=SPECS[name].input_shape, num_outputs=SPECS[name].num_classes, task="classification")

"""torchvision datasets (MNIST family, CIFAR, SVHN) read through torchvision's own classes.

Each is decoded once into uint8 tensors (N, C, H, W) and cached next to its files, so later runs
skip torchvision altogether. Files sit where torchvision puts them under `root`; when they are
missing and cannot be fetched, the run ends with one line naming the files and the folder.
Everything known of one dataset is its record in DATASETS: adding one is a record and a
conf/dataset/<name>.yaml (see docs/contributing/recipes.md).
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from sharebench.data import DataDescription, Splits
from sharebench.data.images import cached_decode, image_splits
from sharebench.errors import UserError

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@dataclass(frozen=True)
class TorchvisionDataset:
    """One torchvision dataset: its class, where its files lie, and how its arrays are laid out."""

    torchvision_class: str  # in torchvision.datasets
    folder: str  # under root, as torchvision lays it out
    files: tuple[str, ...]  # what must be in `folder` (the decoded cache depends on these)
    num_classes: int
    source: str  # where to get the files by hand
    input_shape: tuple[int, int, int] = (1, 28, 28)  # (C, H, W) of every example
    layout: str = "NHW"  # its `data`, uint8: NHW (MNIST family) | NHWC (CIFAR) | NCHW (SVHN)
    labels: str = "targets"  # the attribute holding the labels
    root_folder: str = ""  # the root its class is given, under dataset.root (SVHN: its own folder)
    by_split_name: bool = False  # the class takes split="train"|"test" instead of train=True|False
    class_args: dict = field(default_factory=dict)  # more arguments for the class (EMNIST: its split)
    transposed: bool = False  # the files store each image transposed (EMNIST); torchvision leaves it so
    checksummed: bool = False  # the class compares the files with published md5 sums (dataset.check_md5)


DATASETS = {
    "mnist": TorchvisionDataset(
        "MNIST", "MNIST/raw", MNIST_FILES, 10, "https://ossci-datasets.s3.amazonaws.com/mnist/, gunzipped"
    ),
    "fashion_mnist": TorchvisionDataset(
        "FashionMNIST",
        "FashionMNIST/raw",
        MNIST_FILES,
        10,
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/, gunzipped",
    ),
    "kmnist": TorchvisionDataset(
        "KMNIST", "KMNIST/raw", MNIST_FILES, 10, "http://codh.rois.ac.jp/kmnist/dataset/kmnist/, gunzipped"
    ),
    "emnist": TorchvisionDataset(
        "EMNIST",
        "EMNIST/raw",
        tuple(f"emnist-balanced-{s}-{k}-ubyte" for s in ("train", "test") for k in ("images-idx3", "labels-idx1")),
        47,
        "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip: the emnist-balanced-* files, gunzipped",
        class_args={"split": "balanced"},
        transposed=True,
    ),
    "cifar10": TorchvisionDataset(
        "CIFAR10",
        "cifar-10-batches-py",
        tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta"),
        10,
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz, extracted in dataset.root",
        (3, 32, 32),
        layout="NHWC",
        checksummed=True,
    ),
    "cifar100": TorchvisionDataset(
        "CIFAR100",
        "cifar-100-python",
        ("train", "test", "meta"),
        100,
        "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz, extracted in dataset.root",
        (3, 32, 32),
        layout="NHWC",
        checksummed=True,
    ),
    "svhn": TorchvisionDataset(
        "SVHN",
        "SVHN",
        ("train_32x32.mat", "test_32x32.mat"),
        10,
        "http://ufldl.stanford.edu/housenumbers/",
        (3, 32, 32),
        layout="NCHW",
        labels="labels",
        root_folder="SVHN",
        by_split_name=True,
        checksummed=True,
    ),
}


def _torchvision_class(name: str, check_md5: bool, folder: Path):
    """torchvision's dataset class; with check_md5=False, one that accepts any files in the same format
    (all of `files` present in `folder`)."""
    from torchvision import datasets

    spec = DATASETS[name]
    cls = getattr(datasets, spec.torchvision_class)
    if check_md5 or not spec.checksummed:
        return cls  # the MNIST family checks only that its files exist

    class SameFormat(cls):
        """Reads files in the published format without comparing them to the published checksums."""

        def _check_integrity(self) -> bool:
            return all((folder / f).is_file() for f in spec.files)

        def _load_meta(self) -> None:  # class names only; the loader does not need them
            self.classes = []

    return SameFormat


def _read(name: str, root: Path, train: bool, download: bool, check_md5: bool):
    spec = DATASETS[name]
    split = {"split": "train" if train else "test"} if spec.by_split_name else {"train": train}
    return _torchvision_class(name, check_md5, root / spec.folder)(
        str(root / spec.root_folder), **split, **spec.class_args, download=download
    )


def _as_uint8(ds, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, C, H, W) uint8 images and int64 labels from a torchvision dataset's arrays."""
    spec = DATASETS[name]
    if spec.layout == "NHW":  # a uint8 tensor (MNIST family) or array
        x = torch.as_tensor(ds.data).unsqueeze(1)
    else:  # numpy
        x = torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2) if spec.layout == "NHWC" else ds.data))
    if spec.transposed:
        x = x.transpose(2, 3)
    return x, torch.as_tensor(getattr(ds, spec.labels)).long()


def _missing_message(name: str, folder: Path, download: bool, reason: str) -> str:
    spec = DATASETS[name]
    missing = [f for f in spec.files if not (folder / f).is_file()] or list(spec.files)
    why = f"the download failed ({reason})" if download else "dataset.download=false"
    return (
        f"{name}: files missing and {why}: put {', '.join(missing)} in {folder} (get them from "
        f"{spec.source}), or point dataset.root at the folder that holds {spec.folder}/"
    )


def decode(name: str, root: Path, download: bool, check_md5: bool) -> dict[str, torch.Tensor]:
    folder = root / DATASETS[name].folder
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
        if not all((folder / f).is_file() for f in DATASETS[name].files):
            raise UserError(_missing_message(name, folder, download, reason)) from None
        if check_md5 and "corrupted" in reason:
            raise UserError(
                f"{name}: the files in {folder} do not match torchvision's published checksums: "
                f"fetch them afresh, or set dataset.check_md5=false to read files of your own "
                f"in the same format"
            ) from None
        raise UserError(
            f"{name}: could not read the files in {folder} ({reason}): replace them with "
            f"the published ones from {DATASETS[name].source}"
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
    if name not in DATASETS:
        raise UserError(f"dataset.name={name!r} is not valid: use one of {', '.join(DATASETS)}")
    root_path = Path(root).expanduser()
    folder = root_path / DATASETS[name].folder
    files = [folder / f for f in DATASETS[name].files]
    # the cache lives beside the files it was decoded from: one file, read in one go; files read
    # without their md5 check get a cache of their own, which a checking run never takes for checked
    unchecked = not check_md5 and DATASETS[name].checksummed
    cache = folder / f"sharebench-{name}-uint8{'-unchecked' if unchecked else ''}.pt"
    tensors = cached_decode(cache, files, lambda: decode(name, root_path, download, check_md5))
    return image_splits(
        tensors, DATASETS[name].num_classes, val_size, split_seed, train_fraction, train_size, subset_seed
    )


def describe(name: str, **_) -> DataDescription:
    """What `load` returns, without reading (or downloading) any file."""
    if name not in DATASETS:
        raise UserError(f"dataset.name={name!r} is not valid: use one of {', '.join(DATASETS)}")
    return DataDescription(
        input_shape=DATASETS[name].input_shape, num_outputs=DATASETS[name].num_classes, task="classification"
    )

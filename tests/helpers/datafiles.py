"""Small datasets in their genuine published formats, written locally (random pixels, no network)."""

import pickle
import struct
from pathlib import Path

import numpy as np

MNIST_NAMES = {"train": "train", "test": "t10k"}


def write_idx(path: Path, array: np.ndarray) -> None:
    """IDX (LeCun's MNIST format): magic 0x0000080<ndim> for ubyte, big-endian dims, raw bytes."""
    header = struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def images_and_labels(n: int, shape, classes: int, seed: int):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % classes  # every class equally often
    rng.shuffle(labels)
    return rng.integers(0, 256, (n, *shape), dtype=np.uint8), labels


def write_mnist(root: Path, folder="MNIST", n_train=300, n_test=100, prefix=None, classes=10):
    """torchvision's layout: root/<folder>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        x, y = images_and_labels(n, (28, 28), classes, seed=len(split))
        stem = f"{prefix}-{split}" if prefix else MNIST_NAMES[split]
        write_idx(raw / f"{stem}-images-idx3-ubyte", x)
        write_idx(raw / f"{stem}-labels-idx1-ubyte", y)
        arrays[split] = (x, y)
    return arrays


def write_cifar(root: Path, hundred=False, per_batch=60, n_test=50):
    """Python pickles as published: dicts with 'data' (N×3072 uint8, channel planes) and labels."""
    folder = root / ("cifar-100-python" if hundred else "cifar-10-batches-py")
    folder.mkdir(parents=True, exist_ok=True)
    classes, key = (100, "fine_labels") if hundred else (10, "labels")
    names = ["train"] if hundred else [f"data_batch_{i}" for i in range(1, 6)]
    arrays = {"train": [], "test": []}
    for i, name in enumerate(names + ["test" if hundred else "test_batch"]):
        n = per_batch * (5 if hundred else 1) if i < len(names) else n_test
        x, y = images_and_labels(n, (3072,), classes, seed=10 + i)
        with open(folder / name, "wb") as f:
            pickle.dump({"data": x, key: y.tolist(), "batch_label": name}, f)
        arrays["train" if i < len(names) else "test"].append((x, y))
    with open(folder / ("meta" if hundred else "batches.meta"), "wb") as f:
        pickle.dump({("fine_label_names" if hundred else "label_names"): [str(c) for c in range(classes)]}, f)
    return {k: (np.concatenate([a for a, _ in v]), np.concatenate([b for _, b in v])) for k, v in arrays.items()}


def write_svhn(root: Path, n_train=80, n_test=40):
    """The .mat files: X is 32×32×3×N uint8, y is N×1 with the digit 0 stored as 10."""
    from scipy.io import savemat

    (root / "SVHN").mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        x, y = images_and_labels(n, (3, 32, 32), 10, seed=20 + n)
        savemat(
            root / "SVHN" / f"{split}_32x32.mat", {"X": x.transpose(2, 3, 1, 0), "y": np.where(y == 0, 10, y)[:, None]}
        )
        arrays[split] = (x, y)
    return arrays


def write_image_folder(root: Path, classes=("cat", "dog", "owl"), per_class=12, size=(20, 24)):
    """PNG files written by PIL, one folder per class, sizes different from the target size."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / c / f"{i:03d}.png")
    return root


def write_vision(name: str, root: Path):
    """The files of torchvision dataset `name` (a key of sharebench.data.vision.DATASETS) under root."""
    from sharebench.data.vision import DATASETS

    record = DATASETS[name]
    if record.layout == "NHW":  # the MNIST family: IDX files, EMNIST's with a prefix
        prefix = record.files[0].split("-train-")[0] if "-train-" in record.files[0] else None
        folder = record.folder.split("/")[0]
        return write_mnist(
            root, folder=folder, prefix=prefix, classes=record.num_classes, n_train=2 * record.num_classes
        )
    if record.torchvision_class in ("CIFAR10", "CIFAR100"):
        return write_cifar(root, hundred=record.torchvision_class == "CIFAR100")
    if record.torchvision_class == "SVHN":
        return write_svhn(root)
    raise AssertionError(f"tests/helpers/datafiles.py cannot write {name}'s files yet: add a writer for its format")


def offline_settings(dataset_cfg, root: Path) -> dict:
    """The dataset keys to set for a shipped dataset config to load offline; for the loaders that read
    files, small files in the published format are written under root first."""
    target = dataset_cfg["_target_"]
    if target == "sharebench.data.vision.load":
        write_vision(dataset_cfg["name"], root)
        settings = {"root": str(root), "download": False, "val_size": 10}
        return {**settings, "check_md5": False} if "check_md5" in dataset_cfg else settings  # random pixels
    if target == "sharebench.data.folder.load":
        return {"path": str(write_image_folder(root / "pictures"))}
    if target in ("sharebench.data.synthetic.load", "sharebench.data.mnist1d.load", "sharebench.data.mnist5k.load"):
        return {}  # made by code (MNIST-1D cached once per test session) or shipped inside a wheel
    raise AssertionError(f"tests/helpers/datafiles.py does not know the loader {target}: say how it loads offline")

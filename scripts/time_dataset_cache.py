"""Time loading a full-size MNIST-format dataset twice in one process: decode + cache, then cache.

Writes 60,000 + 10,000 random 28×28 images as genuine IDX files into a temporary folder (no
download), loads them through torchvision (first run) and from sharebench's uint8 cache (second).
    python scripts/time_dataset_cache.py
"""

import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray) -> None:
    path.write_bytes(
        struct.pack(">I", 0x0800 + array.ndim)
        + struct.pack(f">{array.ndim}I", *array.shape)
        + array.astype(np.uint8).tobytes()
    )


def main() -> None:
    from sharebench.data import vision

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as root:
        raw = Path(root) / "MNIST" / "raw"
        raw.mkdir(parents=True)
        for stem, n in (("train", 60000), ("t10k", 10000)):
            write_idx(raw / f"{stem}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
            write_idx(raw / f"{stem}-labels-idx1-ubyte", rng.integers(0, 10, n))
        times = []
        for label in ("first (torchvision decode + cache write)", "second (cache)"):
            start = time.perf_counter()
            splits = vision.load("mnist", root, download=False)
            times.append(time.perf_counter() - start)
            print(f"{label:42s} {times[-1]:.3f} s  {splits.sizes()}")
        print(f"second / first: {times[1] / times[0]:.3f}")


if __name__ == "__main__":
    sys.exit(main())

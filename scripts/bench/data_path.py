"""One epoch of sharebench's own MNIST path (decoded once, normalised, resident on the device) vs a
DataLoader over torchvision's MNIST, as the seed posts' readers write it. Both sides train the same
model from the same weights with the same optimizer (sharebench's default, built from its config),
so only the data path differs."""

import copy
import struct
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

from scripts.bench.harness import cfg, side_by_side
from sharebench import data, models
from sharebench.train.loop import fit
from sharebench.train.optimizers import build_optimizer


def write_mnist_idx(root: Path, n: int) -> None:
    """Genuine MNIST IDX files (random pixels) where torchvision.datasets.MNIST looks for them."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    for split, count in (("train", n), ("t10k", 1000)):
        images = torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=gen)
        labels = torch.randint(0, 10, (count,), dtype=torch.uint8, generator=gen)
        (raw / f"{split}-images-idx3-ubyte").write_bytes(
            struct.pack(">IIII", 2051, count, 28, 28) + images.numpy().tobytes()
        )
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, count) + labels.numpy().tobytes())


def measure(device, quick: bool) -> list[dict]:
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        write_mnist_idx(Path(tmp), 6000 if quick else 60000)
        for model_name, subset in (("mlp", None), ("shared_cnn", 1000 if quick else 5000)):
            c = cfg(
                f"model={model_name}",
                "dataset=mnist",
                f"dataset.root={tmp}",
                "dataset.download=false",
                "dataset.val_size=0",
                f"dataset.train_size={subset or 'null'}",
                "trainer.progress=false",
                "trainer.epochs=1",
                "trainer.plots=false",
            )
            splits = data.load(c.dataset).to(device)
            n = len(splits.train[0])
            torch.manual_seed(0)
            initial = models.build(c.model, (1, 28, 28), 10).to(device)
            to_tensor = transforms.ToTensor()
            normalized = transforms.Compose([to_tensor, transforms.Normalize((0.1307,), (0.3081,))])
            loaders = {
                name: DataLoader(
                    Subset(datasets.MNIST(tmp, train=True, download=False, transform=t), range(n)),
                    batch_size=100,
                    shuffle=True,
                    num_workers=0,
                )
                for name, t in (("DataLoader + ToTensor", to_tensor), ("DataLoader + ToTensor + Normalize", normalized))
            }

            def resident():
                model = copy.deepcopy(initial)
                opt = build_optimizer(c.optim, model.parameters())
                fit(model, splits, opt, c.trainer, device, 0, lambda row: None, lambda rows: None)

            def through(loader):
                def epoch():  # what a reader of the seed posts writes
                    model = copy.deepcopy(initial)
                    opt = build_optimizer(c.optim, model.parameters())
                    for xb, yb in loader:
                        xb, yb = xb.to(device), yb.to(device)
                        loss = F.cross_entropy(model(xb), yb)
                        opt.zero_grad()
                        loss.backward()
                        opt.step()

                return epoch

            def bare_loop():  # the same batches with nothing else: no records, no bookkeeping
                model = copy.deepcopy(initial)
                opt = build_optimizer(c.optim, model.parameters())
                order = torch.randperm(n, device=device)
                for start in range(0, n, 100):
                    idx = order[start : start + 100]
                    loss = F.cross_entropy(
                        model(splits.train[0].index_select(0, idx)), splits.train[1].index_select(0, idx)
                    )
                    opt.zero_grad()
                    loss.backward()
                    opt.step()

            variants = {
                "device-resident tensors": resident,
                **{k: through(v) for k, v in loaders.items()},
                "minimal loop over resident tensors": bare_loop,
            }
            t = side_by_side(variants, device, 2 if quick else 3, warmup=0 if quick else 1)
            for name, s in t.items():
                rows.append(
                    {
                        "model": model_name,
                        "examples": n,
                        "data_path": name,
                        "epoch_seconds": round(s, 3),
                        "speedup_vs_dataloader": round(t.ratio("DataLoader + ToTensor", name), 2),
                    }
                )
    return rows

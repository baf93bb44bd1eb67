"""Datasets as device-resident tensors: every loader returns a Splits.

The contract of a dataset (one module per kind, one conf/dataset/<name>.yaml per option):
- its config's `_target_` names the module's `load` (e.g. sharebench.data.vision.load); every other
  key of the config is an argument of `load`, which returns a Splits (uint8 images are normalised on
  the device by Splits.to);
- the module may have `describe`, called with the same arguments as `load` (take what it needs, and
  **_ for the rest): a DataDescription of what `load` will return, reading no data. The checks then
  build the model for that input before a run starts (checks/dry_build.py); without `describe` the
  shape is learned by loading (e.g. image_folder, whose shape is in its files).
vision.py holds the torchvision datasets, one record each (DATASETS).
"""

import importlib
from dataclasses import dataclass, replace

import torch
from omegaconf import DictConfig

from sharebench.errors import instantiate

Pair = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class Splits:
    """Train/val/test tensors of one dataset; val or test may be None when a dataset has none."""

    train: Pair
    val: Pair | None
    test: Pair | None
    task: str  # "classification" (integer labels) or "regression" (float targets)
    num_outputs: int  # classes, or regression target width
    fill: float | list[float] = 0.0  # per channel: what an empty input position holds (shift padding)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train[0].shape[1:])

    def sizes(self) -> dict[str, int]:
        return {
            name: (len(pair[0]) if pair is not None else 0)
            for name, pair in (("train", self.train), ("val", self.val), ("test", self.test))
        }

    def elements(self) -> int:
        """Input values over all splits: what the data weigh on the device, in float32 values."""
        return sum(pair[0].numel() for pair in (self.train, self.val, self.test) if pair is not None)

    def to(self, device: torch.device) -> "Splits":
        def move(pair):
            return None if pair is None else (pair[0].to(device), pair[1].to(device))

        moved = replace(self, train=move(self.train), val=move(self.val), test=move(self.test))
        if moved.train[0].dtype == torch.uint8:  # decoded images: normalise once, on the device
            moved = normalize(moved)
        return moved


def normalize(splits: Splits) -> Splits:
    """uint8 → float on the device, per channel to mean 0 and std 1 over the training split.

    `fill` becomes the normalised value of a black (0) pixel: what shifted images are padded with.
    """
    x = splits.train[0]
    dims = [d for d in range(x.dim()) if d != 1]
    mean = torch.zeros(x.shape[1], device=x.device)
    sq = torch.zeros(x.shape[1], device=x.device)
    for start in range(0, len(x), 4096):  # in chunks: a float copy of all of CIFAR at once is large
        chunk = x[start : start + 4096].float() / 255
        mean += chunk.sum(dims)
        sq += chunk.square().sum(dims)
    count = x.numel() / x.shape[1]
    mean /= count
    std = (sq / count - mean.square()).clamp_min(1e-12).sqrt().clamp_min(1e-3)  # a blank channel stays finite
    shape = (1, -1) + (1,) * (x.dim() - 2)

    def convert(pair):
        if pair is None:
            return None
        # chunk by chunk into the float tensor: the device then holds the uint8 set, the float set
        # and one chunk's temporaries, never full-size temporaries beside them
        x, out = pair[0], torch.empty(pair[0].shape, device=pair[0].device)
        for start in range(0, len(x), 4096):
            chunk = out[start : start + 4096]
            torch.div(x[start : start + 4096], 255, out=chunk)
            chunk.sub_(mean.view(shape)).div_(std.view(shape))
        return out, pair[1]

    return replace(
        splits,
        train=convert(splits.train),
        val=convert(splits.val),
        test=convert(splits.test),
        fill=(-mean / std).tolist(),
    )


def carve_validation(x: torch.Tensor, y: torch.Tensor, val_size: int, seed: int) -> tuple[Pair, Pair | None]:
    """Split (x, y) into train and a validation set of `val_size` examples, fixed by `seed`."""
    if val_size == 0:
        return (x, y), None
    if val_size >= len(x):
        from sharebench.errors import UserError

        raise UserError(
            f"dataset.val_size={val_size} leaves no training data ({len(x)} examples): use a smaller dataset.val_size"
        )
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    val, train = order[:val_size], order[val_size:]
    take = torch.index_select  # same as x[train], several times faster on large uint8 image sets
    return (take(x, 0, train), take(y, 0, train)), (take(x, 0, val), take(y, 0, val))


@dataclass(frozen=True)
class DataDescription:
    """What a model needs to know of a dataset, without its data: `describe` returns it."""

    input_shape: tuple[int, ...]
    num_outputs: int
    task: str


def declared(dataset_cfg: DictConfig) -> DataDescription | None:
    """What a loader module's `describe` declares from the loader's arguments, reading no data;
    None when the module has no `describe` (e.g. image_folder, whose shape is in the files)."""
    module, _, func = dataset_cfg.get("_target_", "").rpartition(".")
    if func != "load" or not hasattr(importlib.import_module(module), "describe"):
        return None
    return instantiate({**dataset_cfg, "_target_": f"{module}.describe"}, _convert_="all")


def describe(dataset_cfg: DictConfig) -> DataDescription:
    """The dataset's input shape and outputs: declared when the loader can say, else loaded (slow but right)."""
    description = declared(dataset_cfg)
    if description is None:
        splits = load(dataset_cfg)
        description = DataDescription(splits.input_shape, splits.num_outputs, splits.task)
    return description


def load(dataset_cfg: DictConfig) -> Splits:
    """Build the dataset named by the config's `_target_` (a loader function returning Splits)."""
    return instantiate(dataset_cfg, _convert_="all")

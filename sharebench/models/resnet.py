"""Transfer learning with a torchvision ResNet: a pretrained (or sharebench-trained) backbone and a new
linear head for this dataset's classes, as in the source post's `resnet18(pretrained=True)` example.

Parameter names are torchvision's own (`conv1.weight`, …, `fc.weight`), so `params.csv` reads like the
source post's `named_parameters()` printout and a torchvision state_dict loads as it is. Inputs are adapted on
the device inside forward: one channel is repeated to three, and `input_size` resizes the image.
"""

import os
from pathlib import Path
from urllib.parse import urlparse

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from sharebench.errors import UserError

DEPTHS = (18, 34, 50, 101, 152)
BACKBONE = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool")


def imagenet_cache_file(depth: int) -> Path:
    """Where torch hub keeps torchvision's ImageNet weights for this depth ($TORCH_HOME/hub/checkpoints/…)."""
    url = torchvision.models.get_model_weights(f"resnet{depth}").DEFAULT.url
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)


def _imagenet_state_dict(depth: int) -> dict:
    """torchvision's own loader: reads the hub cache, downloading into it when the file is missing."""
    weights = torchvision.models.get_model_weights(f"resnet{depth}").DEFAULT
    try:
        return weights.get_state_dict(progress=False)
    except OSError as err:  # no network (URLError is an OSError), or an unreadable file
        raise UserError(
            f"cannot download the ImageNet weights of resnet{depth} ({err}): place the file "
            f"{imagenet_cache_file(depth)} (from {weights.url}) by hand, or use model.weights=none"
        ) from None


def _checkpoint_state_dict(path: str) -> dict:
    """A state_dict saved by sharebench (`model.pt`, or the run dir holding it) or by torchvision."""
    file = Path(path).expanduser()
    if file.is_dir():
        file = file / "model.pt"
    if not file.is_file():
        raise UserError(
            f"model.weights={path!r}: no such checkpoint file; give a run dir with model.pt, "
            f"a .pt state_dict, imagenet or none"
        )
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as err:
        raise UserError(
            f"model.weights={path!r} cannot be read as a state_dict ({type(err).__name__}): "
            f"give a model.pt that sharebench or torch.save wrote"
        ) from None
    if not isinstance(state, dict):
        raise UserError(
            f"model.weights={path!r} holds a {type(state).__name__}, not a state_dict: save one "
            f"with torch.save(model.state_dict(), path)"
        )
    return state


class ResNetTransfer(nn.Module):
    """torchvision ResNet-`depth` whose `fc` is a new Linear(features → num_outputs).

    weights: "imagenet" | "none" | path to a checkpoint (its `fc` is dropped: the head is always new).
    freeze: the backbone's parameters do not train and its BatchNorm layers stay in eval mode.
    input_size: resize images to input_size × input_size (null keeps the dataset's size).
    """

    def __init__(self, input_shape, num_outputs, depth=18, weights="imagenet", freeze=True, input_size=None):
        super().__init__()
        if depth not in DEPTHS:
            raise UserError(f"model.depth={depth} is not valid: use one of {', '.join(map(str, DEPTHS))}")
        if not isinstance(freeze, bool):
            raise UserError(f"model.freeze={freeze!r} is not valid: use true or false")
        if input_size is not None and not (isinstance(input_size, int) and input_size > 0):
            raise UserError(f"model.input_size={input_size!r} is not valid: use a positive integer (e.g. 224) or null")
        if not isinstance(weights, str) or not weights:
            raise UserError(f"model.weights={weights!r} is not valid: use imagenet, none or a checkpoint path")
        if len(input_shape) != 3 or input_shape[0] not in (1, 3):
            raise UserError(
                f"model=resnet_transfer takes 1- or 3-channel images [C, H, W], not "
                f"{list(input_shape)}: pick an image dataset (e.g. dataset.shape=[3,32,32])"
            )
        self.depth, self.freeze, self.weights = depth, bool(freeze), str(weights)
        self.repeat_channels = input_shape[0] == 1
        self.input_size = None if input_size is None else (int(input_size),) * 2
        net = getattr(torchvision.models, f"resnet{depth}")(weights=None)
        choice = self.weights.lower()
        state = (
            None
            if choice == "none"
            else _imagenet_state_dict(depth)
            if choice == "imagenet"
            else _checkpoint_state_dict(self.weights)
        )
        if state is not None:
            backbone_state = {k: v for k, v in state.items() if not k.startswith("fc.")}
            self._check_fits(net, backbone_state)
            if net.conv1.weight.device.type != "meta":  # the checks build on meta: shapes only, nothing to copy
                net.load_state_dict(backbone_state, strict=False)
        for name in BACKBONE:  # torchvision's names at the top level, as in the source post's printout
            setattr(self, name, getattr(net, name))
        self.fc = nn.Linear(net.fc.in_features, num_outputs)
        if self.freeze:
            for name in BACKBONE:
                getattr(self, name).requires_grad_(False)
            self.train()  # puts the frozen BatchNorm layers into eval mode from the start

    def _check_fits(self, net: nn.Module, state) -> None:
        expected = {k: v.shape for k, v in net.state_dict().items() if not k.startswith("fc.")}
        missing = sorted(set(expected) - set(state))
        wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k])]
        if missing or wrong or set(state) - set(expected):
            bad = (missing or wrong or sorted(set(state) - set(expected)))[0]
            raise UserError(
                f"model.weights={self.weights!r} does not fit resnet{self.depth} (e.g. {bad}): "
                f"was it saved from another model or model.depth? Use a matching model.depth"
            )

    def train(self, mode: bool = True) -> "ResNetTransfer":
        super().train(mode)
        if self.freeze:  # a frozen backbone keeps its running statistics: BatchNorm stays in eval mode
            for name in BACKBONE:
                getattr(self, name).eval()
        return self

    def adapt(self, x: torch.Tensor) -> torch.Tensor:
        """Grayscale → three channels and resizing, as tensor ops on x's device."""
        if self.repeat_channels:
            x = x.expand(-1, 3, -1, -1)
        if self.input_size is not None and tuple(x.shape[-2:]) != self.input_size:
            x = F.interpolate(x, size=self.input_size, mode="bilinear", align_corners=False)
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone: adapted input → pooled feature vector (B, 512 for ResNet-18/34, 2048 deeper)."""
        x = self.adapt(x)
        for name in BACKBONE:
            x = getattr(self, name)(x)
        return x.flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))

    def split_frozen(self):
        """(backbone, head) when the backbone is frozen, so its features can be computed once; else None."""
        return (self.features, self.fc) if self.freeze else None

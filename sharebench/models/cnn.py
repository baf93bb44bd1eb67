"""ConvNet: [conv → ReLU (→ pool)] blocks and a linear head, with shared or locally connected layers.

With layer="conv" one kernel is shared by every position; with layer="local" every output position
owns its kernel (same topology, same FLOPs, no sharing); layer="tiled" sits between them (`tile`×`tile`
kernel banks in rotation, see tiled.py); layer="dense" connects every output unit to every input
(same output shapes, no locality either). 1-D or 2-D follows the input shape.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from sharebench.errors import UserError
from sharebench.models.layers import LocallyConnected1d, LocallyConnected2d
from sharebench.models.tiled import TiledConv1d, TiledConv2d


class DenseMap(nn.Module):
    """A fully connected layer with a conv layer's input and output shapes: (B, C, *size) → (B, O, *out)."""

    def __init__(self, in_channels, out_channels, input_size, output_size):
        super().__init__()
        self.output_shape = (out_channels, *output_size)
        self.weight = nn.Parameter(torch.empty(math.prod(self.output_shape), in_channels * math.prod(input_size)))
        self.bias = nn.Parameter(torch.empty(self.weight.shape[0]))
        bound = 1 / math.sqrt(self.weight.shape[1])  # as nn.Linear
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            self.bias.uniform_(-bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.flatten(1), self.weight, self.bias).view(-1, *self.output_shape)


LAYERS = {("conv", 1): nn.Conv1d, ("conv", 2): nn.Conv2d,
          ("local", 1): LocallyConnected1d, ("local", 2): LocallyConnected2d,
          ("tiled", 1): TiledConv1d, ("tiled", 2): TiledConv2d}
POOLS = {("max", 1): F.max_pool1d, ("max", 2): F.max_pool2d,
         ("avg", 1): F.avg_pool1d, ("avg", 2): F.avg_pool2d}


def _tuple(value, dims: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * dims


def conv_output_size(size, kernel, stride, padding, dilation) -> tuple[int, ...]:
    return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                 for s, k, st, p, d in zip(size, kernel, stride, padding, dilation))


class ConvNet(nn.Module):
    def __init__(self, input_shape, num_outputs, layer="conv", channels=(16, 32), kernel_size=3,
                 stride=1, padding=1, dilation=1, pool=None, pool_size=2, tile=2):
        super().__init__()
        if len(input_shape) == 1:
            input_shape = (1, *input_shape)  # a flat vector is a 1-channel sequence
        if len(input_shape) not in (2, 3):
            raise UserError(f"a CNN takes [C, L] or [C, H, W] inputs, not {list(input_shape)}: "
                            f"pick a sequence or image dataset, or model=mlp")
        if layer not in ("conv", "local", "tiled", "dense"):
            raise UserError(f"model.layer={layer!r} is not valid: use conv, local, tiled or dense")
        dims = len(input_shape) - 1
        self.dims, self.pool, self.pool_size = dims, pool, _tuple(pool_size, dims)
        geometry = dict(kernel_size=_tuple(kernel_size, dims), stride=_tuple(stride, dims),
                        padding=_tuple(padding, dims), dilation=_tuple(dilation, dims))
        size, in_ch = tuple(input_shape[1:]), input_shape[0]
        self.num_blocks = len(channels)
        for i, out_ch in enumerate(channels, start=1):
            out_size = conv_output_size(size, *geometry.values())
            if min(out_size) < 1:
                raise UserError(f"block {i} gets a {'×'.join(map(str, size))} input, too small for "
                                f"model.kernel_size={kernel_size} with dilation {dilation} and padding "
                                f"{padding}: use a smaller kernel, more padding or fewer blocks")
            if layer == "dense":
                setattr(self, f"conv{i}", DenseMap(in_ch, out_ch, size, out_size))
            else:
                extra = {"input_size": size} if layer in ("local", "tiled") else {}
                if layer == "tiled":
                    extra["tile"] = _tuple(tile, dims)
                setattr(self, f"conv{i}", LAYERS[(layer, dims)](in_ch, out_ch, **extra, **geometry))
            size, in_ch = out_size, out_ch
            if pool:
                size = tuple(s // p for s, p in zip(size, self.pool_size))
                if min(size) < 1:
                    raise UserError(f"pooling after block {i} leaves nothing of the input: "
                                    f"set model.pool=null, a smaller model.pool_size, or fewer blocks")
        self.feature_shape = (in_ch, *size)
        self.fc = nn.Linear(in_ch * int(torch.Size(size).numel()), num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, self.num_blocks + 1):
            x = F.relu(getattr(self, f"conv{i}")(x))
            if self.pool:
                x = POOLS[(self.pool, self.dims)](x, self.pool_size)
        return self.fc(x.flatten(1))

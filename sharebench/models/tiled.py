"""Tiled convolution (Le et al. 2010; Goodfellow et al. 2016, §9.5): the spectrum between shared and local.

A tiled layer learns t×t banks of kernels (t per dimension, 1-D: t) and uses them in rotation across
output positions: position (p, q) uses bank (p mod t_h, q mod t_w). Tile 1 is an ordinary
convolution (one bank everywhere); a tile equal to the output size is a locally connected layer (one
bank per position). Tiles larger than the output are clamped to it, since extra banks would never be
used. The parameters mirror LocallyConnected's layout with the position dims shrunk to the tile:
weight (t_h, t_w, out, in, kh, kw), bias (out, t_h, t_w), so weights copy across the three families.

Two ways to compute it, both exact: with few banks, one strided convolution per bank computes that
bank's positions (together the work of one convolution; tile 1 is one plain convolution); with
more, the banks are spread into a full per-position weight and LocallyConnected's unfold + batched
matmul does the rest.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from sharebench.errors import invalid
from sharebench.models.layers import _LocalConv2d, _tuple, set_geometry

# Above this many banks the per-bank convolutions (each a call, a strided gather and a scatter) cost
# more than the local path; timed side by side on CPU for MNIST-1D and 28×28 layer sizes.
MAX_BANKS_FOR_CONV_PATH = 4


class _TiledConvNd(nn.Module):
    _dims: int

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        input_size,
        kernel_size,
        tile=2,
        stride=1,
        padding=0,
        dilation=1,
        bias: bool = True,
    ):
        super().__init__()
        n = self._dims
        self.in_channels, self.out_channels = in_channels, out_channels
        set_geometry(self, n, input_size, kernel_size, stride, padding, dilation)
        tiles = list(tile) if isinstance(tile, (list, tuple)) else [tile]
        if not tiles or not all(isinstance(t, int) and not isinstance(t, bool) and t >= 1 for t in tiles):
            raise invalid("model.scheme.tile", tile, "an integer >= 1 or a list of them", "2")
        requested = _tuple(tile, n, "tile")
        self.tile = tuple(min(t, o) for t, o in zip(requested, self.output_size))
        self.weight = nn.Parameter(torch.empty(*self.tile, out_channels, in_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels, *self.tile)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.in_channels * math.prod(self.kernel_size))  # as Conv*d and LocallyConnected
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def effective_count(self, name, param, inputs, output) -> int:
        """For accounting: an unshared layer needs one bank's worth at every output position."""
        return param.numel() // math.prod(self.tile) * math.prod(self.output_size)

    def position_kernels(self) -> torch.Tensor:
        """(*output_size, out, in, *kernel): the bank each output position uses."""
        index = [torch.arange(o, device=self.weight.device) % t for o, t in zip(self.output_size, self.tile)]
        return self.weight[torch.meshgrid(*index, indexing="ij")]

    def _forward2d(self, x, weight, bias, output_size, tile, stride, padding, dilation):
        """x (B, C, H, W), weight (th, tw, O, C, kh, kw), bias (O, th, tw) or None."""
        (Ho, Wo), (th, tw), (sh, sw) = output_size, tile, stride
        if th * tw == 1:  # tile 1 is a plain convolution
            return F.conv2d(x, weight[0, 0], None if bias is None else bias[:, 0, 0], stride, padding, dilation)
        if th * tw <= MAX_BANKS_FOR_CONV_PATH:
            xp = F.pad(x, (padding[1], padding[1], padding[0], padding[0]))
            y = x.new_empty(x.shape[0], self.out_channels, Ho, Wo)
            for i in range(th):
                for j in range(tw):  # positions i, i+th, … start at input row i*sh, step th*sh
                    y[:, :, i::th, j::tw] = F.conv2d(
                        xp[:, :, i * sh :, j * sw :],
                        weight[i, j],
                        None if bias is None else bias[:, i, j],
                        stride=(sh * th, sw * tw),
                        dilation=dilation,
                    )
            return y
        rows = torch.arange(Ho, device=weight.device) % th
        cols = torch.arange(Wo, device=weight.device) % tw
        full_w = weight[rows][:, cols]  # (Ho, Wo, O, C, kh, kw): bank of every position
        full_b = None if bias is None else bias[:, rows][:, :, cols]
        return _LocalConv2d.apply(x, full_w, full_b, stride, padding, dilation)

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != self._dims + 2 or x.shape[1] != self.in_channels or tuple(x.shape[2:]) != self.input_size:
            raise ValueError(
                f"{type(self).__name__} expects input of shape (batch, {self.in_channels}, "
                f"{', '.join(map(str, self.input_size))}), got {tuple(x.shape)}"
            )

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, input_size={self.input_size}, "
            f"kernel_size={self.kernel_size}, tile={self.tile}, output_size={self.output_size}, "
            f"stride={self.stride}, padding={self.padding}" + ("" if self.bias is not None else ", bias=False")
        )


class TiledConv2d(_TiledConvNd):
    """Conv2d with t_h × t_w kernel banks in rotation over the output positions; input (B, C, H, W)."""

    _dims = 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return self._forward2d(
            x, self.weight, self.bias, self.output_size, self.tile, self.stride, self.padding, self.dilation
        )


class TiledConv1d(_TiledConvNd):
    """Conv1d with t kernel banks in rotation over the output positions; input (B, C, L)."""

    _dims = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)  # as a height-1 image: all views
        bias = None if self.bias is None else self.bias.unsqueeze(1)
        y = self._forward2d(
            x.unsqueeze(2),
            self.weight.unsqueeze(0).unsqueeze(-2),
            bias,
            (1, *self.output_size),
            (1, *self.tile),
            (1, *self.stride),
            (0, *self.padding),
            (1, *self.dilation),
        )
        return y.squeeze(2)

"""Low-rank locally connected layers (Elsayed et al., ICML 2020, "Revisiting Spatial Invariance with
Low-Rank Local Connectivity"): a learned amount of sharing, between a convolution and a locally
connected layer.

K = `rank` basis kernels are shared by every position; each output position p mixes them with its own
weights, w_p = Σ_k softmax(a_p)_k · basis_k. Rank 1 is a convolution; with K as large as the number
of positions any locally connected layer is reachable. Where the combining logits a live (`combining`):
"full": one set per output position; "row": one set per output row (varies only down the image);
"column": one per output column; "factorized": a_{h,w} = r_h + c_w, the paper's factorized variant
(K·(H+W) logits instead of K·H·W). 1-D inputs are one row of positions, so only "full" means anything.

Computed the paper's way: one convolution with K·out channels, then each position's weighted sum over
the K maps; no per-position kernel is ever built (K times a conv's multiply–accumulates). The bias is
one per output channel, as a convolution's. Logits start at 0: every position starts with the mean of
the basis kernels (a convolution), each basis drawn from U(±√K/√fan_in) so that mean has the conv's
init scale.

Accounting (`effective_count`): an unshared network doing this needs a whole kernel and bias at every
position, i.e. exactly the locally connected twin: basis → its size / K × positions, bias → × positions.
The combining logits are already a per-position (per-row, per-column) table: they count as themselves.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from sharebench.errors import OptionError
from sharebench.models.layers import set_geometry

COMBINING = ("full", "row", "column", "factorized")


class _LowRankLocallyConnectedNd(nn.Module):
    _dims: int
    _conv = None

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        input_size,
        kernel_size,
        rank: int = 2,
        stride=1,
        padding=0,
        dilation=1,
        bias: bool = True,
        combining: str = "full",
    ):
        super().__init__()
        n = self._dims
        self.in_channels, self.out_channels = in_channels, out_channels
        set_geometry(self, n, input_size, kernel_size, stride, padding, dilation)
        if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
            raise OptionError(f"model.scheme.rank={rank!r} is not valid: use an integer >= 1, e.g. model.scheme.rank=2")
        allowed = COMBINING if n == 2 else ("full",)
        if combining not in allowed:
            raise OptionError(
                f"model.scheme.combining={combining!r} is not valid for {n}-D inputs: use {' | '.join(allowed)}"
            )
        self.rank, self.combining_mode = rank, combining
        self.basis = nn.Parameter(torch.empty(rank, out_channels, in_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        out = self.output_size
        shapes = {
            "full": {"combining": out},
            "row": {"combining": (out[0], 1)},
            "column": {"combining": (1, out[-1])},
            "factorized": {"combining_rows": (out[0], 1), "combining_cols": (1, out[-1])},
        }[combining]
        for name, shape in shapes.items():
            self.register_parameter(name, nn.Parameter(torch.zeros(rank, *shape)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.in_channels * math.prod(self.kernel_size))  # Conv*d's, for the mean kernel
        with torch.no_grad():
            self.basis.uniform_(-bound * math.sqrt(self.rank), bound * math.sqrt(self.rank))
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)
            for name, p in self.named_parameters():
                if name.startswith("combining"):
                    p.zero_()

    def combining_weights(self) -> torch.Tensor:
        """(K, *output_size): each position's mixing weights over the basis kernels, summing to 1."""
        logits = sum(p for name, p in self.named_parameters() if name.startswith("combining"))
        return torch.softmax(logits.expand(self.rank, *self.output_size), dim=0)

    def position_kernels(self) -> torch.Tensor:
        """(*output_size, out, in, *kernel): the kernel each position effectively applies."""
        w = torch.einsum("kp,kd->pd", self.combining_weights().flatten(1), self.basis.flatten(1))
        return w.view(*self.output_size, *self.basis.shape[1:])

    def effective_count(self, name, param, inputs, output) -> int:
        """For accounting: the locally connected twin's count; the logits count as themselves."""
        positions = math.prod(self.output_size)
        if name == "basis":
            return param.numel() // self.rank * positions
        if name == "bias":
            return param.numel() * positions
        return param.numel()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self._dims
        if x.dim() != n + 2 or x.shape[1] != self.in_channels or tuple(x.shape[2:]) != self.input_size:
            raise ValueError(
                f"{type(self).__name__} expects input of shape (batch, {self.in_channels}, "
                f"{', '.join(map(str, self.input_size))}), got {tuple(x.shape)}"
            )
        maps = self._conv(x, self.basis.flatten(0, 1), None, self.stride, self.padding, self.dilation)
        maps = maps.unflatten(1, (self.rank, self.out_channels))  # (B, K, out, *output_size)
        y = (maps * self.combining_weights().unsqueeze(1)).sum(1)
        return y if self.bias is None else y + self.bias.view(-1, *(1,) * n)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, input_size={self.input_size}, "
            f"kernel_size={self.kernel_size}, rank={self.rank}, combining={self.combining_mode}, "
            f"output_size={self.output_size}, stride={self.stride}, padding={self.padding}"
            + ("" if self.bias is not None else ", bias=False")
        )


class LowRankLocallyConnected2d(_LowRankLocallyConnectedNd):
    """Conv2d whose kernel at each output position is a learned mix of `rank` shared kernels."""

    _dims, _conv = 2, staticmethod(F.conv2d)


class LowRankLocallyConnected1d(_LowRankLocallyConnectedNd):
    """Conv1d whose kernel at each output position is a learned mix of `rank` shared kernels."""

    _dims, _conv = 1, staticmethod(F.conv1d)

"""ConvNet: [conv → ReLU (→ pool)] blocks and a linear head, with shared or unshared layers.

`layer` picks where the net sits between sharing and not: "conv" (one kernel shared by every position),
"lowrank" (`rank` shared kernels mixed per position, see lowrank.py), "tiled" (`tile` kernel banks in
rotation, see tiled.py), "local" (every output position owns its kernel: same topology, same FLOPs, no
sharing), "dense" (every output unit sees every input: no locality either). 1-D or 2-D follows the
input shape. kernel_size, stride, padding and dilation are an int for every block, or a list with one
entry per block (e.g. kernel_size: [5,3,3]).

`scheme` holds the layer's own options (model.scheme, checked by sharebench/schemes.py). Besides the
layers' own (rank, combining, tile), they move more of the spectrum, all off by default:
- tie_strength λ (layer local): soft positional tying, λ·Σ_p ‖w_p − w̄‖² per layer (w̄: the mean kernel);
- share_every N (layer local): dynamic weight sharing (Pogodin et al. 2021): every N steps each local
  layer's kernels are set to their mean over positions. Kernels only, as in the paper (its locally
  connected layers have no bias); the per-position biases stay free;
- untie_at t (layer conv): train as a conv, then at step t swap each conv for its untie_to (local |
  dense) twin holding the same function (after d'Ascoli et al. 2019). Accounting before training counts
  the conv; what it becomes is the same config with layer=<untie_to> (`sharebench params`);
- lasso_strength λ, lasso_beta β (layer dense): β-LASSO (Neyshabur 2020, Algorithm 1) on the dense
  blocks' weights: λ·Σ|w| joins the loss, so the step is w − lr·(∇L + λ·sign(w)) (exactly so under
  optim=sgd without momentum; another optimizer transforms the λ·sign(w) term as it does ∇L), and after
  every step each weight with |w| < β·λ is set to 0. Biases and the head are trained as usual;
- match_params_of (layer conv): widen every block by one factor until the unique parameter count is
  closest to the twin's with that layer (widen.py).

The training loop reaches what the schemes do through ConvNet's TrainingHooks (hooks.py): penalty()
(soft tying, β-LASSO), after_step(step) (β-LASSO's threshold, dynamic sharing, untying: True when the
parameters changed, and the optimizer is rebuilt), evaluation_metrics (β-LASSO's zero fractions) and
largest_parameter_count (once untied). A checkpoint saved after the switch loads into a fresh net (it
unties itself on loading), but an optimizer built before loading must then be rebuilt too.
"""

import math
from dataclasses import is_dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from sharebench.errors import UserError, invalid
from sharebench.models.hooks import TrainingHooks
from sharebench.models.layers import LocallyConnected1d, LocallyConnected2d, _LocallyConnectedNd
from sharebench.models.lowrank import LowRankLocallyConnected1d, LowRankLocallyConnected2d
from sharebench.models.tiled import TiledConv1d, TiledConv2d
from sharebench.models.widen import matched_channels
from sharebench.schemes import Conv, Dense, Local, scheme_for

CONV_FN = {1: F.conv1d, 2: F.conv2d}


class DenseMap(nn.Module):
    """A fully connected layer with a conv layer's input and output shapes: (B, C, *size) → (B, O, *out)."""

    def __init__(self, in_channels, out_channels, input_size, output_size, neighbourhood=None):
        """neighbourhood: (kernel_size, stride, padding, dilation) of the convolution this map stands
        for, per-axis tuples: where its locality is measured (position_maps.py); None: nowhere."""
        super().__init__()
        self.in_channels, self.input_size, self.neighbourhood = in_channels, tuple(input_size), neighbourhood
        self.output_shape = (out_channels, *output_size)
        self.weight = nn.Parameter(torch.empty(math.prod(self.output_shape), in_channels * math.prod(input_size)))
        self.bias = nn.Parameter(torch.empty(self.weight.shape[0]))
        bound = 1 / math.sqrt(self.weight.shape[1])  # as nn.Linear
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            self.bias.uniform_(-bound, bound)

    @classmethod
    def from_conv(cls, conv: nn.Module, input_size) -> "DenseMap":
        """The dense map computing exactly `conv` on inputs of `input_size`: each entry is a copy of one
        kernel weight (or zero), placed by index. The weights never go through a convolution, which
        on a GPU may round them (TF32) or use an inexact algorithm (FFT, Winograd)."""
        dims, size = len(conv.kernel_size), tuple(input_size)
        positions, taps = math.prod(size), math.prod(conv.kernel_size)
        # which kernel tap (1-based; 0 = none) joins input position p to output position q: a conv
        # of the spatial basis with the taps' numbers, in float64 on the CPU (small integers: exact)
        eye = torch.eye(positions, dtype=torch.float64).view(positions, 1, *size)
        numbers = torch.arange(1, taps + 1, dtype=torch.float64).view(1, 1, *conv.kernel_size)
        tap = CONV_FN[dims](eye, numbers, None, conv.stride, conv.padding, conv.dilation)
        out_size = tap.shape[2:]
        tap = tap.flatten(1).t().round().long().to(conv.weight.device)  # (out positions, in positions)
        with torch.no_grad():
            kernels = conv.weight.flatten(2)  # (O, C, taps)
            kernels = torch.cat([kernels.new_zeros(*kernels.shape[:2], 1), kernels], 2)
            weight = kernels[:, :, tap].permute(0, 2, 1, 3)  # (O, out positions, C, in positions)
            neighbourhood = (conv.kernel_size, conv.stride, conv.padding, conv.dilation)
            dense = cls(conv.in_channels, conv.out_channels, size, out_size, neighbourhood)
            dense = dense.to(device=conv.weight.device, dtype=conv.weight.dtype)
            dense.weight.copy_(weight.reshape(dense.weight.shape))
            outputs = math.prod(out_size)
            dense.bias.copy_(conv.bias.repeat_interleave(outputs) if conv.bias is not None else 0)
        return dense

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.flatten(1), self.weight, self.bias).view(-1, *self.output_shape)


# model.layer → (its 1-D class, its 2-D class, the options of its scheme it takes besides the geometry);
# every class but conv's is also given its input_size. A new kind of layer: its module, an entry here,
# its scheme (sharebench/schemes.py), and a conf/spectrum/ point.
LAYERS = {
    "conv": (nn.Conv1d, nn.Conv2d, ()),
    "lowrank": (LowRankLocallyConnected1d, LowRankLocallyConnected2d, ("rank", "combining")),
    "tiled": (TiledConv1d, TiledConv2d, ("tile",)),
    "local": (LocallyConnected1d, LocallyConnected2d, ()),
}
POOLS = {("max", 1): F.max_pool1d, ("max", 2): F.max_pool2d, ("avg", 1): F.avg_pool1d, ("avg", 2): F.avg_pool2d}
TWIN = {1: LocallyConnected1d, 2: LocallyConnected2d}


def _tuple(value, dims: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * dims


def _per_block(name: str, value, blocks: int, dims: int) -> list[tuple[int, ...]]:
    """An int for every block, or a list with one entry (an int or a per-axis list) per block."""
    if not isinstance(value, (list, tuple)):
        return [_tuple(value, dims)] * blocks
    if len(value) != blocks:
        raise UserError(
            f"model.{name}={list(value)} has {len(value)} entries for {blocks} blocks "
            f"(model.channels): give one entry per block, or one int for all"
        )
    return [_tuple(v, dims) for v in value]


def conv_output_size(size, kernel, stride, padding, dilation) -> tuple[int, ...]:
    return tuple(
        (s + 2 * p - d * (k - 1) - 1) // st + 1 for s, k, st, p, d in zip(size, kernel, stride, padding, dilation)
    )


def _block(layer: str, scheme, dims: int, in_ch: int, out_ch: int, size, out_size, geometry: dict) -> nn.Module:
    """One block's layer: `layer`'s class for `dims`, given what it takes of the scheme."""
    if layer == "dense":
        neighbourhood = tuple(geometry.values())  # kernel_size, stride, padding, dilation
        return DenseMap(in_ch, out_ch, size, out_size, neighbourhood)
    classes, takes = LAYERS[layer][:2], LAYERS[layer][2]
    extra = {"input_size": size} if layer != "conv" else {}
    extra.update({name: getattr(scheme, name) for name in takes})
    return classes[dims - 1](in_ch, out_ch, **extra, **geometry)


def _matched(twin: str, input_shape, num_outputs, channels, **spec) -> list[int]:
    """Channels widened by one factor until the conv's unique parameters are closest to those of the
    same net with layer `twin` (at its default scheme): match_params_of."""

    def count(layer, channels_):
        with torch.device("meta"):
            net = ConvNet(input_shape, num_outputs, layer, channels_, **spec)
        return sum(p.numel() for p in net.parameters())

    return matched_channels(lambda ch: count("conv", ch), channels, count(twin, channels))


class ConvNet(TrainingHooks, nn.Module):
    def __init__(
        self,
        input_shape,
        num_outputs,
        layer="conv",
        channels=(16, 32),
        kernel_size=3,
        stride=1,
        padding=1,
        dilation=1,
        pool=None,
        pool_size=2,
        scheme=None,
    ):
        """scheme: the layer's sharing options, `model.scheme` (a dict, checked by schemes.scheme_for;
        None: the layer's defaults), or the checked scheme itself."""
        super().__init__()
        if len(input_shape) == 1:
            input_shape = (1, *input_shape)  # a flat vector is a 1-channel sequence
        if len(input_shape) not in (2, 3):
            raise UserError(
                f"a CNN takes [C, L] or [C, H, W] inputs, not {list(input_shape)}: "
                f"pick a sequence or image dataset, or model=mlp"
            )
        if pool not in (None, *{p for p, _ in POOLS}):
            raise invalid("model.pool", pool, "null, max or avg", "max")
        scheme = scheme if is_dataclass(scheme) else scheme_for(layer, scheme)
        dims = len(input_shape) - 1
        blocks = len(channels)
        given = dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation)
        geometry = {name: _per_block(name, value, blocks, dims) for name, value in given.items()}
        if isinstance(scheme, Conv) and scheme.match_params_of is not None:
            channels = _matched(
                scheme.match_params_of, input_shape, num_outputs, channels, pool=pool, pool_size=pool_size, **given
            )
        self.dims, self.pool, self.pool_size, self.num_blocks = dims, pool, _tuple(pool_size, dims), blocks
        self.channels, self.input_sizes = list(channels), []
        self.scheme, self.untied = scheme, False
        size, in_ch = tuple(input_shape[1:]), input_shape[0]
        for i, out_ch in enumerate(channels, start=1):
            block = {name: per_block[i - 1] for name, per_block in geometry.items()}
            out_size = conv_output_size(size, *block.values())
            if min(out_size) < 1:
                raise UserError(
                    f"block {i} gets a {'×'.join(map(str, size))} input, too small for "
                    f"model.kernel_size={kernel_size} with dilation {dilation} and padding "
                    f"{padding}: use a smaller kernel, more padding or fewer blocks"
                )
            setattr(self, f"conv{i}", _block(layer, scheme, dims, in_ch, out_ch, size, out_size, block))
            self.input_sizes.append(size)
            size, in_ch = out_size, out_ch
            if pool:
                size = tuple(s // p for s, p in zip(size, self.pool_size))
                if min(size) < 1:
                    raise UserError(
                        f"pooling after block {i} leaves nothing of the input: "
                        f"set model.pool=null, a smaller model.pool_size, or fewer blocks"
                    )
        self.feature_shape = (in_ch, *size)
        self.fc = nn.Linear(in_ch * int(torch.Size(size).numel()), num_outputs)

    def blocks(self) -> list[nn.Module]:
        return [getattr(self, f"conv{i}") for i in range(1, self.num_blocks + 1)]

    def dense_blocks(self) -> list[DenseMap]:
        return [m for m in self.blocks() if isinstance(m, DenseMap)]

    @property
    def untie_at(self) -> int | None:
        """The step after which the convs untie (scheme conv's untie_at); None: never."""
        return self.scheme.untie_at if isinstance(self.scheme, Conv) else None

    def penalty(self) -> torch.Tensor | None:
        """Soft positional tying, λ·Σ_p ‖w_p − w̄‖² over the locally connected layers, or β-LASSO's
        λ·Σ|w| over the dense blocks' weights; None when off."""
        s, terms = self.scheme, []
        if isinstance(s, Local) and s.tie_strength:
            local = [m.weight.flatten(0, self.dims - 1) for m in self.blocks() if isinstance(m, _LocallyConnectedNd)]
            terms.append(s.tie_strength * torch.stack([(w - w.mean(0)).pow(2).sum() for w in local]).sum())
        if isinstance(s, Dense) and s.lasso_strength:  # the gradient of |w| is sign(w): a zeroed weight feels no pull
            terms.append(s.lasso_strength * torch.stack([m.weight.abs().sum() for m in self.dense_blocks()]).sum())
        return sum(terms) if terms else None

    def threshold(self) -> None:
        """β-LASSO's second half: every dense weight with |w| < β·λ set to exactly 0."""
        cut = self.scheme.lasso_beta * self.scheme.lasso_strength
        with torch.no_grad():
            for m in self.dense_blocks():
                m.weight.masked_fill_(m.weight.abs() < cut, 0.0)

    def evaluation_metrics(self, splits, evaluate) -> dict[str, float]:
        """β-LASSO runs: `conv<i>_zero_fraction`, the share of each dense block's weights that are exactly 0."""
        if not (isinstance(self.scheme, Dense) and self.scheme.lasso_strength):
            return {}
        return {
            f"conv{i}_zero_fraction": (m.weight == 0).float().mean().item()
            for i, m in enumerate(self.blocks(), start=1)
            if isinstance(m, DenseMap)
        }

    def after_step(self, step: int) -> bool:
        """β-LASSO's threshold, dynamic sharing and untying, by the 1-based global step; True when the
        parameters changed."""
        s = self.scheme
        if isinstance(s, Dense) and s.lasso_strength and s.lasso_beta:
            self.threshold()
        if isinstance(s, Local) and s.share_every and step % s.share_every == 0:
            with torch.no_grad():
                for m in self.blocks():
                    if isinstance(m, _LocallyConnectedNd):
                        positions = tuple(range(self.dims))
                        m.weight.copy_(m.weight.mean(positions, keepdim=True).expand_as(m.weight))
        if self.untie_at is not None and not self.untied and step >= self.untie_at:
            self.untie()
            return True
        return False

    def largest_parameter_count(self) -> int:
        """How many parameters the net holds at its largest (once untied, when it unties), counted on
        the meta device (nothing is allocated): what a run must be able to hold before it starts."""
        if self.untie_at is None:
            return super().largest_parameter_count()
        count = sum(p.numel() for name, p in self.named_parameters() if not name.startswith("conv"))
        with torch.device("meta"):
            for conv, size in zip(self.blocks(), self.input_sizes):
                geometry = (conv.kernel_size, conv.stride, conv.padding, conv.dilation)
                if self.scheme.untie_to == "dense":
                    twin = DenseMap(conv.in_channels, conv.out_channels, size, conv_output_size(size, *geometry))
                else:
                    twin = TWIN[self.dims](conv.in_channels, conv.out_channels, size, *geometry)
                count += sum(p.numel() for p in twin.parameters())
        return count

    def untie(self) -> None:
        """Swap every conv for its `untie_to` twin computing the same function."""
        local = self.scheme.untie_to == "local"
        for i, (conv, size) in enumerate(zip(self.blocks(), self.input_sizes), start=1):
            twin = TWIN[self.dims].from_conv(conv, size) if local else DenseMap.from_conv(conv, size)
            setattr(self, f"conv{i}", twin.train(self.training))
        self.untied = True

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # weights saved after the switch: switch first, so that they fit
        saved = state_dict.get(f"{prefix}conv1.weight")
        if (
            self.untie_at is not None
            and not self.untied
            and saved is not None
            and saved.shape != self.conv1.weight.shape
        ):
            self.untie()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, self.num_blocks + 1):
            x = F.relu(getattr(self, f"conv{i}")(x))
            if self.pool:
                x = POOLS[(self.pool, self.dims)](x, self.pool_size)
        return self.fc(x.flatten(1))

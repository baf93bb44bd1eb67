"""Where does a layer really sit between shared and unshared? Numbers measured on its linear map.

A layer that maps positions to positions (a convolution; a locally connected, low-rank or tiled
layer; a dense map with a convolution's shapes) is a linear map W[o, q, c, p]: output channel o at
output position q from input channel c at input position p. The neighbourhood N(q) of an output
position is the set of input positions the matching convolution (the layer's kernel_size, stride,
padding, dilation) reads there: a tap that lands in the padding reads no input position and is left
out, so border positions have smaller neighbourhoods. w_q[t] are the weights of position q at tap t
of that neighbourhood, over every channel pair (o, c).

- locality = Σ_q Σ_{p ∈ N(q)} Σ_{o,c} W² / Σ W²: the share of weight energy inside the
  neighbourhoods. 1 for a convolution and a locally connected layer (they have no other weights);
  for i.i.d. dense weights, the share of (q, p) pairs that are neighbours, about k/N.
- sharing = 1 − Σ_{q,t} ‖w_q[t] − w̄[t]‖² / Σ_{q,t} ‖w_q[t]‖², with w̄[t] the mean of w_q[t] over the
  positions q where tap t lands inside the input: the least-squares best translation-shared kernel.
  1 for a convolution; about 1/P for P positions with i.i.d. kernels.
- rf_width (dense units: a DenseMap's rows, an MLP's first layer; Ingrosso & Goldt 2022): the mean
  over units of 1/IPR, IPR = Σ_p π_p² with π_p the unit's share of its weight energy at input position
  p (channels summed): the number of positions the unit spreads over, w for equal weights on w
  positions. ipr_locality = mean of (N·IPR − 1)/(N − 1): 0 spread evenly over all N positions, 1 on one.

Kernels only, not biases. Nothing dense is built for a convolution or a locally connected layer:
their local part is their kernels, and they have nothing outside it.
"""

import math

import torch
import torch.nn as nn

from sharebench.models.cnn import ConvNet, DenseMap
from sharebench.models.mlp import MLP


def neighbourhoods(input_size, kernel_size, stride, padding, dilation) -> tuple[torch.Tensor, torch.Tensor]:
    """(index, inside), both (Q, T): the flat input position each tap t of output position q reads
    (positions and taps row-major, as the layers flatten them), and whether it is inside the input."""
    index, inside = torch.zeros(1, 1, dtype=torch.long), torch.ones(1, 1, dtype=torch.bool)
    for n, k, s, p, d in zip(input_size, kernel_size, stride, padding, dilation):
        out = (n + 2 * p - d * (k - 1) - 1) // s + 1
        axis = torch.arange(out)[:, None] * s - p + torch.arange(k)[None, :] * d  # (out, k) along this axis
        q, t = index.shape[0] * out, index.shape[1] * k
        index = (index[:, None, :, None] * n + axis[None, :, None, :]).reshape(q, t)
        inside = (inside[:, None, :, None] & ((axis >= 0) & (axis < n))[None, :, None, :]).reshape(q, t)
    return index, inside


def locality_and_sharing(kernels: torch.Tensor, inside: torch.Tensor, total: float | None = None) -> dict:
    """kernels (P, T, M): each position's weights at each tap over M channel pairs, P = Q positions or
    P = 1 (one kernel at every position); inside (Q, T). total: the map's whole weight energy (None:
    the layer has no weights outside the neighbourhoods)."""
    w = kernels.detach().double()
    inside = inside.to(w.device, torch.float64)
    uses = inside if len(w) > 1 else inside.sum(0, keepdim=True)  # positions using row p's kernel at tap t
    local = (w.pow(2).sum(-1) * uses).sum().item()
    shared = (w * uses[..., None]).sum(0) / inside.sum(0).clamp(min=1)[:, None]  # w̄[t]: least squares
    residual = ((w - shared).pow(2).sum(-1) * uses).sum().item()
    total = local if total is None else total
    # a map of zeros (β-LASSO can zero a whole layer) sits nowhere: NaN, not a division by zero
    return {
        "locality": local / total if total else math.nan,
        "sharing": 1 - residual / local if local else math.nan,
    }


def position_energy(weight: torch.Tensor, channels: int, positions: int) -> torch.Tensor:
    """(units, positions) float64: each unit's weight energy at each input position, channels summed.
    weight (units, channels · positions), channel-major as a flattened (C, *size) input."""
    w = weight.detach().view(-1, channels, positions)
    rows = max(1, 2**22 // (channels * positions))  # squared a slice at a time: a big weight is never copied whole
    return torch.cat([part.square().sum(1) for part in w.split(rows)]).double()


def receptive_field(energy: torch.Tensor) -> dict:
    """rf_width and ipr_locality of units with `energy` (units, positions) over the input positions."""
    positions = energy.shape[1]
    ipr = (energy / energy.sum(1, keepdim=True)).pow(2).sum(1)  # a unit of zeros: NaN, left out
    spread = (positions * ipr - 1) / (positions - 1) if positions > 1 else torch.ones_like(ipr)
    return {"rf_width": (1 / ipr).nanmean().item(), "ipr_locality": spread.nanmean().item()}


def _taps(kernels: torch.Tensor) -> torch.Tensor:
    """(P, O, C, *kernel) → (P, T, O·C): every tap's weights over the channel pairs."""
    return kernels.flatten(3).permute(0, 3, 1, 2).flatten(2)


def block_metrics(layer: nn.Module, input_size) -> dict:
    """locality and sharing of one ConvNet block, and a dense block's rf_width and ipr_locality (its
    width alone when it stands for no convolution: no neighbourhood)."""
    if isinstance(layer, DenseMap):
        channels, positions = layer.in_channels, math.prod(layer.input_size)
        energy = position_energy(layer.weight, channels, positions)
        if layer.neighbourhood is None:
            return receptive_field(energy)
        index, inside = neighbourhoods(layer.input_size, *layer.neighbourhood)
        q = index.shape[0]
        w = layer.weight.view(layer.output_shape[0], q, channels, positions).permute(1, 3, 0, 2)  # (Q, N, O, C)
        rows, taps = torch.arange(q, device=w.device)[:, None], index.where(inside, 0).to(w.device)
        local = w[rows, taps].flatten(2)  # (Q, T, O·C): each position's weights at its neighbourhood's taps
        return {**locality_and_sharing(local, inside, energy.sum().item()), **receptive_field(energy)}
    geometry = (layer.kernel_size, layer.stride, layer.padding, layer.dilation)
    _, inside = neighbourhoods(input_size, *geometry)
    if hasattr(layer, "position_kernels"):  # locally connected, low-rank, tiled: a kernel per position
        dims = len(layer.output_size)
        return locality_and_sharing(_taps(layer.position_kernels().flatten(0, dims - 1)), inside)
    return locality_and_sharing(_taps(layer.weight[None]), inside)  # a convolution: one kernel


def _flat_input(input_shape) -> tuple[int, int]:
    """(channels, positions) of an MLP's input: a flat vector is one channel, as ConvNet takes it."""
    return (1, input_shape[0]) if len(input_shape) == 1 else (input_shape[0], math.prod(input_shape[1:]))


def position_map_metrics(model: nn.Module) -> dict[str, float]:
    """{"<layer>_locality": …, "<layer>_sharing": …} for every ConvNet block (and "<layer>_rf_width",
    "<layer>_ipr_locality" for dense blocks and an MLP's first layer); `<layer>` is the module's name
    with dots as underscores. {} for a model with neither."""
    out = {}
    with torch.no_grad():
        for name, module in model.named_modules():
            prefix = name.replace(".", "_") + "_" if name else ""
            if isinstance(module, ConvNet):
                for i, (block, size) in enumerate(zip(module.blocks(), module.input_sizes), start=1):
                    out.update({f"{prefix}conv{i}_{k}": v for k, v in block_metrics(block, size).items()})
            elif isinstance(module, MLP):  # its first layer alone reads input positions
                found = receptive_field(position_energy(module.linear1.weight, *_flat_input(module.input_shape)))
                out.update({f"{prefix}linear1_{k}": v for k, v in found.items()})
    return out

"""How shared are the kernels of a model's unshared layers? Cheap numbers for every evaluation.

For each layer that has a kernel per output position (LocallyConnected*, LowRankLocallyConnected* —
the kernel each position effectively applies —, TiledConv*: the bank each position uses), with w_p
the kernel of position p flattened and w̄ their mean over positions:

- `<layer>_snr`: signal-to-noise of the weights across positions (Pogodin et al. 2021): for each
  kernel entry |mean over p| / std over p, averaged over entries. A conv's is infinite (std 0), a
  freshly initialised locally connected layer's ≈ √(2/π)/√positions, near 0.
- `<layer>_neighbor_dist`: mean ‖w_p − w_q‖ over neighbouring positions at radius 1 (one step along
  one axis; Ott et al. 2020, "Learning in the machine: to share or not to share?"); NaN with one position.
- `<layer>_dist_to_mean`: mean ‖w_p − w̄‖ over positions.

Kernels only, not biases. Convolutions are shared by construction and not reported. `<layer>` is the
module's name with dots as underscores (conv1, a_conv1, …).
"""

import math

import torch
import torch.nn as nn


def kernel_diagnostics(kernels: torch.Tensor, dims: int) -> dict[str, float]:
    """kernels (*positions, ...) with `dims` position axes → snr, neighbor_dist, dist_to_mean."""
    grid = kernels.detach().float().flatten(dims)
    flat = grid.flatten(0, dims - 1)  # (P, D)
    mean, std = flat.mean(0), flat.std(0, correction=0)
    ratio = mean.abs() / std  # std 0: inf where the mean is not 0, NaN (left out) where the entry is all 0
    snr = ratio.nanmean().item() if not ratio.isnan().all() else math.inf
    neighbours = [
        (grid.narrow(a, 1, n - 1) - grid.narrow(a, 0, n - 1)).norm(dim=-1).flatten()
        for a, n in enumerate(grid.shape[:dims])
        if n > 1
    ]
    neighbor = torch.cat(neighbours).mean().item() if neighbours else math.nan
    return {"snr": snr, "neighbor_dist": neighbor, "dist_to_mean": (flat - mean).norm(dim=1).mean().item()}


def sharing_diagnostics(model: nn.Module) -> dict[str, float]:
    """{"<layer>_snr": …, "<layer>_neighbor_dist": …, "<layer>_dist_to_mean": …} for every layer with
    per-position kernels; {} for a model without any."""
    out = {}
    with torch.no_grad():
        for name, module in model.named_modules():
            if not hasattr(module, "position_kernels"):
                continue
            stats = kernel_diagnostics(module.position_kernels(), len(module.output_size))
            prefix = name.replace(".", "_") + "_" if name else ""  # the model itself: plain snr, …
            out.update({prefix + key: value for key, value in stats.items()})
    return out

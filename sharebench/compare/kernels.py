"""The kernel a ConvNet layer applies at each output position, from a run dir alone: its saved
weights (model.pt, model_init.pt), its .hydra/config.yaml and summary.json. No model code.

The one place that knows how each layer kind of models/ stores its kernels, keyed on the parameter
names and shapes of the layer's state_dict (d = 1 or 2 position dims, `output_size` the layer's
output grid); each gives an array (*output_size, out, in, *kernel):

- conv (nn.Conv1d/2d: weight (out, in, *kernel)): one kernel, the same at every position;
- banks (LocallyConnected: weight (*output_size, out, in, *kernel) — local, soft-tied, dynamic and
  untied-to-local nets alike — and TiledConv: weight (*tile, out, in, *kernel)): position p uses
  the bank at p mod the weight's leading shape (for a local layer, its own);
- lowrank (LowRankLocallyConnected: basis (K, out, in, *kernel) and combining* logits, summed and
  broadcast to (K, *output_size)): Σ_k softmax_k(logits at p) · basis_k;
- dense (DenseMap: a 2-D weight): no kernel per position, None; `dense_units` gives each output unit's
  weights on the input grid instead, (*output_size, out, in, *input_size).

Weights are read with torch.load(weights_only=True), so loading runs no code; torch is imported
only by `load_layer`, i.e. only when there is a kernel atlas to draw. The rest is NumPy.
"""

from pathlib import Path

import numpy as np

CONVNET = "sharebench.models.cnn.ConvNet"
FIRST_LAYER = "conv1"  # a ConvNet's first block; every block of a ConvNet has the same layer kind
GEOMETRY = {"kernel_size": 3, "stride": 1, "padding": 1, "dilation": 1}  # ConvNet's defaults


def kind_of(params: dict, dims: int) -> str:
    """conv | banks | lowrank | dense, from the parameter names and shapes."""
    w = params.get("weight")
    if "basis" in params:
        return "lowrank"
    if w is not None and w.ndim == dims + 2:
        return "conv"
    if w is not None and w.ndim == 2 * dims + 2:
        return "banks"
    return "dense"


def _conv(params: dict, output_size: tuple) -> np.ndarray:
    w = params["weight"]
    return np.broadcast_to(w, (*output_size, *w.shape))


def _banks(params: dict, output_size: tuple) -> np.ndarray:
    w = params["weight"]
    banks = w.shape[: len(output_size)]
    if any(b > o for b, o in zip(banks, output_size)):
        raise ValueError(f"a weight of shape {w.shape} has more positions than the output grid {output_size}")
    return w[np.ix_(*[np.arange(o) % b for o, b in zip(output_size, banks)])]


def _lowrank(params: dict, output_size: tuple) -> np.ndarray:
    basis = params["basis"]
    logits = sum(v for name, v in params.items() if name.startswith("combining"))
    logits = np.broadcast_to(logits, (basis.shape[0], *output_size))
    mix = np.exp(logits - logits.max(0))
    mix /= mix.sum(0)  # softmax over the K basis kernels, at every position
    flat = np.einsum("k...,kd->...d", mix, basis.reshape(basis.shape[0], -1))
    return flat.reshape(*output_size, *basis.shape[1:])


KERNELS = {"conv": _conv, "banks": _banks, "lowrank": _lowrank, "dense": lambda params, output_size: None}


def position_kernels(params: dict, dims: int, output_size) -> tuple[str, np.ndarray | None]:
    """(kind, kernels (*output_size, out, in, *kernel), or None for a dense layer) of one layer's
    parameters, named as in its state_dict without the layer's prefix (weight, bias, basis, …)."""
    kind = kind_of(params, dims)
    return kind, KERNELS[kind](params, tuple(output_size))


def dense_units(params: dict, input_shape, output_size) -> np.ndarray:
    """A DenseMap's weight (out·Q, in·N) as (*output_size, out, in, *input_size): row o·Q + q is unit
    (o, q), its columns the flattened (in, *input_size) input, as DenseMap.forward reads them."""
    dims = len(output_size)
    w = params["weight"].reshape(-1, *output_size, *input_shape)
    return np.moveaxis(w, 0, dims)


def is_convnet(config: dict) -> bool:
    return config.get("model._target_") == CONVNET


def _first(value, dims: int) -> tuple[int, ...]:
    """Block 1's entry of a ConvNet geometry option: an int, or a list per block of ints or per-axis lists."""
    if isinstance(value, (list, tuple)):
        value = value[0]
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * dims


def convnet_input(input_shape: list) -> list[int]:
    """(channels, *size) as a ConvNet reads it: a flat vector is a 1-channel sequence."""
    return [1, *input_shape] if len(input_shape) == 1 else list(input_shape)


def first_layer_grid(config: dict, input_shape: list) -> tuple[int, tuple[int, ...]]:
    """(position dims, output size) of a ConvNet's first block, from its flat config and the
    input shape summary.json recorded."""
    shape = convnet_input(input_shape)
    dims = len(shape) - 1
    k, s, p, d = (_first(config.get(f"model.{name}", default), dims) for name, default in GEOMETRY.items())
    size = tuple((n + 2 * pi - di * (ki - 1) - 1) // si + 1 for n, ki, si, pi, di in zip(shape[1:], k, s, p, d))
    return dims, size


def load_layer(path: Path, prefix: str = FIRST_LAYER) -> dict[str, np.ndarray]:
    """The tensors of one layer in a saved state_dict, as float32 arrays named without `prefix.`."""
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    return {
        name[len(prefix) + 1 :]: tensor.detach().float().numpy()
        for name, tensor in state.items()
        if name.startswith(prefix + ".")
    }

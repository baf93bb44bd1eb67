"""Parameter and compute accounting: one row per parameter tensor, and totals.

Unique parameters count every tensor once, however often it is reused or tied (`named_parameters()`
drops duplicates). **Effective parameters** are how many an equivalent network without any sharing
would need for the same computation. They are measured, not declared: one forward pass on one
example, with a forward hook on every module, adds up for each call of a module, for each tensor it
owns:

- a convolution: the kernel × its output positions (a transposed one: × its input positions);
- nn.RNN / nn.GRU / nn.LSTM: the cell's weights × the sequence length;
- a module that defines `effective_count(name, param, inputs, output)`: whatever it returns for that
  call (the tiled convolution: one bank's size × the output positions; the low-rank locally connected
  layer: its locally connected twin's count, i.e. one kernel and bias per position, plus its combining
  logits as themselves);
- anything else (Linear, LocallyConnected, which is already unshared, …): the tensor's size.

So a module called k times in one forward counts k times. **Hard tying must be built as the same
module (or the same Parameter) used for every copy**: then the copies count once in the unique
total and once per use in the effective total, with no special case here. A tensor that this forward
did not use has effective count 0 (e.g. DynamicNet's middle layer when that forward drew 0 reuses).
Sharing factor = effective / unique.

Multiply–accumulates per example come from PyTorch's own FLOP counter over the same forward
(`torch.utils.flop_counter.FlopCounterMode`, MACs = FLOPs / 2): matrix products and convolutions,
not elementwise work. The pass runs in eval mode under no_grad with Python's and torch's random
state restored afterwards, so accounting a model never changes how it then trains. It works on the
meta device, which is how `sharebench params` answers for models too large to allocate.
"""

import math
import random
import warnings
from contextlib import ExitStack

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode


def _positions(shape: torch.Size, dims: int) -> int:
    return math.prod(shape[-dims:]) if dims else 1


def _sequence_length(module: nn.RNNBase, inputs: tuple) -> int:
    x = inputs[0]
    if isinstance(x, nn.utils.rnn.PackedSequence):
        return len(x.batch_sizes)
    return x.shape[1] if (module.batch_first and x.dim() == 3) else x.shape[0]


def uses_in_call(module: nn.Module, name: str, param: torch.Tensor, inputs: tuple, output) -> int:
    """Parameters an unshared network would need for what `param` did in this one call."""
    if hasattr(module, "effective_count"):
        return int(module.effective_count(name, param, inputs, output))
    if isinstance(module, nn.modules.conv._ConvNd):
        dims = len(module.kernel_size)
        where = inputs[0] if module.transposed else output
        return param.numel() * _positions(where.shape, dims)
    if isinstance(module, nn.RNNBase):
        return param.numel() * _sequence_length(module, inputs)
    return param.numel()


def measure(model: nn.Module, input_shape) -> tuple[dict[int, int], int]:
    """One forward on one zero example: effective count per parameter (keyed by id) and MACs."""
    effective: dict[int, int] = {}
    for p in model.parameters():
        effective[id(p)] = 0

    def hook(module, inputs, output):
        for name, p in module._parameters.items():
            if p is not None:
                effective[id(p)] += uses_in_call(module, name, p, inputs, output)

    owners = [m for m in model.modules() if any(p is not None for p in m._parameters.values())]
    handles = [m.register_forward_hook(hook) for m in owners]
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    x = torch.zeros(1, *input_shape, device=device)
    was_training = model.training
    py_state = random.getstate()
    counter = FlopCounterMode(display=False)
    try:
        with ExitStack() as stack:
            stack.enter_context(warnings.catch_warnings())
            warnings.simplefilter("ignore")
            # fused CPU (oneDNN) and cuDNN recurrent kernels are invisible to the FLOP counter
            stack.enter_context(torch.backends.mkldnn.flags(enabled=False))
            stack.enter_context(torch.backends.cudnn.flags(enabled=False))
            stack.enter_context(torch.random.fork_rng(devices=[device] if device.type == "cuda" else []))
            stack.enter_context(torch.no_grad())
            model.eval()
            with counter:
                model(x)
    finally:
        model.train(was_training)
        random.setstate(py_state)
        for h in handles:
            h.remove()
    return effective, counter.get_total_flops() // 2


def parameter_table(model: nn.Module, effective: dict[int, int] | None = None) -> list[dict]:
    """Rows like printing `named_parameters()` with sizes; a tied tensor appears (and counts) once.

    With `effective` (from measure) each row also has its effective count and sharing factor."""
    rows = []
    for name, p in model.named_parameters():  # remove_duplicate=True: shared tensors once
        row = {
            "name": name,
            "shape": "x".join(map(str, p.shape)) or "scalar",
            "count": p.numel(),
            "trainable": p.requires_grad,
            "bytes": p.numel() * p.element_size(),
        }
        if effective is not None:
            row["effective"] = effective.get(id(p), 0)
            row["sharing"] = round(row["effective"] / row["count"], 4) if row["count"] else 0.0
        rows.append(row)
    return rows


def parameter_totals(table: list[dict]) -> dict[str, int | float]:
    total = sum(r["count"] for r in table)
    trainable = sum(r["count"] for r in table if r["trainable"])
    totals = {"params_total": total, "params_trainable": trainable, "params_frozen": total - trainable}
    if table and "bytes" in table[0]:
        totals["params_bytes"] = sum(r["bytes"] for r in table)
    if table and "effective" in table[0]:
        totals["params_effective"] = sum(r["effective"] for r in table)
        totals["sharing_factor"] = round(totals["params_effective"] / total, 4) if total else 0.0
    return totals


def account(model: nn.Module, input_shape) -> tuple[list[dict], dict]:
    """The per-tensor table and the totals, with effective counts and MACs per example."""
    effective, macs = measure(model, input_shape)
    table = parameter_table(model, effective)
    return table, {**parameter_totals(table), "macs_per_example": macs}


# ---- `sharebench params`: a configured model, counted on the meta device, as text ----------------


def count_configured(cfg):
    """Build the model on the meta device and account it: (input shape, table, totals)."""
    from sharebench import data, models
    from sharebench.models import without_pretrained_weights

    shape = data.describe(cfg.dataset)
    model_cfg = without_pretrained_weights(cfg.model)  # counts do not depend on weight values
    with torch.device("meta"):
        model = models.build(model_cfg, shape.input_shape, shape.num_outputs)
    random.seed(cfg.seed)  # a model that draws at random (dynamic_net) draws as a run's first step
    table, totals = account(model, shape.input_shape)
    return shape, table, totals


def human_bytes(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000


def format_job(title: str, shape, table: list[dict], totals: dict) -> str:
    head = (
        f"── {title} · input {'×'.join(map(str, shape.input_shape))} → "
        f"{shape.num_outputs} {'classes' if shape.task == 'classification' else 'outputs'} ──"
    )
    cols = [
        ("name", "<"),
        ("shape", "<"),
        ("count", ">"),
        ("effective", ">"),
        ("sharing", ">"),
        ("trainable", "<"),
        ("bytes", ">"),
    ]
    cells = [
        [
            r["name"],
            r["shape"],
            f"{r['count']:,}",
            f"{r['effective']:,}",
            f"×{r['sharing']:,.2f}",
            str(r["trainable"]),
            human_bytes(r["bytes"]),
        ]
        for r in table
    ]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, (c, _) in enumerate(cols)]
    line = lambda vals: "  ".join(f"{v:{a}{w}}" for v, (_, a), w in zip(vals, cols, widths)).rstrip()  # noqa: E731
    t = totals
    return "\n".join(
        [
            head,
            line([c for c, _ in cols]),
            *map(line, cells),
            f"unique {t['params_total']:,} (trainable {t['params_trainable']:,}, frozen "
            f"{t['params_frozen']:,}) · {human_bytes(t['params_bytes'])}",
            f"if unshared {t['params_effective']:,} · sharing ×{t['sharing_factor']:,.2f} · "
            f"{t['macs_per_example']:,} MACs per example",
        ]
    )


def format_comparison(rows: list[tuple[str, dict]]) -> str:
    head = ("job", "unique", "if unshared", "sharing", "MACs/example", "memory")
    cells = [
        (
            label,
            f"{t['params_total']:,}",
            f"{t['params_effective']:,}",
            f"×{t['sharing_factor']:,.2f}",
            f"{t['macs_per_example']:,}",
            human_bytes(t["params_bytes"]),
        )
        for label, t in rows
    ]
    widths = [max(len(r[i]) for r in [head, *cells]) for i in range(len(head))]
    fmt = lambda r: "  ".join(f"{v:{'<' if i == 0 else '>'}{w}}" for i, (v, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join(fmt(r) for r in [head, *cells])

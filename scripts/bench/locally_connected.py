"""One locally connected layer, forward and backward timed separately, against F.conv2d doing the
same FLOPs, a bmm of the layer's shape, the layer's previous layout, and the two common ways to write
it (a broadcast-multiply over a (B, O, K, L) temporary; a Python loop of one matmul per position).
Peak memory of each is measured in a fresh process (CPU) or with CUDA's allocator stats."""

import json
import time

import torch
import torch.nn.functional as F

from scripts.bench.harness import Timings, interleaved, peak_rss_mib, run_internal, sync
from scripts.bench.previous_lc import PreviousLocalConv2d
from sharebench.models.layers import LocallyConnected2d

SHAPES = [(128, 16, 32, 28, 3), (128, 1, 16, 28, 3), (64, 32, 32, 14, 3)]  # B, in, out, size, kernel
QUICK = [(32, 16, 32, 14, 3)]
CONV, BMM = "F.conv2d (same FLOPs)", "bmm of the layer's shape"


def broadcast_lc(x, w, k, padding):
    """The common implementation: unfold, then broadcast-multiply a (B, O, K, L) temporary and sum."""
    cols = F.unfold(x, k, padding=padding)  # (B, K, L)
    return (cols.unsqueeze(1) * w.unsqueeze(0)).sum(2)  # w: (O, K, L)


def loop_lc(x, w, k, padding):
    """One small matmul per output position: the naive loop."""
    cols = F.unfold(x, k, padding=padding)
    return torch.stack([cols[:, :, i] @ w[:, :, i].t() for i in range(cols.shape[2])], dim=2)


def forwards(shape, device) -> dict:
    """name -> a function running the variant's forward (its output has a graph to backpropagate)."""
    b, cin, cout, size, k = shape
    torch.manual_seed(0)
    x = torch.randn(b, cin, size, size, device=device, requires_grad=True)
    layer = LocallyConnected2d(cin, cout, size, k, padding=k // 2).to(device)
    geometry = (layer.stride, layer.padding, layer.dilation)
    conv_w = torch.randn(cout, cin, k, k, device=device, requires_grad=True)
    L, K = size * size, cin * k * k
    w = torch.randn(L, cout, K, device=device, requires_grad=True)  # the layer's matmul: (L, O, K) @ (L, K, B)
    cols = torch.randn(L, K, b, device=device, requires_grad=True)
    flat_w = layer.weight.detach().reshape(L, cout, K).permute(1, 2, 0).contiguous().requires_grad_()
    return {
        "LocallyConnected2d": lambda: layer(x),
        "previous layout (batch in the middle)": lambda: PreviousLocalConv2d.apply(
            x, layer.weight, layer.bias, *geometry
        ),
        CONV: lambda: F.conv2d(x, conv_w, padding=k // 2),
        BMM: lambda: torch.bmm(w, cols),
        "broadcast-multiply": lambda: broadcast_lc(x, flat_w, k, k // 2),
        "per-position loop": lambda: loop_lc(x, flat_w, k, k // 2),
    }


def peak_mib(shape, variant: str, device) -> float:
    """Extra peak memory of one forward + backward: CUDA's allocator stats, or on CPU the growth of
    the resident high-water mark in a fresh process, so that earlier work cannot hide it."""
    if device.type == "cuda":
        fn = forwards(shape, device)[variant]
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn().sum().backward()
        return round((torch.cuda.max_memory_allocated(device) - base) / 2**20, 1)
    out = run_internal("locally_connected", json.dumps([list(shape), variant]))
    return float(out.strip().splitlines()[-1])


def internal(spec: str) -> None:
    shape, variant = json.loads(spec)
    fn = forwards(tuple(shape), torch.device("cpu"))[variant]
    before = peak_rss_mib()
    fn().sum().backward()
    print(round(peak_rss_mib() - before, 1))


def measure(device, quick: bool) -> list[dict]:
    rows = []
    for shape in QUICK if quick else SHAPES:
        b, cin, cout, size, k = shape
        variants = forwards(shape, device)
        if size * size * b > 64 * 196:  # the Python loop over positions is timed only where it ends soon
            del variants["per-position loop"]
        backward_s = {}

        def forward_then_backward(item):
            name, fn = item
            sync(device)
            start = time.perf_counter()
            y = fn()
            sync(device)
            middle = time.perf_counter()
            y.backward(torch.ones_like(y))
            sync(device)
            backward_s.setdefault(name, []).append(time.perf_counter() - middle)
            return middle - start

        for item in variants.items():  # warm-up
            forward_then_backward(item)
        backward_s.clear()
        fwd = interleaved({name: (name, fn) for name, fn in variants.items()}, 3 if quick else 7, forward_then_backward)

        bwd = Timings(backward_s)
        both = Timings({n: [f + g for f, g in zip(fwd.times[n], bwd.times[n])] for n in variants})
        flops = 2 * b * size * size * cin * k * k * cout  # one matmul's worth: the forward
        for name in variants:
            rows.append(
                {
                    "shape": f"B{b} {cin}->{cout} k{k} {size}x{size}",
                    "variant": name,
                    "forward_ms": round(1e3 * fwd[name], 2),
                    "backward_ms": round(1e3 * bwd[name], 2),
                    "gflops": round(3 * flops / both[name] / 1e9, 1),  # forward + input and weight gradients
                    "forward_of_conv": round(fwd.ratio(CONV, name), 3),
                    "backward_of_conv": round(bwd.ratio(CONV, name), 3),
                    "both_of_conv": round(both.ratio(CONV, name), 3),
                    "both_of_bmm": round(both.ratio(BMM, name), 3),
                    "peak_mib": peak_mib(shape, name, device),
                    "goal": "both_of_conv ≥ 0.4" if name == "LocallyConnected2d" else "",
                }
            )
    return rows

"""Locally connected layers: Conv1d/Conv2d without weight sharing (PyTorch has none, pytorch/pytorch#499).

Every output position owns its kernel and bias. The work is one im2col gather plus one batched matmul
over the L output positions: (L, O, K) @ (L, K, B), K = in_channels * prod(kernel).

Layout, picked by timing on CPU (scripts/bench/locally_connected.py): the batch is innermost in the
patches, (L, kernel..., channel, batch), so the gather and the backward's col2im copy runs of
channel * batch contiguous values (with the batch in the middle they were runs of one channel: a
single float for a 1-channel input); the kernel's order (kernel..., channel) is also the order the
weight is *stored* in (its shape
stays conv-like, (*output_size, out, in, *kernel); only its strides differ), so the bmm reads it
without a copy and its gradient lands in the parameter's layout. A custom autograd.Function does the
backward with the same layouts (forward-mode and double backward are not supported).
"""

import functools
import math

import torch
import torch.nn as nn


def _tuple(value, n: int, name: str) -> tuple[int, ...]:
    out = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(out) != n or not all(isinstance(v, int) for v in out):
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    return out


def set_geometry(layer: nn.Module, n: int, input_size, kernel_size, stride, padding, dilation) -> None:
    """Checked n-tuples of a conv-like layer's geometry, and its output size, set on the layer."""
    layer.input_size = _tuple(input_size, n, "input_size")
    layer.kernel_size = _tuple(kernel_size, n, "kernel_size")
    layer.stride = _tuple(stride, n, "stride")
    layer.padding = _tuple(padding, n, "padding")
    layer.dilation = _tuple(dilation, n, "dilation")
    if min(layer.kernel_size + layer.stride + layer.dilation) < 1 or min(layer.padding) < 0:
        raise ValueError(
            f"kernel_size, stride and dilation must be >= 1 and padding >= 0, got "
            f"{layer.kernel_size}, {layer.stride}, {layer.dilation}, {layer.padding}"
        )
    layer.output_size = tuple(
        (i + 2 * p - d * (k - 1) - 1) // s + 1
        for i, k, s, p, d in zip(layer.input_size, layer.kernel_size, layer.stride, layer.padding, layer.dilation)
    )
    if min(layer.output_size) < 1:
        raise ValueError(
            f"input_size {layer.input_size} with kernel_size {layer.kernel_size}, dilation "
            f"{layer.dilation} and padding {layer.padding} gives output size "
            f"{layer.output_size}: every dimension must be >= 1"
        )


def _amp_forward(forward):
    """torch.amp.custom_fwd for whichever device the input is on (custom_fwd takes one fixed device
    type): remember whether autocast was on, so that the backward runs under the same autocast."""

    @functools.wraps(forward)
    def wrapped(ctx, x, *args):
        kind = x.device.type
        on = torch.amp.is_autocast_available(kind) and torch.is_autocast_enabled(kind)  # not on `meta`
        ctx.autocast = (kind, torch.get_autocast_dtype(kind)) if on else None
        return forward(ctx, x, *args)

    return wrapped


def _amp_backward(backward):
    """torch.amp.custom_bwd's half: loss.backward() runs outside autocast, but a forward that ran
    under it saved tensors of mixed dtypes, and bmm takes no mix (the grad is bf16, the weight fp32)."""

    @functools.wraps(backward)
    def wrapped(ctx, *grads):
        if ctx.autocast is None:
            return backward(ctx, *grads)
        with torch.autocast(ctx.autocast[0], dtype=ctx.autocast[1]):
            return backward(ctx, *grads)

    return wrapped


class _LocalConv2d(torch.autograd.Function):
    """x (B, C, H, W), weight (Ho, Wo, O, C, kh, kw), bias (O, Ho, Wo) or None -> (B, O, Ho, Wo)."""

    @staticmethod
    @_amp_forward
    def forward(ctx, x, weight, bias, stride, padding, dilation):
        (B, C, H, W), (Ho, Wo, O, _, kh, kw) = x.shape, weight.shape
        (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
        L, K = Ho * Wo, C * kh * kw
        # Padded copy as (H, W, C, B): a window's rows are then runs of C * B contiguous values.
        xp = x.new_zeros(H + 2 * ph, W + 2 * pw, C, B)
        xp[ph : ph + H, pw : pw + W] = x.permute(2, 3, 1, 0)
        win = xp.unfold(0, dh * (kh - 1) + 1, sh).unfold(1, dw * (kw - 1) + 1, sw)[..., ::dh, ::dw]
        cols = win.permute(0, 1, 4, 5, 2, 3).reshape(L, K, B)  # the one big copy: (Ho, Wo, kh, kw, C, B)
        w = weight.movedim(3, -1).reshape(L, O, K)  # a view, given the storage order set in __init__
        if bias is None:
            y = torch.bmm(w, cols)
        else:  # bias (L, O, 1) broadcast over the batch, added inside the matmul
            y = torch.baddbmm(bias.reshape(O, L).t().unsqueeze(2), w, cols)
        ctx.save_for_backward(cols, weight)
        ctx.geometry = (x.shape, stride, padding, dilation)
        return y.permute(2, 1, 0).reshape(B, O, Ho, Wo)  # (L, O, B) -> conv layout, a view

    @staticmethod
    @_amp_backward
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        cols, weight = ctx.saved_tensors
        (B, C, H, W), (sh, sw), (ph, pw), (dh, dw) = ctx.geometry
        Ho, Wo, O, _, kh, kw = weight.shape
        L = Ho * Wo
        gy = grad.reshape(B, O, L).permute(2, 1, 0).contiguous()  # (L, O, B), the forward's output layout
        w = weight.movedim(3, -1).reshape(L, O, -1)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gc = torch.bmm(w.transpose(1, 2), gy).view(Ho, Wo, kh, kw, C, B)
            # col2im: add each kernel offset's slab (a loop over kh*kw offsets, not positions); the
            # slabs and the padded gradient are both runs of C * B contiguous values.
            gxp = gc.new_zeros(H + 2 * ph, W + 2 * pw, C, B)
            for i in range(kh):
                for j in range(kw):
                    rows = slice(i * dh, i * dh + sh * (Ho - 1) + 1, sh)
                    gxp[rows, j * dw : j * dw + sw * (Wo - 1) + 1 : sw] += gc[:, :, i, j]
            gx = gxp[ph : ph + H, pw : pw + W].permute(3, 2, 0, 1)
        if ctx.needs_input_grad[1]:  # (L, O, K) in the parameter's own storage order: no copy
            gw = torch.bmm(gy, cols.transpose(1, 2)).view(Ho, Wo, O, kh, kw, C).movedim(-1, 3)
        if ctx.needs_input_grad[2]:
            gb = gy.sum(2).t().reshape(O, Ho, Wo)
        return gx, gw, gb, None, None, None


class _LocallyConnectedNd(nn.Module):
    _dims: int
    _conv: type

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        input_size,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        bias: bool = True,
    ):
        super().__init__()
        n = self._dims
        self.in_channels, self.out_channels = in_channels, out_channels
        set_geometry(self, n, input_size, kernel_size, stride, padding, dilation)
        # Stored (*out, O, *kernel, C), exposed as (*out, O, C, *kernel): see the module docstring.
        storage = torch.empty(*self.output_size, out_channels, *self.kernel_size, in_channels)
        self.weight = nn.Parameter(storage.movedim(-1, n + 1))
        bias_ = nn.Parameter(torch.empty(out_channels, *self.output_size)) if bias else None
        self.register_parameter("bias", bias_)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # What Conv*d does (kaiming_uniform_ with a=sqrt(5)), per position: U(-1/sqrt(fan_in), +...).
        bound = 1 / math.sqrt(self.in_channels * math.prod(self.kernel_size))
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    @classmethod
    def from_conv(cls, conv: nn.Module, input_size):
        """The unshared twin of `conv` for inputs of `input_size`: its kernel and bias at every position."""
        if not isinstance(conv, cls._conv) or conv.groups != 1 or conv.padding_mode != "zeros":
            raise ValueError(
                f"{cls.__name__}.from_conv needs an nn.{cls._conv.__name__} with groups=1 and "
                f"zero padding, got {conv!r}"
            )
        padding = 0 if conv.padding == "valid" else conv.padding
        if isinstance(padding, str):
            raise ValueError(f"{cls.__name__}.from_conv needs integer padding, got padding={padding!r}")
        lc = cls(
            conv.in_channels,
            conv.out_channels,
            input_size,
            conv.kernel_size,
            conv.stride,
            padding,
            conv.dilation,
            bias=conv.bias is not None,
        )
        lc = lc.to(device=conv.weight.device, dtype=conv.weight.dtype)
        with torch.no_grad():
            lc.weight.copy_(conv.weight.expand_as(lc.weight))  # broadcast over the leading position dims
            if conv.bias is not None:
                lc.bias.copy_(conv.bias.view(-1, *(1,) * cls._dims).expand_as(lc.bias))
        return lc

    def position_kernels(self) -> torch.Tensor:
        """(*output_size, out, in, *kernel): the kernel of every output position (the weight itself)."""
        return self.weight

    def _check(self, x: torch.Tensor) -> None:
        n = self._dims
        if x.dim() != n + 2 or x.shape[1] != self.in_channels or tuple(x.shape[2:]) != self.input_size:
            raise ValueError(
                f"{type(self).__name__} expects input of shape (batch, {self.in_channels}, "
                f"{', '.join(map(str, self.input_size))}), got {tuple(x.shape)}"
            )

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, input_size={self.input_size}, "
            f"kernel_size={self.kernel_size}, output_size={self.output_size}, stride={self.stride}"
        )
        if any(self.padding):
            s += f", padding={self.padding}"
        if any(d != 1 for d in self.dilation):
            s += f", dilation={self.dilation}"
        return s + ("" if self.bias is not None else ", bias=False")


class LocallyConnected2d(_LocallyConnectedNd):
    """Conv2d with a separate kernel and bias at every output position; input (B, C, H, W)."""

    _dims, _conv = 2, nn.Conv2d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return _LocalConv2d.apply(x, self.weight, self.bias, self.stride, self.padding, self.dilation)


class LocallyConnected1d(_LocallyConnectedNd):
    """Conv1d with a separate kernel and bias at every output position; input (B, C, L)."""

    _dims, _conv = 1, nn.Conv1d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)  # run as the 2-D layer on a height-1 image; all views, no copies
        bias = None if self.bias is None else self.bias.unsqueeze(1)
        y = _LocalConv2d.apply(
            x.unsqueeze(2),
            self.weight.unsqueeze(0).unsqueeze(4),
            bias,
            (1, *self.stride),
            (0, *self.padding),
            (1, *self.dilation),
        )
        return y.squeeze(2)

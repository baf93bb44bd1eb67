"""LocallyConnected1d/2d: a conv without weight sharing.

The oracle is the conv itself: with one kernel copied to every position (from_conv) the layer must
compute exactly the conv, forward and backward. Per-position behaviour is checked against a
position-by-position loop written here, and against finite differences.
"""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from sharebench.models.layers import LocallyConnected1d, LocallyConnected2d, _LocalConv2d

F64 = torch.float64

# (in, out, input_size, kernel_size, stride, padding, dilation, bias)
CASES_2D = [
    (3, 4, (6, 6), 3, 1, 1, 1, True),
    (2, 5, (7, 9), (2, 3), 1, 0, 1, True),  # non-square kernel and input
    (3, 2, (8, 5), (3, 2), (2, 1), (1, 2), 1, True),  # per-axis stride and padding
    (2, 3, (9, 10), (3, 3), (1, 2), (2, 0), (2, 3), True),  # dilation
    (1, 2, (5, 7), (1, 4), 3, 1, (1, 2), False),  # stride > kernel: some inputs unused
    (4, 3, (4, 4), 4, 1, 0, 1, True),  # kernel = input: a single position
]
CASES_1D = [
    (3, 4, 10, 3, 1, 1, 1, True),
    (2, 3, 13, 4, 2, 2, 1, True),
    (2, 2, 15, 3, 3, 0, 2, False),
    (1, 5, 6, 6, 1, 0, 1, True),
]


def conv_and_twin(dims, case, dtype=F64):
    in_ch, out_ch, size, kernel, stride, padding, dilation, bias = case
    torch.manual_seed(0)
    conv_cls, lc_cls = (nn.Conv1d, LocallyConnected1d) if dims == 1 else (nn.Conv2d, LocallyConnected2d)
    conv = conv_cls(in_ch, out_ch, kernel, stride, padding, dilation, bias=bias).to(dtype)
    return conv, lc_cls.from_conv(conv, size)


@pytest.mark.parametrize("dims,case", [(2, c) for c in CASES_2D] + [(1, c) for c in CASES_1D])
def test_shared_kernels_compute_the_conv_forward_and_backward(dims, case):
    conv, lc = conv_and_twin(dims, case)
    size = case[2] if dims == 2 else (case[2],)
    x = torch.randn(3, case[0], *size, dtype=F64, requires_grad=True)
    y_conv, y_lc = conv(x), lc(x)
    assert y_lc.shape == y_conv.shape
    assert lc.output_size == tuple(y_conv.shape[2:])
    torch.testing.assert_close(y_lc, y_conv, rtol=1e-12, atol=1e-12)

    g = torch.randn_like(y_conv)
    conv_params = [conv.weight] + ([conv.bias] if conv.bias is not None else [])
    lc_params = [lc.weight] + ([lc.bias] if lc.bias is not None else [])
    gx_conv, *g_conv = torch.autograd.grad(y_conv, [x, *conv_params], g)
    gx_lc, *g_lc = torch.autograd.grad(y_lc, [x, *lc_params], g)
    torch.testing.assert_close(gx_lc, gx_conv, rtol=1e-12, atol=1e-12)
    # The shared kernel's gradient is the sum of the per-position kernels' gradients.
    positions = tuple(range(dims))
    torch.testing.assert_close(g_lc[0].sum(positions), g_conv[0], rtol=1e-10, atol=1e-10)
    if conv.bias is not None:
        bias_positions = tuple(range(1, dims + 1))
        torch.testing.assert_close(g_lc[1].sum(bias_positions), g_conv[1], rtol=1e-10, atol=1e-10)
    else:
        assert lc.bias is None


def test_float32_matches_conv():
    conv, lc = conv_and_twin(2, CASES_2D[2], dtype=torch.float32)
    x = torch.randn(4, 3, 8, 5, requires_grad=True)
    y = lc(x)
    assert y.dtype == torch.float32 and lc.weight.dtype == torch.float32
    torch.testing.assert_close(y, conv(x), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(torch.autograd.grad(y.sum(), x)[0], torch.autograd.grad(conv(x).sum(), x)[0])


def loop_reference(lc, x):
    """Position by position, straight from the definition (small sizes only)."""
    (sh, sw), (ph, pw), (dh, dw) = lc.stride, lc.padding, lc.dilation
    kh, kw = lc.kernel_size
    xp = F.pad(x, (pw, pw, ph, ph))
    out = torch.empty(x.shape[0], lc.out_channels, *lc.output_size, dtype=x.dtype)
    for i in range(lc.output_size[0]):
        for j in range(lc.output_size[1]):
            patch = xp[:, :, i * sh : i * sh + dh * (kh - 1) + 1 : dh, j * sw : j * sw + dw * (kw - 1) + 1 : dw]
            out[:, :, i, j] = torch.einsum("bchw,ochw->bo", patch, lc.weight[i, j])
            if lc.bias is not None:
                out[:, :, i, j] += lc.bias[:, i, j]
    return out


@pytest.mark.parametrize("case", [CASES_2D[1], CASES_2D[3], CASES_2D[4]])
def test_distinct_kernels_match_a_per_position_loop(case):
    in_ch, out_ch, size, kernel, stride, padding, dilation, bias = case
    torch.manual_seed(1)
    lc = LocallyConnected2d(in_ch, out_ch, size, kernel, stride, padding, dilation, bias).double()
    x = torch.randn(2, in_ch, *size, dtype=F64, requires_grad=True)
    y, ref = lc(x), loop_reference(lc, x)
    torch.testing.assert_close(y, ref, rtol=1e-12, atol=1e-12)
    params = [x, *lc.parameters()]
    g = torch.randn_like(y)
    for got, want in zip(torch.autograd.grad(y, params, g), torch.autograd.grad(ref, params, g)):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


def test_gradcheck_with_distinct_kernels():
    torch.manual_seed(2)
    lc2 = LocallyConnected2d(2, 3, (5, 6), (2, 3), stride=(1, 2), padding=1, dilation=(2, 1)).double()
    x = torch.randn(2, 2, 5, 6, dtype=F64, requires_grad=True)
    fn = lambda x, w, b: _LocalConv2d.apply(x, w, b, lc2.stride, lc2.padding, lc2.dilation)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, lc2.weight, lc2.bias))
    lc1 = LocallyConnected1d(2, 3, 7, 3, stride=2, padding=1).double()
    x1 = torch.randn(2, 2, 7, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: lc1(x), (x1,))
    assert torch.autograd.gradcheck(
        lambda w, b: torch.func.functional_call(lc1, {"weight": w, "bias": b}, (x1,)),
        (lc1.weight.detach().requires_grad_(), lc1.bias.detach().requires_grad_()),
    )


def test_parameter_count_and_shapes_by_hand():
    lc = LocallyConnected2d(1, 16, (28, 28), 3, padding=1)
    assert lc.output_size == (28, 28)
    assert lc.weight.shape == (28, 28, 16, 1, 3, 3)
    assert lc.bias.shape == (16, 28, 28)
    assert lc.weight.numel() == 28 * 28 * 16 * 1 * 3 * 3 == 112896
    assert lc.bias.numel() == 16 * 28 * 28 == 12544
    assert sum(p.numel() for p in lc.parameters()) == 112896 + 12544
    conv = nn.Conv2d(1, 16, 3, padding=1)
    assert sum(p.numel() for p in lc.parameters()) == 28 * 28 * sum(p.numel() for p in conv.parameters())
    lc1 = LocallyConnected1d(2, 4, 10, 3, stride=2, bias=False)
    assert lc1.output_size == (4,) and lc1.weight.shape == (4, 4, 2, 3) and lc1.bias is None
    assert sum(p.numel() for p in lc1.parameters()) == 4 * 4 * 2 * 3


def test_positions_are_independent():
    torch.manual_seed(3)
    lc = LocallyConnected2d(2, 3, (6, 7), 3, padding=1).double()
    x = torch.randn(2, 2, 6, 7, dtype=F64)
    before = lc(x).detach()
    with torch.no_grad():
        lc.weight[2, 4] += 1.0  # the kernel of output position (2, 4) only
    changed = (lc(x).detach() != before).any(dim=(0, 1))
    expected = torch.zeros(6, 7, dtype=torch.bool)
    expected[2, 4] = True
    assert torch.equal(changed, expected)
    # Gradient side: a loss that reads one position reaches only that position's kernel and bias.
    lc(x)[:, :, 2, 4].sum().backward()
    touched = lc.weight.grad.abs().sum(dim=(2, 3, 4, 5)) > 0
    assert torch.equal(touched, expected)
    assert torch.equal(lc.bias.grad.abs().sum(0) > 0, expected)


def test_init_matches_conv_bounds_and_differs_per_position():
    torch.manual_seed(4)
    lc = LocallyConnected2d(4, 8, (10, 10), 3, padding=1)
    bound = 1 / math.sqrt(4 * 3 * 3)
    for p in (lc.weight, lc.bias):
        assert p.abs().max() <= bound and p.abs().max() > 0.95 * bound
    assert not torch.equal(lc.weight[0, 0], lc.weight[5, 5])
    # The conv's own init has the same bound.
    conv = nn.Conv2d(4, 8, 3)
    assert conv.weight.abs().max() <= bound and conv.weight.abs().max() > 0.9 * bound


@pytest.mark.parametrize(
    "args",
    [
        dict(input_size=(4, 8), kernel_size=5),  # kernel larger than the input
        dict(input_size=(9, 9), kernel_size=3, dilation=5),  # dilated kernel spans 11 > 9
        dict(input_size=6, kernel_size=(3, 9), padding=(0, 1)),  # padding not enough on one axis
    ],
)
def test_empty_output_raises_naming_the_sizes(args):
    with pytest.raises(ValueError, match=r"input_size \(\d+, \d+\).*output size \(-?\d+, -?\d+\)"):
        LocallyConnected2d(2, 3, **args)
    with pytest.raises(ValueError, match="input_size"):
        LocallyConnected1d(2, 3, 4, 5)


def test_wrong_input_shape_raises():
    lc = LocallyConnected2d(2, 3, (6, 7), 3)
    lc(torch.randn(1, 2, 6, 7))  # the right shape works
    for bad in [(1, 2, 7, 6), (1, 2, 6, 8), (1, 3, 6, 7), (2, 6, 7)]:
        with pytest.raises(ValueError, match=r"\(batch, 2, 6, 7\)"):
            lc(torch.randn(*bad))
    with pytest.raises(ValueError, match=r"\(batch, 2, 9\)"):
        LocallyConnected1d(2, 3, 9, 3)(torch.randn(1, 2, 10))
    with pytest.raises(ValueError, match="groups=1"):
        LocallyConnected2d.from_conv(nn.Conv2d(4, 4, 3, groups=2), (8, 8))
    with pytest.raises(ValueError):
        LocallyConnected2d.from_conv(nn.Conv1d(4, 4, 3), (8, 8))


def test_training_step_state_dict_and_repr():
    torch.manual_seed(5)
    lc = LocallyConnected2d(2, 3, (5, 5), 3, stride=2, padding=1, bias=False)
    x, target = torch.randn(8, 2, 5, 5), torch.randn(8, 3, 3, 3)
    opt = torch.optim.SGD(lc.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = F.mse_loss(lc(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    twin = LocallyConnected2d(2, 3, (5, 5), 3, stride=2, padding=1, bias=False)
    twin.load_state_dict(lc.state_dict())
    assert torch.equal(twin(x), lc(x))
    text = repr(lc)
    assert "input_size=(5, 5)" in text and "output_size=(3, 3)" in text and "bias=False" in text

"""Low-rank locally connected layers (Elsayed et al. 2020): rank 1 is the conv, forward and backward;
every position applies its own mix of the shared kernels; accounting counts it as the unshared twin."""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from helpers.configs import make_cfg

from sharebench import models
from sharebench.accounting import account
from sharebench.errors import UserError
from sharebench.models.layers import LocallyConnected1d, LocallyConnected2d
from sharebench.models.lowrank import LowRankLocallyConnected1d, LowRankLocallyConnected2d

F64 = torch.float64
torch.set_num_threads(1)


def build(*overrides, shape=(1, 12, 12)):
    return models.build(make_cfg(*overrides).model, shape, 10)


@pytest.mark.parametrize("dims,combining", [(1, "full"), (2, "full"), (2, "row"), (2, "column"), (2, "factorized")])
def test_rank_one_is_the_conv_outputs_and_gradients(dims, combining):
    torch.manual_seed(0)
    if dims == 2:
        conv = nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2)).double()
        lr = LowRankLocallyConnected2d(
            3, 4, (7, 6), (3, 2), rank=1, stride=(2, 1), padding=1, dilation=(1, 2), combining=combining
        ).double()
        x = torch.randn(2, 3, 7, 6, dtype=F64, requires_grad=True)
    else:
        conv = nn.Conv1d(3, 4, 5, stride=2, padding=2).double()
        lr = LowRankLocallyConnected1d(3, 4, 11, 5, rank=1, stride=2, padding=2).double()
        x = torch.randn(2, 3, 11, dtype=F64, requires_grad=True)
    with torch.no_grad():
        lr.basis[0].copy_(conv.weight)
        lr.bias.copy_(conv.bias)
        for name, p in lr.named_parameters():
            if name.startswith("combining"):
                p.normal_()  # softmax over one kernel is 1 whatever the logit
    y, ref = lr(x), conv(x)
    torch.testing.assert_close(y, ref, rtol=1e-12, atol=1e-12)
    g = torch.randn_like(y)
    gx, gbasis, gbias = torch.autograd.grad(y, [x, lr.basis, lr.bias], g)
    rx, rw, rb = torch.autograd.grad(ref, [x, conv.weight, conv.bias], g)
    torch.testing.assert_close(gx, rx, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gbasis[0], rw, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gbias, rb, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("combining", ["full", "row", "column", "factorized"])
def test_each_position_applies_its_mixed_kernel(combining):
    """The layer equals a locally connected layer holding every position's mixed kernel."""
    torch.manual_seed(1)
    lr = LowRankLocallyConnected2d(2, 3, (6, 5), 3, rank=3, padding=1, combining=combining).double()
    with torch.no_grad():
        for name, p in lr.named_parameters():
            if name.startswith("combining"):
                p.normal_()
    lc = LocallyConnected2d(2, 3, (6, 5), 3, padding=1).double()
    with torch.no_grad():
        lc.weight.copy_(lr.position_kernels())
        lc.bias.copy_(lr.bias.view(3, 1, 1).expand_as(lc.bias))
    x = torch.randn(2, 2, 6, 5, dtype=F64)
    torch.testing.assert_close(lr(x), lc(x), rtol=1e-12, atol=1e-12)
    w = lr.combining_weights()
    assert w.shape == (3, 6, 5)
    torch.testing.assert_close(w.sum(0), torch.ones(6, 5, dtype=F64))
    # equal up to the last bit a vectorised softmax may round differently from lane to lane (AVX-512)
    same = dict(rtol=0, atol=1e-15)
    if combining == "row":  # one set per output row: equal along each row, different across rows
        torch.testing.assert_close(w, w[:, :, :1].expand_as(w), **same)
        assert not torch.allclose(w[:, 0], w[:, 1])
    if combining == "column":
        torch.testing.assert_close(w, w[:, :1].expand_as(w), **same)
        assert not torch.allclose(w[:, :, 0], w[:, :, 1])


def test_parameter_shapes_and_counts_by_hand():
    shapes = lambda m: {n: tuple(p.shape) for n, p in m.named_parameters()}  # noqa: E731
    full = LowRankLocallyConnected2d(4, 8, (10, 10), 3, rank=2, padding=1)
    assert shapes(full) == {"basis": (2, 8, 4, 3, 3), "bias": (8,), "combining": (2, 10, 10)}
    assert sum(p.numel() for p in full.parameters()) == 2 * 8 * 4 * 9 + 8 + 2 * 100 == 784
    assert shapes(LowRankLocallyConnected2d(4, 8, (10, 12), 3, rank=3, combining="row"))["combining"] == (3, 8, 1)
    assert shapes(LowRankLocallyConnected2d(4, 8, (10, 12), 3, rank=3, combining="column"))["combining"] == (3, 1, 10)
    fact = shapes(LowRankLocallyConnected2d(4, 8, (10, 12), 3, rank=3, combining="factorized"))
    assert fact["combining_rows"] == (3, 8, 1) and fact["combining_cols"] == (3, 1, 10)
    one = LowRankLocallyConnected1d(1, 5, 40, 5, rank=4, stride=2, padding=1, bias=False)
    assert shapes(one) == {"basis": (4, 5, 1, 5), "combining": (4, 19)} and one.output_size == (19,)
    assert one(torch.randn(3, 1, 40)).shape == (3, 5, 19)
    with pytest.raises(ValueError, match="full"):
        LowRankLocallyConnected1d(1, 5, 40, 5, combining="row")
    with pytest.raises(ValueError, match="rank"):
        LowRankLocallyConnected2d(1, 5, 8, 3, rank=0)


def test_init_starts_as_a_conv_with_the_conv_scale():
    torch.manual_seed(2)
    lr = LowRankLocallyConnected2d(16, 32, (8, 8), 3, rank=4, padding=1)
    kernels = lr.position_kernels()
    assert torch.equal(kernels[0, 0], kernels[5, 3])  # zero logits: every position the same mean kernel
    bound = 1 / math.sqrt(16 * 9)
    assert abs(kernels[0, 0].std().item() - bound / math.sqrt(3)) < 0.1 * bound / math.sqrt(3)


def test_accounting_counts_the_unshared_twin_plus_the_logits():
    shape = (1, 12, 12)
    table, totals = account(build("model=lowrank_cnn", "model.scheme.rank=3"), shape)
    _, local = account(build("model=local_cnn"), shape)
    rows = {r["name"]: r for r in table}
    assert rows["conv1.basis"]["count"] == 3 * 16 * 9 and rows["conv1.basis"]["effective"] == 144 * 16 * 9
    assert rows["conv2.bias"]["effective"] == 32 * 144
    assert rows["conv1.combining"]["count"] == rows["conv1.combining"]["effective"] == 3 * 144
    logits = 2 * 3 * 144
    assert totals["params_total"] == 3 * (16 * 9 + 32 * 16 * 9) + 16 + 32 + logits + 32 * 144 * 10 + 10
    assert totals["params_effective"] == local["params_effective"] + logits
    conv_macs = account(build("model=shared_cnn"), shape)[1]["macs_per_example"]
    head = 32 * 144 * 10
    assert totals["macs_per_example"] == 3 * (conv_macs - head) + head  # K convolutions, one head


def test_convnet_options_and_errors():
    net = build("model=lowrank_cnn", "model.scheme.combining=factorized")
    assert isinstance(net.conv1, LowRankLocallyConnected2d) and net.conv1.combining_mode == "factorized"
    assert net(torch.randn(2, 1, 12, 12)).shape == (2, 10)
    seq = build("model=lowrank_cnn", shape=(1, 40))
    assert isinstance(seq.conv2, LowRankLocallyConnected1d)
    with pytest.raises(UserError, match="full"):
        build("model=lowrank_cnn", "model.scheme.combining=row", shape=(1, 40))
    with pytest.raises(UserError, match="model.scheme.rank"):
        build("model=lowrank_cnn", "model.scheme.rank=0")


def test_training_lowers_the_loss():
    torch.manual_seed(3)
    lr = LowRankLocallyConnected1d(2, 3, 16, 3, rank=3, padding=1)
    teacher = LocallyConnected1d(2, 3, 16, 3, padding=1)
    x = torch.randn(64, 2, 16)
    with torch.no_grad():
        target = teacher(x)
    opt = torch.optim.Adam(lr.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = F.mse_loss(lr(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
    assert lr.combining.grad.abs().sum() > 0  # the mixing is learned too

"""ConvNet along the sharing spectrum: per-block geometry, soft tying, dynamic sharing, untying at a
step and the parameter-matched wide conv — each counted, each equivalent to what it claims. What they
do to training, through the real loop, is in test_spectrum_training.py; that every spectrum point
builds, counts and steps, in test_every_option.py."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from helpers.configs import make_cfg

from sharebench import models
from sharebench.accounting import parameter_table, parameter_totals
from sharebench.errors import UserError
from sharebench.models.cnn import DenseMap

torch.set_num_threads(1)
F64 = torch.float64


def build(*overrides, shape=(1, 40)):
    return models.build(make_cfg(*overrides).model, shape, 10)


def unique(model) -> int:
    return parameter_totals(parameter_table(model))["params_total"]


def test_mnist1d_cnn_is_the_papers_convbase():
    model = build("model=mnist1d_cnn")
    assert [m.kernel_size for m in model.blocks()] == [(5,), (3,), (3,)]
    assert [m.padding for m in model.blocks()] == [(1,), (1,), (1,)]
    x = torch.randn(2, 1, 40)
    sizes = []
    for m in model.blocks():
        x = m(x)
        sizes.append(x.shape[-1])
    assert sizes == [19, 10, 5] and model.feature_shape == (25, 5)
    assert unique(model) == (25 * 5 + 25) + 2 * (25 * 25 * 3 + 25) + (125 * 10 + 10) == 5210
    local = build("model=mnist1d_local_cnn")
    assert local.conv1.kernel_size == (5,)
    assert unique(local) == 19 * 150 + 10 * 1900 + 5 * 1900 + 1260


def test_per_block_geometry_and_its_errors():
    model = build(
        "model=shared_cnn",
        "model.channels=[4,6,8]",
        "model.kernel_size=[7,5,3]",
        "model.stride=[1,2,1]",
        "model.padding=[3,0,1]",
        "model.dilation=[1,1,2]",
        shape=(1, 12, 12),
    )
    assert [m.kernel_size for m in model.blocks()] == [(7, 7), (5, 5), (3, 3)]
    # 12 → k7 p3 → 12 → k5 s2 → 4 → k3 d2 p1 → 2
    assert model.feature_shape == (8, 2, 2)
    assert model(torch.randn(2, 1, 12, 12)).shape == (2, 10)
    with pytest.raises(UserError, match=r"model.kernel_size=\[5, 3\] has 2 entries for 3 blocks"):
        build("model=mnist1d_cnn", "model.kernel_size=[5,3]")


def test_soft_tying_penalty_by_hand_and_off_at_zero():
    assert build("model=local_cnn").penalty() is None
    model = build("model=soft_tied_cnn", "model.scheme.tie_strength=0.5", "model.channels=[2]")
    w = model.conv1.weight  # (40, 2, 1, 3)
    expected = 0.5 * sum(((w[p] - w.mean(0)) ** 2).sum() for p in range(40))
    torch.testing.assert_close(model.penalty(), expected)
    with torch.no_grad():
        w.copy_(w[0].expand_as(w))
    assert abs(model.penalty().item()) < 1e-10
    with pytest.raises(UserError, match="model.layer=local"):
        build("model=shared_cnn", "++model.scheme.tie_strength=0.1")


def test_dynamic_sharing_sets_every_kernel_to_their_mean_which_makes_the_local_layer_a_conv():
    torch.manual_seed(1)
    model = build("model=dynamic_shared_cnn", "model.scheme.share_every=1", "model.channels=[3,4]")
    lc = model.conv2
    mean_kernel = lc.weight.detach().mean(0)
    assert not torch.equal(lc.weight, mean_kernel.expand_as(lc.weight))  # kernels start apart
    assert model.after_step(1) is False  # the same tensors, changed in place: no new optimizer
    assert torch.equal(lc.weight, mean_kernel.expand_as(lc.weight))
    h = torch.randn(5, 3, 40)
    conv = F.conv1d(h, mean_kernel, None, 1, 1) + lc.bias  # kernels shared, biases left per position
    torch.testing.assert_close(lc(h), conv, rtol=1e-5, atol=1e-5)


def test_dynamic_sharing_every_n_steps_only():
    torch.manual_seed(2)
    model = build("model=dynamic_shared_cnn", "model.scheme.share_every=3", "model.channels=[2]")
    w = model.conv1.weight
    for step in (1, 2):
        assert model.after_step(step) is False
        assert not torch.equal(w, w[:1].expand_as(w))
    assert model.after_step(3) is False and torch.equal(w, w[:1].expand_as(w))
    with pytest.raises(UserError, match="model.scheme.share_every"):
        build("model=dynamic_shared_cnn", "model.scheme.share_every=-1")


@pytest.mark.parametrize(
    "to,shape", [("local", (1, 40)), ("dense", (1, 40)), ("local", (2, 7, 6)), ("dense", (2, 7, 6))]
)
def test_untie_keeps_the_function_and_announces_new_parameters(to, shape):
    torch.manual_seed(3)
    model = build(
        "model=untie_cnn",
        "model.scheme.untie_at=2",
        f"model.scheme.untie_to={to}",
        "model.channels=[3,4]",
        "model.stride=[1,2]",
        shape=shape,
    ).double()
    x = torch.randn(4, *shape, dtype=F64)
    before = model(x)
    old = {id(p) for p in model.parameters()}
    assert model.after_step(1) is False
    assert model.after_step(2) is True and model.after_step(3) is False
    assert type(model.conv1).__name__.startswith("LocallyConnected" if to == "local" else "DenseMap")
    assert old.isdisjoint(id(p) for n, p in model.named_parameters() if n.startswith("conv"))
    torch.testing.assert_close(model(x), before, rtol=1e-12, atol=1e-12)
    fresh = build(
        "model=untie_cnn",
        "model.scheme.untie_at=2",
        f"model.scheme.untie_to={to}",
        "model.channels=[3,4]",
        "model.stride=[1,2]",
        shape=shape,
    ).double()
    fresh.load_state_dict(model.state_dict())  # a checkpoint saved after the switch loads into a new net
    assert fresh.untied and torch.equal(fresh(x), model(x))


def test_untie_starts_from_a_conv():
    with pytest.raises(UserError, match="model.layer=conv"):
        build("model=untie_cnn", "model.layer=local")


def test_dense_from_conv_is_exact():
    torch.manual_seed(5)
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1, bias=False).double()
    dense = DenseMap.from_conv(conv, (5, 6))
    x = torch.randn(2, 2, 5, 6, dtype=F64)
    torch.testing.assert_close(dense(x), conv(x), rtol=1e-12, atol=1e-12)
    assert dense.weight.shape == (3 * 3 * 3, 2 * 5 * 6) and torch.equal(dense.bias, torch.zeros(27, dtype=F64))


@pytest.mark.parametrize("twin", ["local", "dense"])
def test_wide_conv_matches_the_twins_parameter_count(twin):
    for shape in ((1, 40), (1, 12, 12)):
        wide = build("model=wide_cnn", f"model.scheme.match_params_of={twin}", shape=shape)
        target = unique(build("model=shared_cnn", f"model.layer={twin}", shape=shape))
        assert abs(unique(wide) - target) <= 0.05 * target, (shape, wide.channels)
        assert wide.channels[1] == 2 * wide.channels[0] or abs(wide.channels[1] - 2 * wide.channels[0]) <= 1
    paper = build("model=wide_cnn", "model.channels=[25,25,25]", "model.kernel_size=[5,3,3]", "model.stride=2")
    assert len(set(paper.channels)) == 1  # one factor for every block
    with pytest.raises(UserError, match="model.scheme.match_params_of"):
        build("model=wide_cnn", "model.scheme.match_params_of=conv")

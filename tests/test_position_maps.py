"""Locality, sharing and receptive-field width of a layer's linear map (models/position_maps.py), on
layers built to have known values: exact ones for convolutions and equal kernels, the theory's for
Gaussian weights (with a tolerance of five standard deviations, derived below)."""

import math

import pytest
import torch
import torch.nn as nn

from sharebench.models.cnn import ConvNet, DenseMap
from sharebench.models.layers import LocallyConnected1d, LocallyConnected2d
from sharebench.models.lowrank import LowRankLocallyConnected2d
from sharebench.models.mlp import MLP
from sharebench.models.position_maps import block_metrics, position_map_metrics
from sharebench.models.tiled import TiledConv2d

torch.set_num_threads(1)
CONV = {1: nn.Conv1d, 2: nn.Conv2d}
# (input size, kernel, stride, padding, dilation): interior-only, padded borders, strides, dilation
GEOMETRIES = [
    ((40,), 5, 2, 1, 1),
    ((12,), 3, 1, 1, 1),
    ((9, 8), 3, 2, 1, 1),
    ((7, 10), (3, 2), 1, (2, 1), (2, 1)),
    ((6, 6), 3, 1, 0, 1),
]


def neighbour_pairs(size, kernel, stride, padding, dilation) -> torch.Tensor:
    """(Q, N) bool: which input positions a convolution of this geometry reads at each output position,
    found by a convolution itself (DenseMap.from_conv of an all-ones kernel), not by position_maps."""
    conv = CONV[len(size)](1, 1, kernel, stride, padding, dilation, bias=False)
    nn.init.ones_(conv.weight)
    return DenseMap.from_conv(conv, size).weight != 0


def beta_tolerance(mean: float, draws: int) -> float:
    """Five standard deviations of A / (A + B), A ~ χ²_a, B ~ χ²_b independent, a + b = draws: that
    ratio is Beta(a/2, b/2), of variance mean (1 − mean) · 2 / (draws + 2)."""
    return 5 * math.sqrt(mean * (1 - mean) * 2 / (draws + 2))


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
def test_a_convolution_and_its_dense_form_are_local_and_shared(geometry):
    size, *conv_geometry = geometry
    torch.manual_seed(0)
    conv = CONV[len(size)](3, 4, *conv_geometry)
    assert block_metrics(conv, size) == {"locality": 1.0, "sharing": 1.0}
    dense = block_metrics(DenseMap.from_conv(conv, size), size)
    # every weight of the dense form sits in a neighbourhood (float32 sums of squares: 1e-6)
    assert dense["locality"] == pytest.approx(1, abs=1e-6) and dense["sharing"] == pytest.approx(1, abs=1e-9)


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
def test_equal_kernels_at_every_position_are_shared_whatever_lies_in_the_padding(geometry):
    size, *conv_geometry = geometry
    torch.manual_seed(0)
    local = {1: LocallyConnected1d, 2: LocallyConnected2d}[len(size)].from_conv(
        CONV[len(size)](3, 4, *conv_geometry), size
    )
    assert block_metrics(local, size) == pytest.approx({"locality": 1.0, "sharing": 1.0}, abs=1e-12)
    if any(local.padding):  # a tap of the first position that reads padding: no part of the map
        first = (0,) * len(size)
        with torch.no_grad():
            local.weight[(*first, slice(None), slice(None), *first)] = 100.0
        assert block_metrics(local, size) == pytest.approx({"locality": 1.0, "sharing": 1.0}, abs=1e-12)


@pytest.mark.parametrize(
    "layer, size, padding",
    [(LocallyConnected2d, (6, 7), 0), (LocallyConnected1d, (8,), 3)],
    ids=["interior: 1/P", "borders: T/Σn"],
)
def test_iid_kernels_share_as_the_theory_says(layer, size, padding):
    """Gaussian kernels, i.i.d. over positions: with n_t the positions where tap t reads the input,
    the energy of the best shared kernel is χ² with T·M degrees of freedom (M channel pairs), the
    residual an independent χ² with M·(Σn − T): sharing ~ Beta, mean T/Σn (1/P without padding)."""
    kernel = 7 if len(size) == 1 else 3
    torch.manual_seed(0)
    lc = layer(32, 32, size, kernel, padding=padding)
    with torch.no_grad():
        lc.weight.normal_()
    pairs = neighbour_pairs(size, kernel, 1, padding, 1)
    taps, uses, positions = kernel ** len(size), pairs.sum().item(), pairs.shape[0]
    expected, tolerance = taps / uses, beta_tolerance(taps / uses, 32 * 32 * uses)
    measured = block_metrics(lc, size)
    assert measured["locality"] == 1.0
    assert measured["sharing"] == pytest.approx(expected, abs=tolerance)
    if padding:  # the borders matter: 1/P would be outside the tolerance
        assert abs(1 / positions - expected) > tolerance
    else:
        assert expected == 1 / positions


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
def test_a_random_dense_map_is_as_local_as_its_share_of_neighbouring_pairs(geometry):
    """Gaussian dense weights: the energy inside the neighbourhoods is χ² with M·(neighbouring pairs)
    degrees of freedom, outside an independent χ² with the rest: locality ~ Beta, its mean the share
    of (q, p) pairs that are neighbours, borders included."""
    size, *conv_geometry = geometry
    pairs = neighbour_pairs(size, *conv_geometry)
    torch.manual_seed(0)
    dense = DenseMap.from_conv(CONV[len(size)](8, 8, *conv_geometry), size)
    with torch.no_grad():
        dense.weight.normal_()
    expected = pairs.float().mean().item()
    measured = block_metrics(dense, size)["locality"]
    assert measured == pytest.approx(expected, abs=beta_tolerance(expected, dense.weight.numel()))
    kernel, stride, padding, _ = conv_geometry
    if padding == 0 and stride == 1:  # no border: every position reads k of the N, k/N exactly
        assert expected == pytest.approx(kernel ** len(size) / math.prod(size), rel=1e-12)


def test_gaussian_dense_units_have_the_theorys_width():
    """One channel, N positions, w ~ N(0, 1): width = X²/Y, X = Σw² (mean N, var 2N), Y = Σw⁴
    (mean 3N, var 96N), cov(X, Y) = 12N. To second order E[width] = N/3 + 14/9, and one unit's
    relative standard deviation is √(8 / 3N)."""
    n, units = 400, 4000
    torch.manual_seed(0)
    mlp = MLP((1, n), 10, hidden=[units])
    with torch.no_grad():
        mlp.linear1.weight.normal_()
    width = position_map_metrics(mlp)["linear1_rf_width"]
    tolerance = 5 * (n / 3) * math.sqrt(8 / (3 * n * units))
    assert width == pytest.approx(n / 3 + 14 / 9, abs=tolerance)
    assert abs(width - n / 3) > tolerance  # the second-order term is measured, not lost in the noise


@pytest.mark.parametrize("w", [1, 3, 10])
def test_a_unit_with_equal_weights_on_w_adjacent_positions_is_w_wide(w):
    channels, size = 2, (6, 5)
    positions = math.prod(size)
    mlp = MLP((channels, *size), 10, hidden=[positions - w + 1])
    signs = torch.randint(0, 2, (positions - w + 1, channels, w)) * 2.0 - 1  # any sign, equal energy
    weight = torch.zeros(positions - w + 1, channels, positions)
    for unit in range(positions - w + 1):  # unit u: positions u … u + w − 1 (row-major)
        weight[unit, :, unit : unit + w] = signs[unit]
    with torch.no_grad():
        mlp.linear1.weight.copy_(weight.flatten(1))
    measured = position_map_metrics(mlp)
    assert measured["linear1_rf_width"] == pytest.approx(w, rel=1e-12)
    assert measured["linear1_ipr_locality"] == pytest.approx((positions / w - 1) / (positions - 1), rel=1e-12)


def test_every_convnet_block_reports_and_a_dense_one_its_width():
    torch.manual_seed(0)
    spec = dict(channels=[4, 4], kernel_size=[5, 3], stride=2, padding=1)
    keys = {f"conv{i}_{k}" for i in (1, 2) for k in ("locality", "sharing")}
    for layer in ("conv", "lowrank", "tiled", "local"):
        assert set(position_map_metrics(ConvNet((1, 40), 10, layer=layer, **spec))) == keys
    dense = position_map_metrics(ConvNet((1, 40), 10, layer="dense", **spec))
    assert set(dense) == keys | {f"conv{i}_{k}" for i in (1, 2) for k in ("rf_width", "ipr_locality")}
    assert dense["conv1_locality"] < 0.5 and position_map_metrics(MLP((1, 40), 10)).keys() == {
        "linear1_rf_width",
        "linear1_ipr_locality",
    }
    alone = DenseMap(2, 3, (10,), (8,))  # standing for no convolution: no neighbourhood, its width alone
    assert block_metrics(alone, (10,)).keys() == {"rf_width", "ipr_locality"}
    wrapped = nn.Sequential(nn.ModuleDict({"a": ConvNet((1, 40), 10, layer="local", **spec)}))
    assert "0_a_conv2_sharing" in position_map_metrics(wrapped)


def test_lowrank_and_tiled_sit_where_their_kernels_put_them():
    torch.manual_seed(0)
    rank1 = LowRankLocallyConnected2d(3, 4, (8, 8), 3, rank=1, padding=1)
    assert block_metrics(rank1, (8, 8))["sharing"] == pytest.approx(1, abs=1e-12)
    tiled = TiledConv2d(8, 8, (8, 8), 3, tile=2, padding=1)
    with torch.no_grad():  # every bank the same: a convolution
        tiled.weight.copy_(tiled.weight[:1, :1].expand_as(tiled.weight))
    assert block_metrics(tiled, (8, 8))["sharing"] == pytest.approx(1, abs=1e-12)
    with torch.no_grad():  # the 4 banks i.i.d.: the mean kernel explains about a quarter of the energy
        tiled.weight.normal_()
    assert 0.15 < block_metrics(tiled, (8, 8))["sharing"] < 0.35


def test_a_layer_pruned_to_zeros_sits_nowhere_instead_of_failing():
    """β-LASSO can zero a whole dense block, and its neighbourhoods alone: NaN, not a division by zero."""
    net = ConvNet((1, 12), 3, layer="dense", channels=[2], kernel_size=3)
    with torch.no_grad():
        net.conv1.weight.zero_()
    found = block_metrics(net.conv1, (12,))
    assert all(math.isnan(found[k]) for k in ("locality", "sharing", "rf_width", "ipr_locality")), found
    outside = ~neighbour_pairs((12,), 3, 1, 1, 1)  # (Q, N): weight only where no neighbourhood reads
    with torch.no_grad():
        net.conv1.weight.view(2, 12, 1, 12)[:] = outside.double()[None, :, None, :]
    found = block_metrics(net.conv1, (12,))
    assert found["locality"] == 0 and math.isnan(found["sharing"])

"""sharing_diagnostics: how alike the kernels of an unshared layer are across positions."""

import math

import torch
import torch.nn as nn

from sharebench.models.cnn import ConvNet
from sharebench.models.diagnostics import kernel_diagnostics, sharing_diagnostics
from sharebench.models.layers import LocallyConnected2d
from sharebench.models.lowrank import LowRankLocallyConnected2d
from sharebench.models.tiled import TiledConv1d

torch.set_num_threads(1)


def test_hand_computed_on_three_positions():
    # 1-D, three positions, kernels of two entries: [0, 1], [2, 1], [4, 1]
    k = torch.tensor([[0.0, 1.0], [2.0, 1.0], [4.0, 1.0]])
    d = kernel_diagnostics(k, dims=1)
    # entry 0: mean 2, std sqrt(8/3); entry 1: mean 1, std 0 -> inf; average inf
    assert d["snr"] == math.inf
    d = kernel_diagnostics(k[:, :1], dims=1)
    assert math.isclose(d["snr"], 2 / math.sqrt(8 / 3), rel_tol=1e-6)
    assert math.isclose(d["neighbor_dist"], 2.0) and math.isclose(d["dist_to_mean"], 4 / 3, rel_tol=1e-6)
    # 2-D grid 2×2 of scalars [[0, 1], [3, 5]]: neighbours (0,3), (1,5) down and (0,1), (3,5) across
    grid = torch.tensor([[0.0, 1.0], [3.0, 5.0]]).unsqueeze(-1)
    assert math.isclose(kernel_diagnostics(grid, dims=2)["neighbor_dist"], (3 + 4 + 1 + 2) / 4)


def test_fresh_local_layer_is_noise_and_averaged_one_is_shared():
    torch.manual_seed(0)
    net = nn.Sequential(LocallyConnected2d(4, 8, (20, 20), 3, padding=1), nn.Conv2d(8, 8, 3))
    d = sharing_diagnostics(net)
    assert set(d) == {"0_snr", "0_neighbor_dist", "0_dist_to_mean"}  # convs are not reported
    assert d["0_snr"] < 0.1  # ≈ √(2/π)/√400 = 0.04
    assert d["0_neighbor_dist"] > 0 and d["0_dist_to_mean"] > 0
    w = net[0].weight
    with torch.no_grad():
        w.copy_(w.mean((0, 1), keepdim=True).expand_as(w))
    d = sharing_diagnostics(net)
    assert d["0_snr"] > 1e3 and d["0_neighbor_dist"] == 0.0 and d["0_dist_to_mean"] < 1e-5


def test_lowrank_tiled_and_model_keys():
    torch.manual_seed(1)
    lowrank = LowRankLocallyConnected2d(2, 3, (6, 6), 3, rank=1, padding=1)
    assert sharing_diagnostics(lowrank)["snr"] > 1e3  # rank 1: one kernel everywhere
    lowrank = LowRankLocallyConnected2d(2, 3, (6, 6), 3, rank=4, padding=1)
    with torch.no_grad():
        lowrank.combining.normal_(0, 3)
    assert sharing_diagnostics(lowrank)["neighbor_dist"] > 0
    tiled = TiledConv1d(2, 3, 10, 3, tile=2, padding=1)
    kernels = tiled.position_kernels()
    assert kernels.shape == (10, 3, 2, 3) and torch.equal(kernels[4], tiled.weight[0])
    assert torch.equal(kernels[7], tiled.weight[1])
    net = ConvNet((1, 40), 10, layer="local", channels=[2, 2])
    assert sorted(sharing_diagnostics(net)) == sorted(
        f"conv{i}_{k}" for i in (1, 2) for k in ("snr", "neighbor_dist", "dist_to_mean")
    )
    assert sharing_diagnostics(ConvNet((1, 40), 10, layer="conv")) == {}
    wrapped = nn.Sequential(nn.ModuleDict({"a": net}))
    assert "0_a_conv1_snr" in sharing_diagnostics(wrapped)

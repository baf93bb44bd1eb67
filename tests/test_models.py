"""Model shapes and parameter counts, checked against the seed and against hand calculation."""

import pytest
import torch
from helpers.configs import make_cfg

from sharebench import models
from sharebench.accounting import parameter_table, parameter_totals
from sharebench.errors import UserError


def build(*overrides, shape=(1, 28, 28), outputs=10):
    return models.build(make_cfg(*overrides).model, shape, outputs)


def test_shared_cnn_defaults_are_the_seed_sharedcnn():
    model = build("model=shared_cnn")
    shapes = [(name, tuple(p.shape)) for name, p in model.named_parameters()]
    assert shapes == [  # exactly what the seed prints with named_parameters()
        ("conv1.weight", (16, 1, 3, 3)),
        ("conv1.bias", (16,)),
        ("conv2.weight", (32, 16, 3, 3)),
        ("conv2.bias", (32,)),
        ("fc.weight", (10, 25088)),
        ("fc.bias", (10,)),
    ]
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_local_cnn_has_the_same_topology_without_sharing():
    model = build("model=local_cnn")
    counts = {row["name"]: row["count"] for row in parameter_table(model)}
    # every output position (28×28, padding 1 keeps the size) owns a kernel and a bias
    assert counts["conv1.weight"] == 28 * 28 * 16 * 1 * 3 * 3
    assert counts["conv1.bias"] == 16 * 28 * 28
    assert counts["conv2.weight"] == 28 * 28 * 32 * 16 * 3 * 3
    assert counts["conv2.bias"] == 32 * 28 * 28
    assert counts["fc.weight"] == 10 * 25088
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_cnn_on_sequences_uses_1d_layers():
    shared = build("model=shared_cnn", shape=(1, 40))
    local = build("model=local_cnn", shape=(1, 40))
    assert isinstance(shared.conv1, torch.nn.Conv1d)
    assert parameter_totals(parameter_table(shared))["params_total"] == (16 * 3 + 16) + (32 * 16 * 3 + 32) + (
        32 * 40 * 10 + 10
    )
    assert parameter_totals(parameter_table(local))["params_total"] == 40 * (16 * 3 + 16) + 40 * (32 * 16 * 3 + 32) + (
        32 * 40 * 10 + 10
    )
    for model in (shared, local):
        assert model(torch.randn(3, 1, 40)).shape == (3, 10)


def test_cnn_geometry_options():
    model = build(
        "model=shared_cnn",
        "model.channels=[8,8]",
        "model.kernel_size=5",
        "model.stride=2",
        "model.padding=1",
        "model.pool=max",
        shape=(1, 40),
    )
    # 40 → conv k5 s2 p1 → 19 → max pool 2 → 9 → conv → 4 → max pool 2 → 2
    assert model.feature_shape == (8, 2)
    assert model(torch.randn(2, 1, 40)).shape == (2, 10)


def test_mlp_counts():
    model = build("model=mlp", "model.hidden=[64,32]", shape=(1, 40))
    assert parameter_totals(parameter_table(model))["params_total"] == (40 * 64 + 64) + (64 * 32 + 32) + (32 * 10 + 10)


def test_kernel_larger_than_input_is_a_user_error():
    with pytest.raises(UserError, match="too small"):
        build("model=shared_cnn", "model.kernel_size=9", "model.padding=0", shape=(1, 4, 4))
    with pytest.raises(UserError, match="pool"):
        build("model=shared_cnn", "model.pool=max", "model.channels=[4,4,4]", shape=(1, 4))


def test_tied_tensor_counts_once():
    lin = torch.nn.Linear(4, 4)
    net = torch.nn.Sequential(lin, torch.nn.ReLU(), lin)
    frozen = torch.nn.Linear(4, 2)
    frozen.requires_grad_(False)
    totals = parameter_totals(parameter_table(torch.nn.Sequential(net, frozen)))
    assert totals == {"params_total": 20 + 10, "params_trainable": 20, "params_frozen": 10, "params_bytes": 4 * 30}

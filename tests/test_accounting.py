"""Parameter and compute accounting: unique vs effective counts and MACs, checked by hand. That every
shipped model counts the same on the meta device as for real is in test_every_option.py."""

import random

import torch
from helpers.commands import sharebench
from helpers.configs import make_cfg

from sharebench import models
from sharebench.accounting import account
from sharebench.cli import params_command as params_main


def build(*overrides, shape=(1, 28, 28), outputs=10):
    return models.build(make_cfg(*overrides).model, shape, outputs)


def rows_by_name(table):
    return {r["name"]: r for r in table}


def test_shared_cnn_effective_counts_are_kernel_times_positions():
    table, totals = account(build("model=shared_cnn"), (1, 28, 28))
    r = rows_by_name(table)
    assert r["conv1.weight"]["count"] + r["conv1.bias"]["count"] == 160
    assert r["conv1.weight"]["effective"] + r["conv1.bias"]["effective"] == 160 * 784  # 28×28 positions
    assert r["conv2.weight"]["effective"] == 32 * 16 * 9 * 784 and r["conv2.weight"]["sharing"] == 784
    assert r["fc.weight"]["effective"] == r["fc.weight"]["count"] == 10 * 25088
    assert r["conv1.weight"]["bytes"] == 144 * 4
    unique = 160 + (32 * 16 * 9 + 32) + (25088 * 10 + 10)
    effective = 160 * 784 + (32 * 16 * 9 + 32) * 784 + (25088 * 10 + 10)
    assert totals["params_total"] == unique and totals["params_effective"] == effective
    assert totals["sharing_factor"] == round(effective / unique, 4)
    assert totals["params_bytes"] == 4 * unique
    # MACs per example: each conv weight once per output position, the head once
    assert totals["macs_per_example"] == 16 * 9 * 784 + 32 * 16 * 9 * 784 + 25088 * 10
    # the locally connected twin needs exactly what the shared net would need unshared
    local_table, local = account(build("model=local_cnn"), (1, 28, 28))
    assert local["params_total"] == local["params_effective"] == effective
    assert local["macs_per_example"] == totals["macs_per_example"]
    assert all(row["sharing"] == 1.0 for row in local_table)


def test_reused_module_counts_once_unique_and_per_call_effective():
    """The hard-tying contract: copies built as the same module count once, and once per use."""
    lin = torch.nn.Linear(4, 4)
    frozen = torch.nn.Linear(4, 2)
    frozen.requires_grad_(False)
    net = torch.nn.Sequential(lin, torch.nn.ReLU(), lin, torch.nn.ReLU(), lin, frozen)
    table, totals = account(net, (4,))
    assert [r["name"] for r in table] == ["0.weight", "0.bias", "5.weight", "5.bias"]
    assert (totals["params_total"], totals["params_trainable"], totals["params_frozen"]) == (30, 20, 10)
    assert totals["params_effective"] == 3 * 20 + 10
    assert totals["macs_per_example"] == 3 * 16 + 8


def test_rnn_counts_cell_times_steps_and_equals_unrolled_twin():
    cfg_shape = (1, 40)  # MNIST-1D: 40 steps of 1 feature
    for cell, gates in (("rnn", 1), ("gru", 3), ("lstm", 4)):
        table, totals = account(build("model=rnn", f"model.cell={cell}", "model.hidden=8", shape=cfg_shape), cfg_shape)
        cell_params = gates * 8 * (1 + 8) + 2 * gates * 8
        head = 8 * 10 + 10
        assert totals["params_total"] == cell_params + head
        assert totals["params_effective"] == 40 * cell_params + head
        assert totals["macs_per_example"] == 40 * gates * 8 * (1 + 8) + 8 * 10  # fused CPU kernels counted too
        _, unrolled = account(
            build("model=unrolled_rnn", f"model.cell={cell}", "model.hidden=8", shape=cfg_shape), cfg_shape
        )
        assert unrolled["params_total"] == unrolled["params_effective"] == totals["params_effective"]
        assert unrolled["macs_per_example"] == totals["macs_per_example"]


def test_accounting_leaves_the_model_and_random_state_alone():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Dropout(0.5))
    net.train()
    random.seed(5)
    torch.manual_seed(5)
    expected = (random.random(), torch.rand(1))
    random.seed(5)
    torch.manual_seed(5)
    account(net, (1, 6, 6))
    assert (random.random(), torch.rand(1)) == expected
    assert net.training and int(net[1].num_batches_tracked) == 0


def test_params_answers_for_billions_of_parameters_without_allocating_them(capsys):
    # 174 GB of float32 weights: this only returns because the meta device allocates nothing
    assert params_main(["-m", "experiment=first_layer_conv_local_dense"]) == 0
    out = capsys.readouterr().out
    lines = {
        line.split()[1]: line.split()
        for line in out.splitlines()
        if line.startswith("experiment=first_layer_conv_local_dense model.layer=")
    }
    conv, local, dense = (lines[f"model.layer={k}"] for k in ("conv", "local", "dense"))
    head = 32 * 192 * 192 * 10 + 10
    assert conv[2] == f"{288 + 32 + head:,}" and conv[3] == f"{(288 + 32) * 192 * 192 + head:,}"
    assert local[2] == local[3] == f"{(288 + 32) * 192 * 192 + head:,}"
    assert dense[2] == f"{192 * 192 * 32 * 192 * 192 + 32 * 192 * 192 + head:,}"  # 43.5 billion
    assert "conv1.weight  32x1x3x3" in out


def test_params_command_compares_models_and_writes_nothing(tmp_path):
    out = sharebench(
        "params", "-m", "model=shared_cnn,local_cnn,mlp", "dataset=synthetic", "dataset.shape=[1,28,28]", cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert "model=shared_cnn" in out.stdout and "if unshared" in out.stdout and "MACs/example" in out.stdout
    assert "conv1.weight" in out.stdout and "linear1.weight" in out.stdout
    assert list(tmp_path.iterdir()) == []
    bad = sharebench("params", "model=shared_cnn", "model.scheme.tile=2", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("sharebench: error: unknown key 'model.scheme.tile'")
    assert len(bad.stderr.strip().splitlines()) == 1


def test_params_never_loads_pretrained_weights(capsys, monkeypatch):
    import torchvision

    def offline(*args, **kwargs):
        raise AssertionError("params tried to fetch weights")

    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", offline)
    assert (
        params_main(["model=resnet_transfer", "model.weights=imagenet", "dataset=synthetic", "dataset.shape=[3,32,32]"])
        == 0
    )
    assert "fc.weight" in capsys.readouterr().out


def test_params_reports_an_input_the_model_cannot_read(capsys):
    assert params_main(["model=rnn", "dataset=synthetic", "dataset.shape=[5]"]) == 2
    assert "recurrent model reads [C, L] sequences" in capsys.readouterr().err

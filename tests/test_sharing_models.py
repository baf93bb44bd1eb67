"""tiled_cnn, rnn / unrolled_rnn and dynamic_net: shapes, counts by hand, equivalences, training."""

import csv
import json
import random

import pytest
import torch
from helpers.configs import TINY, make_cfg

from sharebench import data, models
from sharebench.accounting import account
from sharebench.configs import RunArgs
from sharebench.errors import UserError
from sharebench.models import tiled
from sharebench.models.rnn import UnrolledRNN
from sharebench.run import experiment
from sharebench.run.experiment import seed_everything

SMALL = ("model.channels=[3,4]",)


def build(*overrides, shape=(1, 8, 8), outputs=10):
    return models.build(make_cfg(*overrides).model, shape, outputs)


def copy_weights(dst, src):
    """Copy every tensor of src into dst, broadcasting a shared kernel over dst's extra bank dims."""
    with torch.no_grad():
        for (name, p), q in zip(dst.named_parameters(), src.parameters()):
            if "bias" in name and p.dim() > q.dim():  # (O,) → (O, *banks)
                q = q.view(-1, *(1,) * (p.dim() - 1))
            p.copy_(q.expand_as(p))


@pytest.mark.parametrize("shape", [(1, 8, 8), (2, 10)])
def test_tiled_cnn_with_tile_1_is_shared_cnn_and_full_tile_is_local_cnn(shape):
    x = torch.randn(3, *shape)
    shared, tile1 = (
        build("model=shared_cnn", *SMALL, shape=shape),
        build("model=tiled_cnn", *SMALL, "model.scheme.tile=1", shape=shape),
    )
    copy_weights(tile1, shared)
    assert torch.allclose(tile1(x), shared(x), atol=1e-5)
    local, full = (
        build("model=local_cnn", *SMALL, shape=shape),
        build("model=tiled_cnn", *SMALL, "model.scheme.tile=100", shape=shape),
    )
    assert [p.shape for p in full.parameters()] == [p.shape for p in local.parameters()]  # tile clamped to the output
    copy_weights(full, local)
    assert torch.allclose(full(x), local(x), atol=1e-5)


def test_tiled_conv_paths_agree_in_values_and_gradients(monkeypatch):
    layer = tiled.TiledConv2d(2, 3, (9, 7), 3, tile=(2, 3), stride=2, padding=1)
    x = torch.randn(2, 2, 9, 7, requires_grad=True)
    outs = []
    for limit in (6, 0):  # per-bank strided convolutions, then the spread-to-local path
        monkeypatch.setattr(tiled, "MAX_BANKS_FOR_CONV_PATH", limit)
        y = layer(x)
        grads = torch.autograd.grad((y * torch.arange(y.numel()).view_as(y)).sum(), [x, layer.weight, layer.bias])
        outs.append((y, *grads))
    for a, b in zip(*outs):
        assert torch.allclose(a, b, atol=1e-4)
    # position (p, q) uses bank (p mod 2, q mod 3): zero every bank but (1, 2) and only those positions fire
    with torch.no_grad():
        mask = torch.zeros(2, 3, 1, 1, 1, 1)
        mask[1, 2] = 1
        layer.weight.mul_(mask)
        layer.bias.zero_()
    y = layer(torch.randn(1, 2, 9, 7)).abs().sum((0, 1))
    assert (y[1::2, 2::3] > 0).all() and y.sum() == y[1::2, 2::3].sum()


def test_tiled_cnn_counts_by_hand():
    model = build("model=tiled_cnn", *SMALL, "model.scheme.tile=2")
    table, totals = account(model, (1, 8, 8))
    banks, positions = 4, 64  # 2×2 banks; padding 1 keeps 8×8
    conv1, conv2 = banks * (3 * 1 * 9 + 3), banks * (4 * 3 * 9 + 4)
    assert totals["params_total"] == conv1 + conv2 + 4 * 64 * 10 + 10
    assert totals["params_effective"] == (conv1 + conv2) // banks * positions + 4 * 64 * 10 + 10
    assert {r["name"]: r["shape"] for r in table}["conv1.weight"] == "2x2x3x1x3x3"
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 10)


@pytest.mark.parametrize("cell,gates", [("rnn", 1), ("gru", 3), ("lstm", 4)])
def test_rnn_counts_and_unrolled_twin_computes_the_same(cell, gates):
    shape = (3, 5, 4)  # an image read row by row: 5 steps of 3·4 = 12 features
    shared = build("model=rnn", f"model.cell={cell}", "model.hidden=6", shape=shape)
    per_step = gates * 6 * (12 + 6) + 2 * gates * 6
    assert sum(p.numel() for p in shared.parameters()) == per_step + 6 * 10 + 10
    unrolled = build("model=unrolled_rnn", f"model.cell={cell}", "model.hidden=6", shape=shape)
    assert sum(p.numel() for p in unrolled.parameters()) == 5 * per_step + 6 * 10 + 10
    x = torch.randn(4, *shape)
    twin = UnrolledRNN.from_shared(shared, shape, 10)
    assert shared(x).shape == twin(x).shape == unrolled(x).shape == (4, 10)
    assert torch.allclose(twin(x), shared(x), atol=1e-5)


def test_rnn_needs_a_sequence_view():
    with pytest.raises(UserError, match="row by row"):
        build("model=rnn", shape=(40,))
    assert build("model=rnn", shape=(1, 40)).steps == 40  # MNIST-1D: 40 steps of 1 feature


def test_dynamic_net_counts_and_reuses_its_middle_layer(monkeypatch):
    model = build("model=dynamic_net", shape=(1000,))
    assert sum(p.numel() for p in model.parameters()) == (1000 * 100 + 100) + (100 * 100 + 100) + (100 * 10 + 10)
    for k in (0, 2):
        monkeypatch.setattr(random, "randint", lambda a, b: k)
        _, totals = account(model, (1000,))
        assert totals["params_effective"] == (1000 * 100 + 100) + k * (100 * 100 + 100) + (100 * 10 + 10)
        assert totals["macs_per_example"] == 1000 * 100 + k * 100 * 100 + 100 * 10


def source_script_losses(steps: int) -> list[float]:
    """The loop of the DynamicNet example that model=dynamic_net comes from, as it was written there,
    on the data sharebench generates for it."""
    cfg = make_cfg("experiment=dynamic_net_noise_regression")
    x, y = data.load(cfg.dataset).train
    seed_everything(0)
    torch.manual_seed(0)

    class DynamicNet(torch.nn.Module):
        def __init__(self, D_in, H, D_out):
            super().__init__()
            self.input_linear = torch.nn.Linear(D_in, H)
            self.middle_linear = torch.nn.Linear(H, H)
            self.output_linear = torch.nn.Linear(H, D_out)

        def forward(self, x):
            h_relu = self.input_linear(x).clamp(min=0)
            for _ in range(random.randint(0, 3)):
                h_relu = self.middle_linear(h_relu).clamp(min=0)
            return self.output_linear(h_relu)

    model = DynamicNet(1000, 100, 10)
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    losses = []
    for _ in range(steps):
        loss = criterion(model(x), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses


def test_dynamic_net_noise_regression_reproduces_the_source_post(tmp_path):
    cfg = make_cfg("experiment=dynamic_net_noise_regression", "trainer.progress=false")
    summary = experiment.run(cfg, tmp_path, choices={"model": "dynamic_net", "dataset": "synthetic", "optim": "sgd"})
    assert summary["status"] == "completed" and summary["steps"] == 500
    assert summary["params_total"] == 111_210 and summary["train_size"] == 64 and summary["test_size"] == 0
    with open(tmp_path / "steps.csv") as f:
        losses = [float(r["loss"]) for r in csv.DictReader(f)]
    assert len(losses) == 500 and losses[-1] < 0.01 * losses[0]
    # the same curve as the seed's script (same init, same random reuse draws; batch order aside)
    assert losses[:30] == pytest.approx(source_script_losses(30), rel=1e-3)
    assert (tmp_path / "plots" / "loss.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "summary.json").read_text())["macs_per_example"] > 0


def test_a_key_only_swept_models_have_needs_plus_plus_in_a_sweep():
    from sharebench.checks.arguments import check_run_args

    # Hydra composes a sweep's base config with the default model first, which has no `cell`
    with pytest.raises(UserError, match=r"write \+\+model.cell=gru"):
        check_run_args(RunArgs(["-m", "model=rnn,unrolled_rnn", "model.cell=gru"]))
    check_run_args(RunArgs(["-m", "model=rnn,unrolled_rnn", "++model.cell=gru"]))
    check_run_args(RunArgs(["model=rnn", "model.cell=gru"]))


def test_new_models_run_in_one_sweep(tmp_path):
    from helpers.commands import sharebench

    out = sharebench(
        "run",
        "-m",
        *TINY,
        "trainer.max_steps=2",
        "trainer.plots=false",
        "model=tiled_cnn,rnn,unrolled_rnn,dynamic_net",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    runs = sorted((tmp_path / "results" / "multirun").glob("*/*/*/summary.json"))
    summaries = {json.loads(p.read_text())["model"]: json.loads(p.read_text()) for p in runs}
    assert set(summaries) == {"tiled_cnn", "rnn", "unrolled_rnn", "dynamic_net"}
    assert all(s["status"] == "completed" and s["macs_per_example"] > 0 for s in summaries.values())
    # on 1×8×8 the rnn reads 8 rows of 8: its unrolled twin has the rnn's effective count as unique
    assert summaries["rnn"]["params_effective"] == summaries["unrolled_rnn"]["params_total"]
    with open(runs[0].parent / "params.csv") as f:
        assert {"effective", "sharing", "bytes"} <= set(next(csv.DictReader(f)))

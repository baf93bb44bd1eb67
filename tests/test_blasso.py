"""β-LASSO (Neyshabur 2020) on the dense arm, spectrum=dense_blasso: one step is exactly
w − lr·(∇L + λ·sign(w)) then every |w| < β·λ set to 0; a short real run leaves its dense layers with
exact zeros; a bad value or a layer that is not dense is refused in one line."""

import pytest
import torch
import torch.nn.functional as F
from helpers.commands import run_in_process
from helpers.configs import TINY, make_cfg

from sharebench.errors import UserError
from sharebench.models.cnn import ConvNet
from sharebench.records.run_dir import read_csv
from sharebench.run import experiment

LAM, BETA = 0.01, 5.0  # the threshold β·λ = 0.05


def dense_net(**options) -> ConvNet:
    torch.manual_seed(0)
    return ConvNet((1, 6), 3, layer="dense", channels=[2], kernel_size=3, scheme=options).double()


def test_the_threshold_zeroes_exactly_the_weights_below_beta_lambda():
    net = dense_net(lasso_strength=LAM, lasso_beta=BETA)
    cut = LAM * BETA
    values = torch.tensor([cut, -cut, cut * (1 - 1e-9), -cut / 2, 0.3, -0.7, 0.0], dtype=torch.float64)
    with torch.no_grad():
        net.conv1.weight.view(-1)[: len(values)] = values
    head = net.fc.weight.detach().clone()
    net.threshold()
    kept = net.conv1.weight.view(-1)[: len(values)]
    assert kept.tolist() == [cut, -cut, 0.0, 0.0, 0.3, -0.7, 0.0]  # strictly below β·λ: zero; at it: kept
    assert torch.equal(net.fc.weight, head)  # the head is not thresholded


def test_one_sgd_step_is_algorithm_1_of_the_paper():
    """w ← w − lr·(∇L(w) + λ·sign(w)), then w ← w·1{|w| ≥ β·λ}, on the dense weights only."""
    net, lr = dense_net(lasso_strength=LAM, lasso_beta=BETA), 0.5
    x, y = torch.randn(8, 1, 6, dtype=torch.float64), torch.arange(8) % 3
    w = net.conv1.weight.detach().clone()
    grad = torch.autograd.grad(F.cross_entropy(net(x), y), net.conv1.weight)[0]  # the data loss alone
    expected = w - lr * (grad + LAM * torch.sign(w))
    expected[expected.abs() < BETA * LAM] = 0

    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.0)
    loss = F.cross_entropy(net(x), y) + net.penalty()  # as the training loop adds it
    loss.backward()
    optimizer.step()
    assert net.after_step(1) is False  # the same tensors, changed in place: no new optimizer
    torch.testing.assert_close(net.conv1.weight, expected, rtol=0, atol=1e-15)
    assert (net.conv1.weight == 0).any() and torch.equal(net.conv1.weight == 0, expected == 0)


def test_off_by_default_and_lambda_zero_adds_nothing():
    plain = dense_net()
    assert plain.penalty() is None and plain.evaluation_metrics(None, None) == {}
    w = plain.conv1.weight.detach().clone()
    plain.after_step(1)
    assert torch.equal(plain.conv1.weight, w)
    assert dense_net(lasso_beta=BETA).penalty() is None  # β alone: λ = 0, the plain dense net


def test_a_short_run_leaves_its_dense_layers_with_exact_zeros(tmp_path):
    run = (*TINY, "trainer.max_steps=12", "trainer.eval_every=4", "trainer.threads=1", "trainer.plots=false")
    summary = experiment.run(make_cfg(*run, "spectrum=dense_blasso"), tmp_path / "blasso")
    plain = experiment.run(make_cfg(*run, "spectrum=dense"), tmp_path / "dense")
    assert summary["status"] == plain["status"] == "completed"
    rows = read_csv(tmp_path / "blasso" / "metrics.csv")
    weights = torch.load(tmp_path / "blasso" / "model.pt", weights_only=True)
    for layer in ("conv1", "conv2"):
        zeros = (weights[f"{layer}.weight"] == 0).double().mean().item()
        assert zeros > 0 and summary[f"final_{layer}_zero_fraction"] == pytest.approx(zeros)
        # the L1 pull keeps pruning: more zeros at the end than at the first evaluation
        assert float(rows[-1][f"{layer}_zero_fraction"]) > float(rows[0][f"{layer}_zero_fraction"])
    dense = torch.load(tmp_path / "dense" / "model.pt", weights_only=True)
    assert not (dense["conv1.weight"] == 0).any() and "final_conv1_zero_fraction" not in plain


@pytest.mark.parametrize(
    "overrides, words",
    [
        (["spectrum=dense_blasso", "model.layer=local"], "model.scheme.lasso_strength=0.0001 needs model.layer=dense"),
        (["spectrum=conv", "++model.scheme.lasso_beta=50"], "model.scheme.lasso_beta=50 needs model.layer=dense"),
        (
            ["spectrum=dense_blasso", "model.scheme.lasso_strength=-0.1"],
            "model.scheme.lasso_strength=-0.1 is not valid",
        ),
        (["spectrum=dense_blasso", "model.scheme.lasso_beta=-1"], "model.scheme.lasso_beta=-1 is not valid"),
    ],
    ids=["local layer", "conv layer", "negative lambda", "negative beta"],
)
def test_bad_values_and_layers_that_are_not_dense_are_one_line(tmp_path, capsys, overrides, words):
    run_dir = tmp_path / "run"
    code = run_in_process([*TINY, *overrides, f"hydra.run.dir={run_dir}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("sharebench: error:"), err
    assert words in err[0] and not run_dir.exists()


def test_the_constructor_refuses_what_the_checks_refuse():
    with pytest.raises(UserError, match="needs model.layer=dense"):
        ConvNet((1, 6), 3, layer="conv", scheme={"lasso_strength": LAM})
    with pytest.raises(UserError, match="lasso_beta=nan"):
        ConvNet((1, 6), 3, layer="dense", scheme={"lasso_beta": float("nan")})

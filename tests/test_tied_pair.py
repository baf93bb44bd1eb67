"""tied_pair: soft tying pulls two copies together, hard tying is one module used twice, both tasks
are recorded."""

import torch
from helpers.configs import TINY, make_cfg

from sharebench import models
from sharebench.accounting import parameter_table, parameter_totals
from sharebench.records.run_dir import read_csv
from sharebench.run import experiment

MLP = ("model=tied_pair", "model@model.base=mlp", "model.base.hidden=[32]")
MLP_COUNT = (64 * 32 + 32) + (32 * 10 + 10)  # one base MLP on 1×8×8 inputs, 10 classes


def build(*overrides):
    return models.build(make_cfg(*MLP, *overrides).model, (1, 8, 8), 10)


def total(model):
    return parameter_totals(parameter_table(model))["params_total"]


def test_soft_pair_has_two_sets_and_hard_pair_one_called_twice():
    soft, hard = build("model.mode=soft"), build("model.mode=hard")
    assert total(soft) == 2 * MLP_COUNT and total(hard) == MLP_COUNT
    assert hard.a is hard.b and soft.a is not soft.b
    assert not torch.equal(soft.a.linear1.weight, soft.b.linear1.weight)  # independent initialisations
    calls = []
    hard.a.register_forward_hook(lambda *_: calls.append(1))
    x = torch.randn(5, 1, 8, 8)
    assert hard(x).shape == (10, 10) and len(calls) == 2  # the same module answers both tasks
    assert hard.squared_distance().item() == 0.0 and hard.penalty() == 0.0
    assert soft.squared_distance().item() > 0
    assert torch.isclose(soft.penalty(), 0.01 * soft.squared_distance())  # lam defaults to 0.01


def test_task_b_shifts_inputs_or_relabels_classes():
    shifted = build("model.task_b=shift", "model.shift=2")
    x = torch.arange(8.0).reshape(1, 1, 1, 8)
    assert shifted.input_b(x)[0, 0, 0].tolist() == [6, 7, 0, 1, 2, 3, 4, 5]
    y = torch.arange(10)
    assert torch.equal(shifted.targets(y), torch.cat([y, y]))
    relabelled = build("model.task_b=relabel")
    yb = relabelled.targets(y)[10:]
    assert sorted(yb.tolist()) == list(range(10)) and not torch.equal(yb, y)  # a permutation, not the identity
    assert torch.equal(relabelled.input_b(x), x)


def test_soft_tying_pulls_weights_together_and_both_tasks_are_recorded(tmp_path):
    def run(lam, name):
        cfg = make_cfg(
            *TINY, *MLP, f"model.lam={lam}", "trainer.max_steps=20", "trainer.eval_every=5", "trainer.plots=false"
        )
        return experiment.run(cfg, tmp_path / name)

    free, tied = run(0, "free"), run(1.0, "tied")
    assert tied["final_weight_distance"] < 0.5 * free["final_weight_distance"]
    rows = read_csv(tmp_path / "free" / "metrics.csv")
    for column in (
        "val_loss_a",
        "val_acc_a",
        "val_loss_b",
        "val_acc_b",
        "test_loss_a",
        "test_acc_b",
        "weight_distance",
    ):
        assert column in rows[0] and f"final_{column}" in free
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])  # training lowers the joint loss
    # the run's own columns are over both tasks: the mean of the two tasks' losses
    last = rows[-1]
    assert abs(float(last["val_loss"]) - (float(last["val_loss_a"]) + float(last["val_loss_b"])) / 2) < 1e-5
    assert free["params_total"] == 2 * MLP_COUNT


def test_hard_tying_runs_with_a_cnn_base(tmp_path):
    cfg = make_cfg(
        *TINY,
        "model=tied_pair",
        "model.mode=hard",
        "model.base.channels=[4]",
        "trainer.max_steps=3",
        "trainer.plots=false",
    )
    summary = experiment.run(cfg, tmp_path)
    assert summary["status"] == "completed" and summary["final_weight_distance"] == 0.0
    assert summary["params_total"] == (4 * 9 + 4) + (4 * 64 * 10 + 10)

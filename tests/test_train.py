"""The training loop: it learns and honours its settings. Reproducibility and divergence, through
whole runs and their files, are in test_faults.py."""

import math

from helpers.configs import TINY, make_cfg

from sharebench import assemble


def train(*overrides, **fit_options):
    parts = assemble(make_cfg(*TINY, "device=cpu", *overrides))  # data → model → optimizer, as a run makes them
    evals, steps = [], []
    result = parts.fit(evals.append, steps.extend, **fit_options)
    return result, evals, steps


def test_training_lowers_the_loss_and_records_every_step():
    result, evals, steps = train("model=mlp", "trainer.epochs=10", "optim.lr=0.003")
    assert result.status == "completed" and result.steps == 40  # 200 examples / batch 50 × 10 epochs
    assert [s["step"] for s in steps] == list(range(1, 41))
    assert len(evals) == 10 and evals[-1]["epoch"] == 10
    assert evals[-1]["train_loss"] < 0.8 * evals[0]["train_loss"]
    assert evals[-1]["val_acc"] > 0.2  # 10 classes: chance is 0.1
    assert all(0 <= e["train_acc"] <= 1 for e in evals)


def test_max_steps_and_eval_every_override_epochs():
    result, evals, steps = train("model=mlp", "trainer.max_steps=7", "trainer.eval_every=3")
    assert result.steps == 7 and len(steps) == 7
    assert [e["step"] for e in evals] == [3, 6, 7]


def test_cosine_and_onecycle_schedules_shape_the_lr():
    _, _, steps = train("model=mlp", "trainer.max_steps=20", "trainer.schedule=cosine", "optim.lr=0.1")
    lrs = [s["lr"] for s in steps]
    assert math.isclose(lrs[0], 0.1) and lrs[-1] < 0.01 and lrs == sorted(lrs, reverse=True)
    _, _, steps = train("model=mlp", "trainer.max_steps=20", "trainer.schedule=onecycle", "optim.lr=0.1")
    lrs = [s["lr"] for s in steps]
    assert lrs[0] < 0.01 and math.isclose(max(lrs), 0.1, rel_tol=0.05) and lrs[-1] < 0.001


def test_regression_uses_mse_and_learns():
    result, evals, _ = train(
        "model=mlp", "dataset.task=regression", "dataset.out_dim=3", "trainer.epochs=10", "optim.lr=0.003"
    )
    assert math.isnan(evals[-1]["val_acc"])
    assert evals[-1]["val_loss"] < evals[0]["val_loss"]


def test_batching_shortcuts_change_no_number(monkeypatch):
    """A small set shuffled once an epoch (batches are views) and the train accuracy's argmax held
    until the evaluation give exactly what per-batch gathers and a per-step argmax give."""
    from sharebench.train import batches, pending

    args = ("model=mlp", "trainer.max_steps=9", "trainer.eval_every=4", "seed=2")
    fast = train(*args)
    monkeypatch.setattr(batches, "WHOLE_EPOCH_BYTES", 0)  # every batch gathered on its own
    monkeypatch.setattr(pending, "HELD_OUTPUTS", 0)  # every step's outputs reduced at once
    slow = train(*args)
    numbers = [[{k: v for k, v in e.items() if k != "elapsed_s"} for e in run[1]] for run in (fast, slow)]
    assert numbers[0] == numbers[1] and fast[2] == slow[2]
    assert [e["step"] for e in fast[1]] == [4, 8, 9] and all(0 <= e["train_acc"] <= 1 for e in fast[1])


def test_a_checkpoint_between_evaluations_changes_no_record(monkeypatch):
    """The checkpoint flushes the pending steps as the evaluation does: with one before every step
    (the clock made to jump a day a step), steps.csv and metrics.csv are those of a run with none."""
    from types import SimpleNamespace

    from sharebench.train import loop, pending

    args = ("model=mlp", "trainer.max_steps=9", "trainer.eval_every=4", "trainer.checkpoint_every=1")
    plain = train(*args)
    now = [0.0]
    clock = SimpleNamespace(perf_counter=lambda: now[0])
    monkeypatch.setattr(loop, "time", clock)
    monkeypatch.setattr(pending, "time", clock)
    states = []

    def a_day_passes():  # asked once a step, before the checkpoint is due
        now[0] += 86400
        return False

    checked = train(*args, should_stop=a_day_passes, on_checkpoint=states.append)
    assert [s.loop.step for s in states] == list(range(9))  # a copy each: the loop goes on with its own
    assert [s.loop.carried_answers for s in states] == [0, 50, 100, 150, 0, 50, 100, 150, 0]
    rows = [[{k: v for k, v in e.items() if k != "elapsed_s"} for e in run[1]] for run in (plain, checked)]
    assert rows[0] == rows[1] and plain[2] == checked[2] and len(plain[2]) == 9

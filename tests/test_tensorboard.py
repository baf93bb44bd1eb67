"""logger=tensorboard writes the same scalars as metrics.csv and steps.csv (the `tensorboard` extra)."""

import csv

import pytest
from helpers.configs import TINY, make_cfg

from sharebench.run import experiment


def test_tensorboard_events_match_the_csv(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    experiment.run(
        make_cfg(*TINY, "logger=tensorboard", "trainer.max_steps=6", "trainer.eval_every=3", "trainer.plots=false"),
        tmp_path,
    )
    events = EventAccumulator(str(tmp_path / "tensorboard")).Reload()
    with open(tmp_path / "metrics.csv") as f:
        metrics = list(csv.DictReader(f))
    with open(tmp_path / "steps.csv") as f:
        steps = list(csv.DictReader(f))
    for column in ("test_acc", "val_loss", "train_loss", "lr"):
        logged = [(e.step, e.value) for e in events.Scalars(f"metrics/{column}")]
        assert logged == [(int(r["step"]), pytest.approx(float(r[column]), rel=1e-6)) for r in metrics], column
    logged = [(e.step, e.value) for e in events.Scalars("steps/loss")]
    assert logged == [(int(r["step"]), pytest.approx(float(r["loss"]), rel=1e-6)) for r in steps]
    assert len(logged) == 6


def test_default_logger_writes_no_events(tmp_path):
    experiment.run(make_cfg(*TINY, "trainer.max_steps=2", "trainer.plots=false"), tmp_path)
    assert (tmp_path / "metrics.csv").exists() and not (tmp_path / "tensorboard").exists()

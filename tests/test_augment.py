"""Augmentation and shifted-test evaluation: batched tensor ops, images and sequences alike."""

import csv
import json

import pytest
import torch
from helpers import datafiles
from helpers.commands import run_in_process
from helpers.configs import TINY, make_cfg

from sharebench.checks.values import check_config
from sharebench.data.augment import make_augment, shift
from sharebench.errors import UserError
from sharebench.run import experiment
from sharebench.train.shifted_eval import directions

PRESET_RUN = (
    "trainer.max_steps=2",
    "trainer.plots=false",
    "trainer.progress=false",
    "trainer.threads=1",
    "hydra.sweeper.params.seed=0",
)


def test_shift_moves_images_and_fills_what_it_vacates():
    x = torch.arange(12.0).view(1, 1, 3, 4).repeat(2, 2, 1, 1)
    out = shift(x, torch.tensor([[1, 0], [0, -2]]), fill=[-1.0, -2.0])
    assert torch.equal(out[0, 0, 1:], x[0, 0, :2]) and torch.equal(out[0, 0, 0], torch.full((4,), -1.0))
    assert torch.equal(out[0, 1, 0], torch.full((4,), -2.0))  # fill per channel
    assert torch.equal(out[1, 0, :, :2], x[1, 0, :, 2:]) and (out[1, 0, :, 2:] == -1).all()


def test_shift_moves_sequences_along_their_length():
    x = torch.arange(6.0).view(1, 1, 6)
    assert shift(x, torch.tensor([[2]])).flatten().tolist() == [0, 0, 0, 1, 2, 3]
    assert shift(x, torch.tensor([[-1]])).flatten().tolist() == [1, 2, 3, 4, 5, 0]


def test_augment_is_off_by_default_and_reproducible():
    assert make_augment(0, False, 0.0, 0, torch.device("cpu")) is None
    cfg = make_cfg()
    assert cfg.augment.translate == 0 and cfg.augment.flip is False and list(cfg.eval.shifts) == []
    x = torch.rand(64, 3, 8, 8)
    a, b = (make_augment(2, True, 0.0, 7, torch.device("cpu")) for _ in range(2))
    out = a(x)
    assert torch.equal(out, b(x)) and out.shape == x.shape and not torch.equal(out, x)
    flipped = make_augment(0, True, 0.0, 1, torch.device("cpu"))(x)
    per_example = [torch.equal(f, e) or torch.equal(f, e.flip(-1)) for f, e in zip(flipped, x)]
    assert all(per_example) and not torch.equal(flipped, x)


def test_translation_augment_runs_in_training_on_mnist1d(tmp_path):
    cfg = make_cfg(
        "augment.translate=3",
        "trainer.max_steps=5",
        "trainer.progress=false",
        "trainer.plots=false",
        "eval.shifts=[0,2]",
    )
    summary = experiment.run(cfg, tmp_path)
    assert summary["status"] == "completed" and summary["final_test_acc_shift2"] is not None


def test_shift_zero_is_the_test_accuracy_exactly(tmp_path):
    cfg = make_cfg(*TINY, "trainer.max_steps=6", "trainer.eval_every=3", "eval.shifts=[0,1,2]", "trainer.plots=false")
    summary = experiment.run(cfg, tmp_path)
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    for row in rows:
        assert row["test_acc_shift0"] == row["test_acc"]
        assert 0 <= float(row["test_acc_shift2"]) <= 1
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["final_test_acc_shift0"] == on_disk["final_test_acc"] == summary["final_test_acc"]
    assert "final_test_acc_shift1" in on_disk and "final_test_acc_shift2" in on_disk


def test_shifts_on_flat_vectors_are_a_user_error(tmp_path):
    cfg = make_cfg("dataset=synthetic", "dataset.shape=[16]", "model=mlp", "eval.shifts=[1]")
    with pytest.raises(UserError, match="eval.shifts.*flat vectors"):
        experiment.run(cfg, tmp_path)


def test_shift_directions():
    assert directions(0, 2, "both") == [(0, 0)]
    assert sorted(directions(2, 2, "both")) == sorted([(0, 2), (0, -2), (2, 0), (-2, 0)])
    assert directions(1, 2, "x") == [(0, 1), (0, -1)] and directions(3, 1, "both") == [(3,), (-3,)]


@pytest.mark.parametrize(
    "override, key",
    [
        ("eval.shifts=[1,-1]", "eval.shifts"),
        ("augment.translate=-1", "augment"),
        ("eval.shift_axes=y", "eval.shift_axes"),
        ("dataset.train_fraction=1.5", "train_fraction"),
    ],
)
def test_bad_values_name_the_key(override, key):
    with pytest.raises(UserError, match=key):
        check_config(make_cfg(override))


def test_fraction_and_size_together_and_folder_without_path_are_user_errors():
    with pytest.raises(UserError, match="not both"):
        check_config(make_cfg("dataset=mnist", "dataset.train_fraction=0.1", "dataset.train_size=100"))
    with pytest.raises(UserError, match="dataset.path"):
        check_config(make_cfg("dataset=image_folder"))


# The presets' sweeps run in this process (20 and 8 runs): what is tested is the preset, not the process.
# Marked slow: 28 runs in all, the longest tests of this file by far; .ci/run runs them.
@pytest.mark.slow
def test_sample_efficiency_preset_runs_end_to_end(tmp_path, monkeypatch):
    datafiles.write_mnist(tmp_path / "data", n_train=400, n_test=50)
    monkeypatch.chdir(tmp_path)
    args = ["-m", "experiment=sample_efficiency", f"dataset.root={tmp_path / 'data'}", "dataset.val_size=100"]
    assert run_in_process([*args, *PRESET_RUN]) == 0
    runs = list((tmp_path / "results" / "multirun").glob("*/*/*/summary.json"))
    summaries = [json.loads(p.read_text()) for p in runs]
    assert len(summaries) == 20 and all(s["status"] == "completed" for s in summaries)
    assert {s["model"] for s in summaries} == {"shared_cnn", "tiled_cnn", "local_cnn", "mlp"}
    assert sorted({s["train_size"] for s in summaries}) == [3, 9, 30, 90, 300]  # fractions of 300


@pytest.mark.slow
def test_mnist1d_benchmark_preset_runs_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_in_process(["-m", "experiment=mnist1d_benchmark", *PRESET_RUN]) == 0
    dirs = [p.parent for p in (tmp_path / "results" / "multirun").glob("*/*/*/summary.json")]
    overrides = [(d / ".hydra" / "overrides.yaml").read_text() for d in dirs]
    assert len(dirs) == 8 and sum("dataset.shuffle_seq=True" in o for o in overrides) == 4
    summaries = [json.loads((d / "summary.json").read_text()) for d in dirs]
    assert {s["model"] for s in summaries} == {"mnist1d_cnn", "mnist1d_local_cnn", "mlp", "gru"}
    assert {s["steps"] for s in summaries} == {2}

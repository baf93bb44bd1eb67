"""`hydra/sweeper=until_decided` as a user runs it: its mistakes refused in one line with nothing
written, a real sweep that stops once its pair is decided (fewer runs than its budget), `plot` of it
replaying the sweeper's verdict, and `resume=true` continuing it without training again."""

import os

import pandas as pd
import pytest
from helpers.commands import run_in_process
from helpers.configs import TINY

from sharebench.compare.sequential import load_design
from sharebench.records.run_dir import read_summary

SWEEP = ["-m", "hydra/sweeper=until_decided", *TINY, "trainer.threads=1", "trainer.plots=false"]


@pytest.mark.parametrize(
    "overrides, needle",
    [
        (["model=shared_cnn,local_cnn"], "give the seeds it may use as a sweep axis"),
        (["model=shared_cnn", "seed=range(0,5)"], "this sweep has one"),
        (
            ["model=shared_cnn,local_cnn", "seed=range(0,5)", "hydra.sweeper.budget=2"],
            "below hydra.sweeper.first_round",
        ),
        (["model=shared_cnn,local_cnn", "seed=range(0,5)", "hydra.sweeper.budget=9"], "the seed axis lists 5"),
        (["model=shared_cnn,local_cnn", "seed=range(0,5)", "hydra.sweeper.first_round=1"], "whole number ≥ 2"),
        (["model=shared_cnn,local_cnn", "seed=range(0,5)", "hydra.sweeper.delta=-0.1"], "finite number ≥ 0"),
        (["model=shared_cnn,local_cnn", "seed=range(0,5)", "hydra.sweeper.delta=abc"], "is not a number"),
        (["model=shared_cnn,local_cnn", "seed=range(0,5)", "hydra.sweeper.alpha=2"], "between 0 and 1"),
        (["model=shared_cnn,mlp", "seed=range(0,5)"], "no pair of arms to decide"),
        (["model=shared_cnn,mlp", "seed=range(0,5)", "hydra.sweeper.baseline=gru"], "matches 0 arm"),
        (["model=shared_cnn,local_cnn", "seed=range(0,5)", "+hydra.sweeper.rounds=3"], "not a key of"),
    ],
)
def test_mistakes_are_one_line_and_write_nothing(overrides, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = run_in_process([*SWEEP, *overrides, "trainer.max_steps=2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and needle in err[0], err
    assert not any(tmp_path.iterdir()), "a refused sweep leaves no directory"


@pytest.mark.slow
def test_a_sweep_stops_once_decided_and_resumes_without_training(tmp_path, capsys, monkeypatch):
    """1 step against 40 steps of training: 'B better' is clear within the first rounds."""
    monkeypatch.chdir(tmp_path)
    args = [
        *SWEEP,
        "model=mlp",
        "trainer.max_steps=1,40",
        "seed=range(0,9)",
        "hydra.sweeper.baseline=40",
        "hydra.sweeper.delta=0",
        "hydra.sweep.dir=sw",
    ]
    assert run_in_process(args) == 0
    out = capsys.readouterr().out
    outcome = pd.read_csv(tmp_path / "sw" / "until_decided.csv")
    assert outcome["verdict"].tolist() == ["B better"] and outcome["stopped"].tolist() == ["decided"], out
    seeds = int(outcome["decided_at_seeds"].iloc[0])
    runs = sorted(tmp_path.glob("sw/*/summary.json"))
    assert seeds < 9 and len(runs) == 2 * seeds, "it stopped adding seeds once decided"
    assert "every pair has a verdict" in out
    design = load_design(tmp_path / "sw")
    assert design.looks == [3, 5, 7, 9] and design.seeds[:3] == ["0", "1", "2"]

    paired = pd.read_csv(tmp_path / "sw" / "comparison" / "paired.csv")
    assert paired["verdict"].tolist() == ["B better"] and paired["decided_at"].tolist() == [seeds]
    assert "seeds until decided" in out and "looks at 3, 5, 7, 9 seeds" in out.replace("\n   ", " ")

    stamps = {p: os.stat(p).st_mtime_ns for p in runs}
    assert run_in_process([*args, "resume=true"]) == 0
    assert {p: os.stat(p).st_mtime_ns for p in runs} == stamps, "completed jobs are skipped, not trained again"
    assert all(read_summary(p.parent)["status"] == "completed" for p in runs)
    assert pd.read_csv(tmp_path / "sw" / "until_decided.csv").equals(outcome)


@pytest.mark.parametrize(
    "delta, metric, recorded",
    [
        (1, "test_acc", 0.01),
        (2.5, "val_acc", 0.025),
        (1, "test_loss", 1.0),
        (None, "test_acc", 0.01),
        (None, "test_loss", 0.01),
    ],
)
def test_sweeper_delta_is_points_for_an_accuracy_and_a_losss_own_units(delta, metric, recorded):
    """hydra.sweeper.delta=1 is one percentage point on an accuracy; a loss's delta is untouched; null is
    the default margin (1 point, 0.01 of a loss). The design on disk keeps the records' units."""
    from sharebench.compare.until_decided import Plan, make_design

    plan = Plan([str(s) for s in range(5)], [{"model": "shared_cnn"}, {"model": "local_cnn"}], [])
    design = make_design(plan, 3, 2, None, 0.05, delta, metric, None)
    assert design.delta == pytest.approx(recorded)

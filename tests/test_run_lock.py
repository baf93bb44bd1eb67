"""One writer per run dir, with real processes: a second process is refused naming the holder, a
SIGKILL leaves no stale lock, a sweep skips a job another process holds, a requeued job waits for
its predecessor to let go."""

import os
import time

import pytest
from helpers.commands import run_in_process
from helpers.configs import TINY, make_cfg
from helpers.runs import dir_bytes, held, start, stopper, training_started, wait_for

from sharebench.records.lock import LOCK_FILE, Busy, RunLock
from sharebench.records.run_dir import read_csv, read_summary
from sharebench.run import experiment, job, requeue

# checkpoints as often as the 1%-cost rule allows: the resumed part after the SIGKILL stays short
LONG = (
    *TINY,
    "model=mlp",
    "trainer.max_steps=2000",
    "trainer.eval_every=10",
    "trainer.plots=false",
    "trainer.checkpoint_every=0.01",
)


def test_a_second_process_is_refused_naming_the_first_and_a_sigkill_leaves_no_stale_lock(tmp_path, capsys):
    run = tmp_path / "run"
    first = start(*LONG, f"hydra.run.dir={run}", cwd=tmp_path)
    try:
        wait_for(lambda: training_started(run), timeout=180)
        assert run_in_process([f"resume={run}"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"pid {first.pid} on host {os.uname().nodename}" in err[0], err
        assert "being written by another sharebench process" in err[0]
    finally:
        first.kill()  # SIGKILL: no handler runs, the kernel releases the lock
        first.wait(timeout=60)
    assert read_summary(run)["status"] == "running"  # killed: it could not say otherwise
    assert run_in_process([f"resume={run}"]) == 0  # at once: nothing stale
    summary = read_summary(run)
    assert summary["status"] == "completed"
    assert [int(r["step"]) for r in read_csv(run / "steps.csv")] == list(range(1, 2001)), "one monotonic history"


def test_a_sweep_skips_a_job_another_process_holds(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sweep" / "1").mkdir(parents=True)
    with held(tmp_path / "sweep" / "1") as holder:
        before = dir_bytes(tmp_path / "sweep" / "1")
        args = ["-m", *TINY, "model=mlp", "trainer.max_steps=20", "trainer.plots=false", "seed=0,1"]
        assert run_in_process([*args, "hydra.sweep.dir=sweep", "hydra.callbacks.comparison.enabled=false"]) == 0
        out = capsys.readouterr().out
        assert f"sweep/1: skipped, another process is writing it (pid {holder.pid} on host" in out
        assert read_summary(tmp_path / "sweep" / "0")["status"] == "completed"
        assert dir_bytes(tmp_path / "sweep" / "1") == before, "the held job was not touched"


def test_the_lock_waits_a_bounded_time_for_its_holder(tmp_path):
    with held(tmp_path, seconds=2.0):
        with pytest.raises(Busy, match="pid .* on host"):
            RunLock(tmp_path).acquire(wait=0.3)
        began = time.monotonic()
        lock = RunLock(tmp_path).acquire(wait=60)  # the holder ends after 2 s: then it is ours
        assert time.monotonic() - began > 0.5
        lock.release()
    assert (tmp_path / LOCK_FILE).exists()


def test_a_requeued_job_waits_for_its_predecessor_then_continues(tmp_path, monkeypatch):
    cfg = make_cfg(*TINY, "model=mlp", "trainer.max_steps=30", "trainer.eval_every=5", "trainer.plots=false")
    run = tmp_path / "run"
    assert experiment.run(cfg, run, should_stop=stopper(12))["status"] == "interrupted"
    monkeypatch.setattr(requeue, "under_submitit", lambda: True)  # as a submitit job requeued by Slurm
    with held(run, seconds=2.0):  # the preempted predecessor is still saving
        summary = job.run_job(cfg, str(run), {}, multirun=False)
    assert summary["status"] == "completed" and summary["resumed_from_step"] == 12


def test_a_new_sweeps_job_that_another_process_has_run_meanwhile_is_not_run_again(tmp_path, capsys):
    """The first sweep of two (the second started with resume=true) reaches a job the second one ran."""
    cfg = make_cfg(*TINY, "model=mlp", "trainer.max_steps=5", "trainer.plots=false")
    run = tmp_path / "sweep" / "1"
    assert job.run_job(cfg, str(run), {}, multirun=True)["status"] == "completed"
    before = dir_bytes(run)
    assert job.run_job(cfg, str(run), {}, multirun=True)["status"] == "completed"
    assert "skipped, another process has run it meanwhile" in capsys.readouterr().out
    assert dir_bytes(run) == before

"""A refused command changes nothing on disk: every way `sharebench run` can refuse to continue a
run, tried on a real interrupted run dir, leaves its bytes as they were, and `resume=<dir>` still
finishes the run afterwards; and a name Hydra itself would build (a callback, the sweeper, the
launcher, a logging handler) that it would refuse, or could not import or call, is one line, exit 2,
before Hydra starts."""

import os
import shutil
import signal
import threading
from pathlib import Path

import pytest
from helpers.commands import run_in_process, sharebench
from helpers.configs import TINY
from helpers.runs import dir_bytes, held, training_started, wait_for

from sharebench.checks.hydra_targets import check_hydra_targets
from sharebench.cli import main as cli_main
from sharebench.configs import compose
from sharebench.records.run_dir import read_csv, read_summary

# STEPS: long enough that the Ctrl-C below lands mid-run (60 steps of this net end in a few ms, before a poll)
STEPS = 1000
RUN = (*TINY, "model=mlp", f"trainer.max_steps={STEPS}", "trainer.eval_every=5", "trainer.plots=false")


def interrupt_once_training(run_dir: Path) -> None:
    """SIGINT to this process once `run_dir` has its first steps: the run stops as Ctrl-C stops it."""

    def fire():
        wait_for(lambda: training_started(run_dir), timeout=120)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=fire, daemon=True).start()


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory) -> Path:
    """A run made by `sharebench run` and stopped by Ctrl-C: checkpoint.pt, records, .hydra/, a log."""
    run = tmp_path_factory.mktemp("interrupted") / "run"
    interrupt_once_training(run)
    with pytest.raises(SystemExit) as exited:
        cli_main(["run", *RUN, f"hydra.run.dir={run}"])
    assert exited.value.code == 130
    assert read_summary(run)["status"] == "interrupted" and (run / "checkpoint.pt").exists()
    assert {".hydra", ".sharebench.lock", "sharebench.log"} <= {p.name for p in run.iterdir()}
    return run


def refused(args: list[str], capsys) -> str:
    """Run `sharebench run ARGS` in this process; it must exit 2 with one line, which is returned."""
    code = run_in_process(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("sharebench: error:"), err
    return err[0]


def finishes(run: Path) -> None:
    assert cli_main(["run", f"resume={run}"]) == 0
    summary = read_summary(run)
    assert summary["status"] == "completed" and summary["resumed_from_step"] > 0
    assert [int(r["step"]) for r in read_csv(run / "steps.csv")] == list(range(1, STEPS + 1))


def tamper_overrides(run: Path) -> None:
    with open(run / ".hydra" / "overrides.yaml", "a") as f:
        f.write("- model._target_=os.remove\n")


def damage_checkpoint(run: Path) -> None:
    data = (run / "checkpoint.pt").read_bytes()
    (run / "checkpoint.pt").write_bytes(data[: len(data) // 2])


# (arguments after `run`, words of the refusal, damage done to the run dir first)
REFUSALS = {
    "another value": (["resume={run}", "trainer.max_steps=24"], f"it was run with trainer.max_steps={STEPS}", None),
    "another model": (["resume={run}", "model=shared_cnn"], "it was run with model._target_=", None),
    "an unknown key": (["resume={run}", "+trainer.foo=1"], "unknown key 'trainer.foo'", None),
    "a sweep": (["-m", "resume={run}"], "to resume a sweep", None),
    "no resume": (["hydra.run.dir={run}"], "already holds runs", None),
    "a tampered .hydra/overrides.yaml": (["resume={run}"], "model._target_=os.remove is refused", tamper_overrides),
    "a damaged checkpoint": (["resume={run}"], "checkpoint.pt is not a checkpoint", damage_checkpoint),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_resume_changes_nothing_and_resume_still_works(interrupted, tmp_path, capsys, case):
    args, words, damage = REFUSALS[case]
    run = tmp_path / "run"
    shutil.copytree(interrupted, run)
    pristine = dir_bytes(run)
    if damage:
        damage(run)
    before = dir_bytes(run)
    assert words in refused([a.format(run=run) for a in args], capsys)
    assert dir_bytes(run) == before
    if damage:  # the user puts the file back (or had a copy): then it continues
        for name, data in pristine.items():
            (run / name).write_bytes(data)
    finishes(run)


def test_a_run_held_by_another_process_is_refused_naming_it_and_left_alone(interrupted, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(interrupted, run)
    with held(run) as holder:
        before = dir_bytes(run)
        line = refused([f"resume={run}"], capsys)
        assert f"pid {holder.pid} on host {os.uname().nodename}" in line and f"resume={run}" in line
        assert dir_bytes(run) == before
    finishes(run)  # the holder is gone (killed): nothing stale is left behind


def test_a_completed_run_resumed_with_other_overrides_is_refused_and_left_alone(interrupted, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(interrupted, run)
    finishes(run)
    before = dir_bytes(run)
    assert "holds a completed run of a different config" in refused([f"resume={run}", "optim.lr=0.5"], capsys)
    assert dir_bytes(run) == before
    assert cli_main(["run", f"resume={run}"]) == 0
    assert "already completed: skipped" in capsys.readouterr().out
    assert dir_bytes(run) == before


# ---- what Hydra builds itself ------------------------------------------------------------------

REFUSED = "is refused: Hydra's instantiate blocklist does not let a config build it"
HYDRA_TARGETS = {
    "+hydra.callbacks.x._target_=os.system": REFUSED,
    "+hydra.callbacks.x._target_=subprocess.call": REFUSED,
    "+hydra.callbacks.x._target_=builtins.eval": REFUSED,
    "+hydra.callbacks.x._target_=os": "hydra.callbacks.x._target_='os' names a module, not a class or function",
    "+hydra.callbacks.x._target_=nope.missing": "hydra.callbacks.x._target_='nope.missing' cannot be imported",
    "+hydra.callbacks.x._target_=os.no_such_name": "cannot be imported",
    "+hydra.callbacks.x.inner._target_=os.system": "hydra.callbacks.x.inner._target_=os.system " + REFUSED,
    "hydra.callbacks.comparison._target_=subprocess.Popen": REFUSED,
    "hydra.launcher._target_=os.system": "hydra.launcher._target_=os.system " + REFUSED,
    "hydra.launcher._target_=sharebench.run.sweep_outcome.SweepOutcome": "is not a Hydra launcher",
    "hydra.sweeper._target_=builtins.eval": REFUSED,
    "hydra.sweeper._target_=hydra_plugins.nope.Sweeper": "is not a Hydra sweeper: choose one with hydra/sweeper=",
    "hydra.job_logging.handlers.console.class=subprocess.Popen": REFUSED,
    "hydra.job_logging.handlers.console.class=nope.Handler": "cannot be imported",
}


@pytest.mark.parametrize("multirun", [False, True], ids=["run", "sweep"])
@pytest.mark.parametrize("override", HYDRA_TARGETS)
def test_a_name_hydra_builds_is_checked_before_hydra_starts(tmp_path, monkeypatch, capsys, override, multirun):
    monkeypatch.chdir(tmp_path)
    flags = ["-m", "seed=0,1"] if multirun else []
    assert HYDRA_TARGETS[override] in refused([*flags, *RUN, override], capsys)
    assert not any(tmp_path.iterdir()), "nothing is written"


def test_the_command_refuses_a_callback_in_one_line_and_runs_nothing(tmp_path):
    out = sharebench(
        "run", *RUN, "+hydra.callbacks.x._target_=os.system", "+hydra.callbacks.x.command=touch x", cwd=tmp_path
    )
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and REFUSED in out.stderr, out.stderr
    assert "Traceback" not in out.stdout + out.stderr and not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["hydra/launcher=joblib"],
        ["hydra/launcher=submitit_slurm_requeue"],
        ["hydra/sweeper=until_decided"],
        ["hydra/sweeper=optuna"],
        ["experiment=tune_lr"],
    ],
)
def test_the_shipped_callbacks_launchers_and_sweepers_pass(overrides):
    check_hydra_targets(compose(overrides, with_hydra=True).hydra)


# ---- a wider set of mistakes: each one line, exit 2, nothing written ---------------------------

MISTAKES = {
    ("model=shared_cnn,",): "cannot parse the overrides",
    ("--nosuch",): "unrecognized arguments: --nosuch",
    ("model=mlp", "-m", "seed=0,1"): "seed=0,1: overrides after a flag are not read: give the flags first",
    ("nosuchgroup=x",): "unknown key 'nosuchgroup'",
    ("seed=${oops}",): "${oops} names no key of the config",
    ("+spectrum=lowrank_k2",): "write spectrum=… (without the +)",
    ("resume=.",): "no sharebench run there",
    ("-m", "resume=."): "no sweep there",
    ("-m", "seed=0,-1"): "seed=-1 is not valid",
    ("-m", "optim.lr=0.1,abc"): "optim.lr='abc' is not valid",
    ("-m", "model=shared_cnn,nosuch"): "unknown model 'nosuch'",
    ("+model.x._target_=os.system",): "model.x._target_=os.system " + REFUSED,
    ("+logger._target_=os.system",): "logger._target_=os.system " + REFUSED,
    ("+hydra.hydra_logging.handlers.x.class=os.system",): REFUSED,
}


@pytest.mark.parametrize("args", MISTAKES, ids=" ".join)
def test_a_mistake_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys, args):
    monkeypatch.chdir(tmp_path)
    assert MISTAKES[args] in refused(list(args), capsys)
    assert not any(tmp_path.iterdir()), "nothing is written"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_a_results_dir_no_directory_can_be_made_in_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    line = refused([*RUN, "hydra.run.dir=/proc/sharebench"], capsys)
    assert "cannot write results in /proc/sharebench: no directory can be made in /proc" in line

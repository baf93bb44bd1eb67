"""A sweep resumes like a run: `resume=<sweep dir>` continues it from its own records (multirun.yaml,
completed jobs skipped), and a sweep stopped by a signal — inside a job, between two jobs, or after
its last — says so in one line that continues it, `sharebench run -m resume=<sweep dir>`. Real
signals, sent to real tiny sweeps."""

import json
import os
import signal
import subprocess

import pytest
import yaml
from helpers.commands import EXE, sharebench, wait_for
from helpers.configs import TINY
from helpers.runs import training_started

from sharebench.configs import RunArgs
from sharebench.errors import UserError
from sharebench.records.run_dir import read_csv, read_summary
from sharebench.run.resume_args import resolve_args

JOBS = (*TINY, "model=mlp", "trainer.plots=false", "trainer.threads=1", "seed=0,1,2", "hydra.sweep.dir=sw")
# a Hydra callback that holds the sweep between two jobs: after job `after` a file says so, then it waits
PAUSE = """
import time
from hydra.experimental.callback import Callback

class Pause(Callback):
    def __init__(self, after, marker):
        self.after, self.marker = after, marker

    def on_job_end(self, config, job_return, **kwargs):
        if config.hydra.job.num == self.after:
            open(self.marker, "w").close()
            time.sleep(8)
"""


def start_sweep(tmp_path, *args) -> subprocess.Popen:
    (tmp_path / "pause.py").write_text(PAUSE)
    return subprocess.Popen(
        [EXE, "run", "-m", *JOBS, *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(tmp_path)},
    )


def env(tmp_path) -> dict:
    return {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(tmp_path)}


def continue_line(tmp_path) -> str:
    return f"sharebench: interrupted; continue with: sharebench run -m resume={tmp_path / 'sw'}"


def statuses(sweep) -> list:
    return [(read_summary(sweep / str(i)) or {}).get("status") for i in range(3)]


@pytest.mark.slow  # tens of seconds: .ci/run runs it after the README's test command
@pytest.mark.parametrize("after, sig", [(0, signal.SIGTERM), (0, signal.SIGINT), (2, signal.SIGTERM)])
def test_a_signal_between_two_jobs_or_after_the_last_stops_the_sweep_naming_it(tmp_path, after, sig):
    pause = ("+hydra.callbacks.pause._target_=pause.Pause", f"+hydra.callbacks.pause.marker={tmp_path / 'paused'}")
    proc = start_sweep(tmp_path, "trainer.max_steps=8", *pause, f"+hydra.callbacks.pause.after={after}")
    wait_for(lambda: (tmp_path / "paused").exists())
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err
    assert err.strip().splitlines()[-1] == continue_line(tmp_path) and "Traceback" not in err
    sweep = tmp_path / "sw"
    done = ["completed"] * (after + 1) + [None] * (2 - after)
    assert statuses(sweep) == done
    assert sorted(p.name for p in sweep.iterdir() if p.name.isdigit()) == [str(i) for i in range(after + 1)]
    first = read_summary(sweep / "0")

    out = sharebench("run", "-m", f"resume={sweep}", "+hydra.callbacks.pause.after=99", cwd=tmp_path, env=env(tmp_path))
    assert out.returncode == 0, out.stderr
    assert statuses(sweep) == ["completed"] * 3 and out.stdout.count("already completed: skipped") == after + 1
    assert read_summary(sweep / "0")["wall_seconds"] == first["wall_seconds"], "job 0 was not run again"


def test_sigterm_inside_a_job_names_the_sweep_and_resume_dir_continues_it(tmp_path):
    proc = start_sweep(tmp_path, "trainer.max_steps=1000", "trainer.eval_every=7")
    sweep = tmp_path / "sw"
    wait_for(lambda: training_started(sweep / "1"))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    if read_summary(sweep / "1")["status"] == "completed":
        pytest.skip("job 1 finished before the signal")
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == continue_line(tmp_path)
    cut = read_summary(sweep / "1")
    assert statuses(sweep) == ["completed", "interrupted", None] and (sweep / "1" / "checkpoint.pt").exists()

    out = sharebench("run", f"resume={sweep}", cwd=tmp_path, env=env(tmp_path))  # -m is implied by the dir
    assert out.returncode == 0, out.stderr
    assert statuses(sweep) == ["completed"] * 3 and "sw/0 already completed: skipped" in out.stdout
    assert read_summary(sweep / "1")["resumed_from_step"] == cut["steps"] > 0
    assert [int(r["step"]) for r in read_csv(sweep / "1" / "steps.csv")] == list(range(1, 1001))


# ---- resolve_args: what `resume=<sweep dir>` hands to Hydra -------------------------------------


def saved_sweep(root, task, hydra):
    """A sweep dir as Hydra leaves it: multirun.yaml with the overrides it was started with."""
    sweep = root / "sweep"
    sweep.mkdir()
    record = {"hydra": {"overrides": {"task": task, "hydra": hydra}, "sweep": {"dir": "sweep"}}}
    (sweep / "multirun.yaml").write_text(yaml.safe_dump(record))
    return sweep


def test_resume_sweep_dir_brings_back_its_overrides_with_the_new_ones_winning(tmp_path):
    hydra = ["hydra/launcher=joblib", "hydra.sweep.dir=sweep", "hydra.mode=MULTIRUN"]
    sweep = saved_sweep(tmp_path, ["model=mlp", "seed=0,1", "trainer.progress=false", "resume=true"], hydra)
    expected = ["model=mlp", "seed=0,1", "hydra/launcher=joblib", "trainer.progress=true", "resume=true"]
    for flags in ([], ["-m"]):
        args = resolve_args(RunArgs([*flags, f"resume={sweep}", "trainer.progress=true"])).argv
        assert args == ["-m", *expected, f"hydra.sweep.dir={sweep.resolve()}"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["-m", "resume={run}"], "no sweep there (no multirun.yaml): drop -m to continue one run; to resume a sweep"),
        (["resume={empty}"], "no sharebench run there (no .hydra/overrides.yaml, no multirun.yaml)"),
        (["resume={broken}"], "its multirun.yaml is unreadable"),
    ],
)
def test_a_dir_that_is_not_what_resume_needs_is_one_line(tmp_path, args, words):
    run, empty, broken = tmp_path / "run", tmp_path / "empty", tmp_path / "broken"
    for d in (run / ".hydra", empty, broken):
        d.mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text(json.dumps(["model=mlp"]))
    (broken / "multirun.yaml").write_text("hydra: [")
    with pytest.raises(UserError, match=words.replace("(", r"\(").replace(")", r"\)")):
        resolve_args(RunArgs([a.format(run=run, empty=empty, broken=broken) for a in args]))


def test_python_run_sends_a_sweep_to_the_command(tmp_path):
    import sharebench

    sweep = saved_sweep(tmp_path, ["model=mlp", "seed=0,1"], [])
    with pytest.raises(UserError, match="a sweep continues on the command line: sharebench run -m"):
        sharebench.run(f"resume={sweep}")

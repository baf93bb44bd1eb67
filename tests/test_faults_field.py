"""Faults as users meet them: a kill at any moment, a pipe that closes under a signal, a checkpoint
from elsewhere, a run refused before it starts, a resume with cosmetic overrides changed."""

import os
import pickle
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from helpers.commands import EXE, sharebench, wait_for
from helpers.configs import TINY
from helpers.runs import curves

from sharebench.configs import RunArgs
from sharebench.errors import UserError
from sharebench.records.checkpoints import load_checkpoint
from sharebench.records.run_dir import read_csv, read_summary

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
# about 3 s of training on MNIST-1D, a checkpoint whenever the ~1% cost rule allows
KILLABLE = (
    "trainer.max_steps=500",
    "trainer.eval_every=50",
    "trainer.plots=false",
    "trainer.progress=false",
    "trainer.checkpoint_every=0.01",
)


def steps_written(run_dir: Path) -> int:
    try:
        return len(read_csv(run_dir / "steps.csv"))
    except (OSError, ValueError):
        return 0


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run, in its own process like the killed ones."""
    cwd = tmp_path_factory.mktemp("reference")
    out = sharebench("run", *KILLABLE, "hydra.run.dir=ref", cwd=cwd, env={"OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    return cwd / "ref"


@pytest.mark.parametrize("attempt", range(3))
def test_sigkill_at_a_random_moment_then_resume_gives_the_uninterrupted_run(tmp_path, reference, attempt):
    proc = subprocess.Popen(
        [EXE, "run", *KILLABLE, "hydra.run.dir=cut"],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cut = tmp_path / "cut"
    wait_for(lambda: steps_written(cut) > 0 or proc.poll() is not None)
    moment = random.uniform(0.0, 2.5)
    time.sleep(moment)
    proc.kill()
    proc.wait(timeout=30)
    saved = load_checkpoint(cut)
    out = sharebench("run", f"resume={cut}", cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, f"killed {moment:.2f} s in: {out.stderr[-2000:]}"
    final = read_summary(cut)
    assert final["status"] == "completed"
    if saved is not None:  # continued from the checkpoint, not from step 0
        assert final["resumed_from_step"] == saved.training["loop"]["step"] > 0
    assert curves(cut) == curves(reference), f"killed {moment:.2f} s in"
    assert final["final_test_loss"] == read_summary(reference)["final_test_loss"]


def test_sigterm_to_the_process_group_through_a_closed_pipe_ends_interrupted_and_resumes(tmp_path, reference):
    """`sharebench run … | cat` killed as a batch system kills: the whole group, reader included."""
    script = f"'{EXE}' run {' '.join(KILLABLE)} hydra.run.dir=cut 2>&1 | cat > /dev/null"
    proc = subprocess.Popen(["bash", "-c", script], cwd=tmp_path, env=ENV, start_new_session=True)
    cut = tmp_path / "cut"
    wait_for(lambda: steps_written(cut) > 20)
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)
    wait_for(lambda: (read_summary(cut) or {}).get("status") not in (None, "running"), timeout=30)
    summary = read_summary(cut)
    if summary["status"] == "completed":
        pytest.skip("the run finished before the signal")
    assert summary["status"] == "interrupted", summary.get("error")
    assert (cut / "checkpoint.pt").exists()
    out = sharebench("run", f"resume={cut}", cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert read_summary(cut)["resumed_from_step"] == summary["steps"]
    assert curves(cut) == curves(reference)


class Payload:
    """What a crafted checkpoint carries: unpickling it would run a shell command."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("content", ["payload", "truncated", "foreign"])
def test_a_tampered_or_foreign_checkpoint_is_refused_and_never_runs_code(tmp_path, content):
    marker = tmp_path / "pwned"
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    path = run_dir / "checkpoint.pt"
    if content == "payload":
        torch.save({"format": 2, "training": Payload(marker)}, path)
    elif content == "truncated":
        torch.save({"format": 2, "training": {"x": torch.zeros(1000)}}, path)
        path.write_bytes(path.read_bytes()[:300])
    else:
        path.write_bytes(pickle.dumps({"format": 2, "training": Payload(marker)}))
    with pytest.raises(UserError) as err:
        load_checkpoint(run_dir)
    message = str(err.value)
    assert str(path) in message and "\n" not in message and "delete" in message
    assert not marker.exists(), "loading ran code from the file"


def test_resume_of_a_run_with_a_tampered_checkpoint_is_one_line_exit_2(tmp_path):
    out = sharebench("run", *TINY, "trainer.max_steps=3", "hydra.run.dir=run", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    summary = (tmp_path / "run" / "summary.json").read_text().replace('"completed"', '"interrupted"')
    (tmp_path / "run" / "summary.json").write_text(summary)
    torch.save({"format": 2, "training": Payload(tmp_path / "pwned")}, tmp_path / "run" / "checkpoint.pt")
    out = sharebench("run", "resume=run", cwd=tmp_path)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "checkpoint.pt" in out.stderr and not (tmp_path / "pwned").exists()


def test_a_missing_dataset_leaves_no_run_directory(tmp_path):
    out = sharebench(
        "run", "dataset=kmnist", "dataset.download=false", f"dataset.root={tmp_path / 'data'}", cwd=tmp_path
    )
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "kmnist" in out.stderr
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("*")), sorted(
        map(str, (tmp_path / "results").rglob("*"))
    )


def test_resume_true_finds_the_run_when_only_cosmetic_keys_differ(tmp_path):
    args = (
        *[a for a in TINY if "progress" not in a],
        "trainer.max_steps=400",
        "trainer.eval_every=100",
        "trainer.plots=false",
    )
    proc = subprocess.Popen(
        [EXE, "run", *args], cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for(lambda: list(tmp_path.glob("results/runs/*/*/steps.csv")))
    (run,) = tmp_path.glob("results/runs/*/*")
    wait_for(lambda: steps_written(run) > 5 or proc.poll() is not None)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    out = sharebench("run", *args, "resume=true", "trainer.progress=false", "device=cpu", cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert list(tmp_path.glob("results/runs/*/*")) == [run], "started a new run instead"
    assert read_summary(run)["status"] == "completed"


@pytest.mark.parametrize("override", ["dataset=[]", "model=[]"])
def test_selecting_no_option_of_a_group_is_one_line(override):
    from sharebench.checks.arguments import check_run_args

    with pytest.raises(UserError, match=f"no {override.split('=')[0]} selected"):
        check_run_args(RunArgs([override]))

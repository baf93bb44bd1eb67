"""A disk that fills up and a filesystem that is read-only, made real: a 1 MiB tmpfs and a read-only
bind mount (skipped, saying why, where this machine refuses to mount). The run ends in one line that
names the file, the space left and the fix; its last checkpoint and records stay intact; once space
is freed, `resume=<dir>` completes it."""

import logging
import shutil
import subprocess

import pytest
from helpers.commands import run_in_process
from helpers.configs import TINY
from helpers.mounts import mount, read_only_view
from helpers.runs import dir_bytes, start

from sharebench.records.checkpoints import load_checkpoint
from sharebench.records.disk import RunLogHandler
from sharebench.records.run_dir import read_csv, read_summary

STEPS = 600
RUN = (
    *TINY,
    "model=mlp",
    f"trainer.max_steps={STEPS}",
    "trainer.eval_every=10",
    "trainer.plots=false",
    "trainer.checkpoint_every=0.01",  # a checkpoint as often as the 1%-cost rule allows
)


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MiB tmpfs."""
    where = tmp_path / "small"
    where.mkdir()
    mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where))
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def read_only(tmp_path):
    """(a writable directory, the same directory seen through a read-only bind mount)."""
    source, view = tmp_path / "source", tmp_path / "ro"
    source.mkdir()
    view.mkdir()
    with read_only_view(source, view):
        yield source, view


def test_a_full_disk_ends_the_run_in_one_line_and_resuming_after_freeing_space_completes_it(small_disk, tmp_path):
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * 700_000)  # leaves room for one checkpoint of this model, not for two
    run = small_disk / "run"
    proc = start(*RUN, f"hydra.run.dir={run}", cwd=tmp_path)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err  # no traceback, no "--- Logging error ---"
    assert lines[0].startswith(f"sharebench: error: cannot write {run}/") and "no space left on the device" in lines[0]
    assert "free)" in lines[0] and f"free some space, then continue with `sharebench run resume={run}`" in lines[0]
    summary = read_summary(run)
    assert summary["status"] == "failed" and "No space left on device" in summary["error"]
    saved = load_checkpoint(run)  # the last checkpoint is whole
    assert saved is not None and 0 < saved.training["loop"]["step"] < STEPS
    steps = [int(r["step"]) for r in read_csv(run / "steps.csv")]
    assert steps == list(range(1, len(steps) + 1)) and read_csv(run / "metrics.csv")

    filler.unlink()  # the user frees space, then resumes
    assert run_in_process([f"resume={run}"]) == 0
    final = read_summary(run)
    assert final["status"] == "completed" and final["resumed_from_step"] == saved.training["loop"]["step"]
    assert [int(r["step"]) for r in read_csv(run / "steps.csv")] == list(range(1, STEPS + 1))


def test_the_run_log_on_a_full_disk_drops_lines_quietly(small_disk, capsys):
    (small_disk / "filler").write_bytes(b"\0" * 1024 * 1024)  # as full as it gets
    handler = RunLogHandler(str(small_disk / "sharebench.log"), delay=True)
    logger = logging.getLogger("test_disk_faults")
    logger.addHandler(handler)
    try:
        for _ in range(3):
            logger.warning("x" * 8192)
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert "Logging error" not in capsys.readouterr().err


@pytest.mark.parametrize("multirun", [False, True])
def test_a_results_dir_on_a_read_only_filesystem_is_one_line_and_nothing_is_made(read_only, capsys, multirun):
    source, view = read_only
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    args = ["-m", *RUN, "seed=0,1"] if multirun else list(RUN)
    assert run_in_process([*args, f"{key}={view}/run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"sharebench: error: cannot write results in {view}/run: {view} is on a read-only filesystem: choose a "
        f"writable directory with {key}=<dir>, or run from one (the default is relative to where you are)"
    ]
    assert list(source.iterdir()) == []


def test_resuming_a_run_dir_that_became_read_only_is_one_line_and_changes_nothing(read_only, capsys):
    source, view = read_only
    assert run_in_process([*RUN, "trainer.max_steps=20", f"hydra.run.dir={source}/run"]) == 0
    capsys.readouterr()
    before = dir_bytes(source / "run")
    assert run_in_process([f"resume={view}/run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"cannot write results in {view}/run: {view}/run is on a read-only filesystem" in err[0]
    assert dir_bytes(source / "run") == before
    shutil.rmtree(source / "run")

"""One Hydra job, made safe: resume or skip, signals, and failures recorded instead of lost.

Hydra's basic launcher stops a sweep at the first exception a job raises, so a job never raises:
its failure goes to summary.json (status `failed`, the error) and its traceback to the log, and the
sweep goes on (a failed job returns None). A single run that fails exits non-zero (2 for a user
mistake, 1 otherwise); a sweep with a failed job exits 1 once every job has had its turn
(sweep_outcome.py). Ctrl-C/SIGTERM ends the run as `interrupted` with a checkpoint, and then stops
the whole command (exit 130/143).

Before anything is written, the job locks its run dir (records/lock.py) — a second process meeting it
is refused in one line (a sweep skips that job) — and every check that can refuse a resume runs.
Only then are the run's `.hydra/` files written (Hydra is told not to: conf/config.yaml sets
hydra.output_subdir to null), so a refused command leaves the run dir exactly as it was.
"""

import logging
import shutil
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from sharebench.errors import EXIT_FAILED, EXIT_USER_ERROR, UserError, one_line
from sharebench.records.atomic import write_atomic
from sharebench.records.disk import disk_error_in, explain
from sharebench.records.lock import LOCK_FILE, Busy, RunLock
from sharebench.records.run_dir import RunRecorder, read_summary
from sharebench.terminal import say, warn

log = logging.getLogger("sharebench")
# a requeued submitit job waits this long for its predecessor to let go of the run dir: the old process
# may still be saving its checkpoint, and an NFS server frees the lock of a crashed client after its
# lease (90 s by default)
REQUEUE_WAIT_S = 180


def run_job(
    cfg: DictConfig, run_dir: str, choices: dict, multirun: bool, hydra_files: dict | None = None
) -> dict | None:
    """Lock the run dir, then run the job in it. `hydra_files` (name → config) are the run's .hydra/
    records, written once the checks have passed."""
    from sharebench.run import requeue

    run_dir = Path(run_dir)
    lock = RunLock(run_dir)
    try:
        lock.acquire(wait=REQUEUE_WAIT_S if requeue.under_submitit() else 0.0)
        if not lock.supported:
            warn(
                f"sharebench: warning: the filesystem of {run_dir} offers no file locks: nothing stops a second "
                f"process from writing this run dir at the same time"
            )
        with lock:
            return _run_locked(cfg, run_dir, choices, multirun, hydra_files or {}, lock)
    except Busy as err:
        if multirun:  # another process trains this job: the sweep goes on without it
            say(f"sharebench: {run_dir}: skipped, another process is writing it ({err.holder})")
            return read_summary(run_dir) or {"status": "running", "run_dir": str(run_dir)}
        warn(f"sharebench: error: {err}")
        raise SystemExit(EXIT_USER_ERROR) from None
    except OSError as err:  # a full disk, a read-only filesystem: the world's fault, said in one line
        if disk_error_in(err) is None:
            raise
        return _disk_failure(run_dir, cfg, choices, err, multirun)


def _disk_failure(run_dir: Path, cfg: DictConfig, choices: dict, err: OSError, multirun: bool) -> None:
    """End the run: its status and reason recorded when the disk still takes a small file (the last
    checkpoint and earlier records were written atomically and are intact), one line on the terminal."""
    if (read_summary(run_dir) or {}).get("status") != "completed":  # e.g. only the figures failed
        _record_failure(run_dir, cfg, choices, f"{err.strerror}: {err.filename}")
    from sharebench.records.checkpoints import CHECKPOINT_FILE

    warn(f"sharebench: error: {explain(err, run_dir, checkpointed=(run_dir / CHECKPOINT_FILE).exists())}")
    if not multirun:
        raise SystemExit(EXIT_FAILED)
    return None


def _write_hydra_files(run_dir: Path, files: dict) -> None:
    for name, node in files.items():
        (run_dir / ".hydra").mkdir(parents=True, exist_ok=True)
        write_atomic(run_dir / ".hydra" / name, OmegaConf.to_yaml(node))


def _run_locked(cfg: DictConfig, run_dir: Path, choices: dict, multirun: bool, hydra_files: dict, lock) -> dict | None:
    from sharebench.run import (
        experiment,  # torch: only once a job really runs
        requeue,  # submitit: preempted or timed out → checkpoint, requeue, continue
    )
    from sharebench.run.resume_plan import config_sha, plan
    from sharebench.run.signals import StopRequest

    state = None
    if cfg.get("resume") or requeue.under_submitit():  # a requeued job continues its own run dir
        try:
            action, state = plan(run_dir, cfg)
        except UserError as err:  # e.g. other overrides than the run had: leave its records as they are
            warn(f"sharebench: error: {err}")
            if not multirun:
                raise SystemExit(EXIT_USER_ERROR) from None
            return None
        if action == "skip":
            say(f"sharebench: {run_dir} already completed: skipped")
            return state
        if action == "continue":
            log.info("resuming from step %d (checkpoint.pt)", state.training["loop"]["step"])
    elif multirun and read_summary(run_dir) is not None:
        # a new sweep's job dir holds a run: another process (the same sweep resumed elsewhere) ran it
        say(f"sharebench: {run_dir}: skipped, another process has run it meanwhile")
        return read_summary(run_dir)
    try:
        lock.claim()  # from here on the run dir is written
        _write_hydra_files(run_dir, hydra_files)
        with StopRequest() as stop, requeue.preemption_stops(stop):
            summary = experiment.run(cfg, run_dir, choices, should_stop=stop, resume=state)
            RunRecorder(run_dir).write_summary({**summary, "config_sha": config_sha(cfg)})
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except UserError as err:  # one line on the terminal (the log would echo it there a second time)
        if multirun or read_summary(run_dir):  # a sweep lists it
            _record_failure(run_dir, cfg, choices, str(err))
        else:  # refused before it wrote anything: leave no run dir behind
            _remove_unrecorded(run_dir)
        warn(f"sharebench: error: {err}")
        if not multirun:
            raise SystemExit(EXIT_USER_ERROR) from None
        return None
    except Exception as err:
        if disk_error_in(err) is not None:  # no traceback: run_job says it in one line
            raise disk_error_in(err) from None
        log.exception("run failed")  # the traceback goes to the run's log
        while err.__cause__ is not None:  # Hydra's instantiate wraps what the constructor raised
            err = err.__cause__
        _record_failure(run_dir, cfg, choices, f"{type(err).__name__}: {err}")
        warn(
            f"sharebench: error: run failed with {type(err).__name__}: {one_line(err)} "
            f"(traceback in {run_dir / 'sharebench.log'})"
        )
        if not multirun:
            raise SystemExit(EXIT_FAILED) from None
        return None
    if stop and summary["status"] == "interrupted":  # saved; now stop the command (and a sweep)
        requeue.requeue(stop.signum)  # submitit's preemption signal: it requeues this job and exits
        warn(f"sharebench: interrupted; continue with: sharebench run resume={run_dir}")
        raise SystemExit(stop.exit_code)
    if stop and multirun and not requeue.under_submitit():  # came after the last step: the sweep stops
        raise SystemExit(stop.exit_code)
    return summary


def _record_failure(run_dir: Path, cfg: DictConfig, choices: dict, error: str) -> None:
    """Mark the run failed, keeping whatever its summary already held."""
    from sharebench.records.provenance import environment

    summary = read_summary(run_dir) or {
        "model": choices.get("model"),
        "dataset": choices.get("dataset"),
        "optim": choices.get("optim"),
        "seed": cfg.get("seed"),
        "run_dir": str(run_dir),
        **environment(),
    }
    summary.update(status="failed", error=error)
    try:
        RunRecorder(run_dir).write_summary(summary)
    except OSError:  # the failure may be the disk itself; the message still reaches the terminal
        pass


def _remove_unrecorded(run_dir: Path) -> None:
    """Delete the directory Hydra made for a run refused before it recorded anything (only .hydra/,
    a log and the lock inside), and the date folder above it when that is left empty."""
    try:
        if all(p.name in (".hydra", LOCK_FILE) or p.suffix == ".log" for p in run_dir.iterdir()):
            shutil.rmtree(run_dir)
            for parent in (run_dir.parent, run_dir.parent.parent):
                parent.rmdir()  # only when empty: OSError otherwise, and we stop
    except OSError:
        pass

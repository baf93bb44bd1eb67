"""One Hydra job, made safe: resume or skip, signals, and failures recorded instead of lost.

Hydra's basic launcher stops a sweep at the first exception a job raises, so a job never raises:
its failure goes to summary.json (status `failed`, the error) and its traceback to the log, and the
sweep goes on (a failed job returns None). A single run that fails exits non-zero (2 for a user
mistake, 1 otherwise); a sweep with a failed job exits 1 once every job has had its turn
(sweep_outcome.py). Ctrl-C/SIGTERM ends the run as `interrupted` with a checkpoint, and then stops
the whole command (exit 130/143) with the line that continues it: `sharebench run resume=<run dir>`,
or in a sweep `sharebench run -m resume=<sweep dir>`, also when the signal came between two jobs
(signals.SweepStop). run_in_dir is the job without its exits: what sharebench.run() calls from Python.

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
    cfg: DictConfig,
    run_dir: str,
    choices: dict,
    multirun: bool,
    hydra_files: dict | None = None,
    sweep_dir: str | None = None,
) -> dict | None:
    """Hydra's job: run_in_dir, its every ending said in one line. In a sweep it never raises (a failed
    job returns None, the sweep goes on); a single run that fails exits 2 (a user mistake) or 1; a
    stopped run or sweep exits 128 + the signal, naming what continues it (`sweep_dir`: the sweep's)."""
    from sharebench.run import requeue
    from sharebench.run.signals import StopRequest, sweep_stop

    run_dir = Path(run_dir)
    sweep = sweep_stop(sweep_dir) if multirun else None
    if sweep:  # a signal came between the last job and this one: the sweep stops before it starts
        _remove_unrecorded(run_dir)
        _stopped(sweep.exit_code, run_dir, sweep_dir)
    stop = StopRequest()
    try:
        summary = run_in_dir(cfg, run_dir, choices, hydra_files or {}, stop, multirun)
    except Busy as err:
        if multirun:  # another process trains this job: the sweep goes on without it
            say(f"sharebench: {run_dir}: skipped, another process is writing it ({err.holder})")
            return read_summary(run_dir) or {"status": "running", "run_dir": str(run_dir)}
        return _failed(f"sharebench: error: {err}", EXIT_USER_ERROR, multirun)
    except KeyboardInterrupt:  # a second signal: stopped at once
        _stopped(130, run_dir, sweep_dir if multirun else None, say_it=multirun)
    except UserError as err:  # one line on the terminal (the log would echo it there a second time)
        return _failed(f"sharebench: error: {err}", EXIT_USER_ERROR, multirun)
    except OSError as err:  # a full disk, a read-only filesystem: the world's fault, said in one line
        if disk_error_in(err) is None:
            raise
        from sharebench.records.checkpoints import CHECKPOINT_FILE

        line = explain(err, run_dir, checkpointed=(run_dir / CHECKPOINT_FILE).exists())
        return _failed(f"sharebench: error: {line}", EXIT_FAILED, multirun)
    except Exception as err:  # recorded in summary.json, its traceback in the log, by run_in_dir
        line = f"run failed with {type(err).__name__}: {one_line(err)} (traceback in {run_dir / 'sharebench.log'})"
        return _failed(f"sharebench: error: {line}", EXIT_FAILED, multirun)
    if stop and summary["status"] == "interrupted":  # saved; now stop the command (and a sweep)
        requeue.requeue(stop.signum)  # submitit's preemption signal: it requeues this job and exits
        _stopped(stop.exit_code, run_dir, sweep_dir if multirun else None)
    if stop and multirun and not requeue.under_submitit():  # came after the last step: the sweep stops
        _stopped(stop.exit_code, run_dir, sweep_dir)
    return summary


def _failed(line: str, code: int, multirun: bool) -> None:
    """A job that could not finish: its line, then on to the sweep's next job, or exit `code`."""
    warn(line)
    if not multirun:
        raise SystemExit(code)
    return None


def _stopped(code: int, run_dir: Path, sweep_dir: str | None, say_it: bool = True) -> None:
    """Exit `code` (128 + the signal), naming the command that continues the run, or with `sweep_dir`
    the sweep: its records say which jobs are done (resume_args.py)."""
    from sharebench.run.resume_args import continue_command

    if say_it:
        warn(f"sharebench: interrupted; continue with: {continue_command(run_dir, sweep_dir)}")
    raise SystemExit(code)


def run_in_dir(
    cfg: DictConfig,
    run_dir: Path,
    choices: dict,
    hydra_files: dict,
    stop,
    multirun: bool = False,
) -> dict:
    """Lock the run dir, decide what resuming means there (with cfg.resume, or as a requeued job), write
    the `hydra_files` (name → config, its .hydra/ records) once every check has passed, and train while
    `stop` (a StopRequest) turns signals into a stop between two steps. Returns the summary (status
    `interrupted` when stopped); raises Busy, UserError, or the run's own error once it is recorded."""
    from sharebench.run import requeue

    lock = RunLock(run_dir)
    try:
        lock.acquire(wait=REQUEUE_WAIT_S if requeue.under_submitit() else 0.0)
        if not lock.supported:
            warn(
                f"sharebench: warning: the filesystem of {run_dir} offers no file locks: nothing stops a second "
                f"process from writing this run dir at the same time"
            )
        with lock:
            return _run_locked(cfg, run_dir, choices, multirun, hydra_files, lock, stop)
    except OSError as err:  # a full disk, a read-only filesystem: recorded when the disk still takes it
        if disk_error_in(err) is not None and (read_summary(run_dir) or {}).get("status") != "completed":
            _record_failure(run_dir, cfg, choices, f"{err.strerror}: {err.filename}")
        raise


def _write_hydra_files(run_dir: Path, files: dict) -> None:
    for name, node in files.items():
        (run_dir / ".hydra").mkdir(parents=True, exist_ok=True)
        write_atomic(run_dir / ".hydra" / name, OmegaConf.to_yaml(node))


def _run_locked(
    cfg: DictConfig, run_dir: Path, choices: dict, multirun: bool, hydra_files: dict, lock, stop
) -> dict | None:
    from sharebench.run import (
        experiment,  # torch: only once a job really runs
        requeue,  # submitit: preempted or timed out → checkpoint, requeue, continue
    )
    from sharebench.run.resume_plan import config_sha, plan

    state = None
    if cfg.get("resume") or requeue.under_submitit():  # a requeued job continues its own run dir
        action, state = plan(run_dir, cfg)  # a UserError (other overrides than the run had) leaves it as it was
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
        with stop, requeue.preemption_stops(stop):
            summary = experiment.run(cfg, run_dir, choices, should_stop=stop, resume=state)
            summary["config_sha"] = config_sha(cfg)  # what a resume checks a completed run by
            RunRecorder(run_dir).write_summary(summary)
    except UserError as err:
        if multirun or read_summary(run_dir):  # a sweep lists it
            _record_failure(run_dir, cfg, choices, str(err))
        else:  # refused before it wrote anything: leave no run dir behind
            _remove_unrecorded(run_dir)
        raise
    except Exception as err:
        if disk_error_in(err) is not None:  # no traceback: run_in_dir records it, run_job says it in one line
            raise disk_error_in(err) from None
        log.exception("run failed")  # the traceback goes to the run's log
        cause = err
        while cause.__cause__ is not None:  # Hydra's instantiate wraps what the constructor raised
            cause = cause.__cause__
        _record_failure(run_dir, cfg, choices, f"{type(cause).__name__}: {cause}")
        raise cause from None  # the error itself, with its traceback, not Hydra's summary of it
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

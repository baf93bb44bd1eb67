"""Ctrl-C and SIGTERM become a request the training loop honours between two steps.

Python's default SIGINT raises KeyboardInterrupt wherever the code happens to be — possibly inside
optimizer.step(), leaving the weights half updated — and SIGTERM (what SLURM sends before it
preempts a job) and SIGHUP (a terminal that went away) kill the process outright. While a run trains, both only set a flag instead; the
loop reads it once per step (a Python attribute, no device sync), flushes its metrics, writes a
checkpoint and stops. A second signal stops at once, the classic way.

A sweep whose jobs run in this process one after another (Hydra's basic launcher) is covered between
its jobs too — while Hydra composes the next job, or a job writes its last records: from its first job
on, a SweepStop turns the signal into a stop before the next job (run/job.py), where it would otherwise
kill the sweep (SIGTERM) or raise wherever it landed (SIGINT), with no word of how to continue.
"""

import signal
import threading
from contextlib import contextmanager

# SIGHUP: the terminal went away (a closed ssh session, a closed laptop lid without tmux)
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopRequest:
    """Context manager; truthy once a stop was requested. `signum` says which signal asked."""

    AFTER = "stopping after this step and writing a checkpoint"

    def __init__(self):
        self.signum: int | None = None
        self._previous: dict = {}

    def __bool__(self) -> bool:
        return self.signum is not None

    def __call__(self) -> bool:
        return self.signum is not None

    def _handle(self, signum, frame):
        if self.signum is not None:  # asked twice: the user means it
            raise KeyboardInterrupt
        self.signum = signum
        from sharebench.terminal import warn  # never raises: the reader may be gone (a pipe, a terminal)

        warn(f"\nsharebench: {signal.Signals(signum).name} received: {self.AFTER} (send it again to stop at once)")

    def __enter__(self) -> "StopRequest":
        if threading.current_thread() is threading.main_thread():  # handlers live in the main thread only
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    @property
    def exit_code(self) -> int:
        """The shell's convention for death by a signal: 128 + its number (130 Ctrl-C, 143 SIGTERM)."""
        return 128 + (self.signum or signal.SIGINT)


class SweepStop(StopRequest):
    """The stop request of a sweep between its jobs; a job's own StopRequest stands in while it trains."""

    AFTER = "stopping the sweep before its next job"
    sweep_dir: str | None = None  # known from the first job that runs here


_sweep: SweepStop | None = None  # the sweep this process runs (cli.py), armed from its first job on


@contextmanager
def sweep_in_this_process():
    """Around a `sharebench run -m`: jobs that run in this process arm the sweep's stop (sweep_stop);
    a launcher that runs them elsewhere leaves the signals as they were. Yields the SweepStop."""
    global _sweep
    _sweep = SweepStop()
    try:
        yield _sweep
    finally:
        _sweep.__exit__()
        _sweep = None


def sweep_stop(sweep_dir: str | None) -> SweepStop | None:
    """At the start of a job of the sweep in `sweep_dir`: the sweep's stop request — truthy when a signal
    came since the last job — with its handlers in place from now on; None when the job runs in another
    process than the sweep (a parallel launcher's worker)."""
    if _sweep is not None and not _sweep._previous:
        _sweep.sweep_dir = sweep_dir
        _sweep.__enter__()
    return _sweep

"""Ctrl-C and SIGTERM become a request the training loop honours between two steps.

Python's default SIGINT raises KeyboardInterrupt wherever the code happens to be — possibly inside
optimizer.step(), leaving the weights half updated — and SIGTERM (what SLURM sends before it
preempts a job) and SIGHUP (a terminal that went away) kill the process outright. While a run trains, both only set a flag instead; the
loop reads it once per step (a Python attribute, no device sync), flushes its metrics, writes a
checkpoint and stops. A second signal stops at once, the classic way.
"""

import signal
import threading

# SIGHUP: the terminal went away (a closed ssh session, a closed laptop lid without tmux)
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopRequest:
    """Context manager; truthy once a stop was requested. `signum` says which signal asked."""

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

        warn(
            f"\nsharebench: {signal.Signals(signum).name} received: stopping after this step and "
            f"writing a checkpoint (send it again to stop at once)"
        )

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

"""What a person sees: lines for the terminal that never raise when nobody can read them any more.

A batch script pipes sharebench through `tee`; a scheduler signals the whole process group, so the
reader dies first; a closed laptop lid detaches the terminal. Writing then raises BrokenPipeError or
EIO — inside a signal handler or the step loop, that would turn a clean stop into a lost run. Here a
message that cannot be written is dropped, and the stream is pointed at /dev/null so that later
writes (and Python's flush at exit) cannot fail either. Imports nothing of sharebench.
"""

import os
import sys


def _silence(stream) -> None:
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
    except (OSError, ValueError, AttributeError):  # no file descriptor behind it: nothing to redirect
        pass


def say(text: str, stream=None) -> None:
    """print(text) to stdout (or `stream`), flushed; dropped when nobody reads it."""
    stream = stream or sys.stdout
    try:
        print(text, file=stream, flush=True)
    except (OSError, ValueError):  # BrokenPipeError, EIO of a vanished terminal, a closed file
        _silence(stream)


def warn(text: str) -> None:
    """say() to stderr."""
    say(text, sys.stderr)


class SafeStream:
    """A stream for tqdm and the like: writes that fail are dropped instead of raised."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except (OSError, ValueError):
            _silence(self.stream)
            return len(text)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except (OSError, ValueError):
            _silence(self.stream)

    def __getattr__(self, name):
        return getattr(self.stream, name)

    # tqdm compares its bar's file with the one a message goes to (to clear the bar before a log
    # line is written above it): the wrapper stands for the stream it wraps
    def __eq__(self, other) -> bool:
        return other is self or other is self.stream

    def __hash__(self) -> int:
        return hash(self.stream)

"""One writer per run dir: an exclusive POSIX record lock (fcntl.lockf) on <run dir>/.sharebench.lock.

Taken before anything is written into the run dir and held until the run ends; the operating system
releases it when its holder dies, however it dies (SIGKILL included), so a lock is never stale.
Why lockf and not flock: POSIX record locks are what NFS carries to the server (NLM for NFSv3, the
protocol itself for NFSv4), so processes on different machines see each other's locks; flock is only
emulated on top of them by Linux NFS clients, and is local to one machine with `local_lock=flock`.
Lustre offers both only when mounted with `-o flock` (`localflock`: one node only). Record locks are
not inherited by forked children, so a child that outlives a killed run never keeps its lock. Their
one trap — closing *any* descriptor of the file releases the process's lock — is avoided by opening
the file once, here, and nowhere else.

The holder writes its host and pid into the file (only once the run is really going to be written),
so that a refused second process can name it. The file stays once a run has written its dir. A
process that created it and then wrote nothing (its command was refused) removes it again, so that
a refused command leaves a run dir made before locks existed as it was; a waiting process that then
finds its file unlinked from under it opens the new one and tries again.
"""

import errno
import fcntl
import os
import socket
import time
from contextlib import suppress
from pathlib import Path

from sharebench.errors import UserError

LOCK_FILE = ".sharebench.lock"
BUSY = (errno.EAGAIN, errno.EACCES)  # another process holds it (EACCES on some systems)
NO_LOCKS = (errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL)  # the filesystem has no locks


class Busy(UserError):
    """The run dir is held by another process; the message names it and the fix."""

    def __init__(self, run_dir: Path, holder: str):
        self.holder = holder or "holder not yet named"
        super().__init__(
            f"{run_dir} is being written by another sharebench process ({self.holder}): wait for it to end, "
            f"or stop it and continue with `sharebench run resume={run_dir}`"
        )


class RunLock:
    """An exclusive lock on a run dir. `acquire(wait)` raises Busy when another process holds it after
    `wait` seconds; `claim()` writes this process's host and pid into the lock file; `release()` frees it.
    On a filesystem without locks, `supported` is False and nothing is locked."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LOCK_FILE
        self.fd: int | None = None
        self.supported = True
        self.created = self.locked = self.claimed = False

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.fd, self.created = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644), True
        except FileExistsError:  # an existing file is left as it is
            self.fd, self.created = os.open(self.path, os.O_RDWR), False

    def _current(self) -> bool:
        """Whether our descriptor is still the file at self.path (not one its creator removed)."""
        try:
            return os.fstat(self.fd).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            return False

    def acquire(self, wait: float = 0.0, poll: float = 0.5) -> "RunLock":
        self._open()
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if self._current():
                    self.locked = True
                    return self
                os.close(self.fd)  # locked a removed file: take the one now in its place
                self._open()
                continue
            except OSError as err:
                if err.errno in NO_LOCKS:
                    self.supported = False
                    return self
                if err.errno not in BUSY:
                    self.release()
                    raise
            if time.monotonic() >= deadline:
                holder = self.holder()
                self.release()
                raise Busy(self.path.parent, holder)
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))

    def holder(self) -> str:
        """'pid P on host H, since T' as the holder wrote it, or '' when it has not (yet)."""
        try:
            return os.pread(self.fd, 200, 0).decode(errors="replace").strip()
        except OSError:
            return ""

    def claim(self) -> None:
        """Write who holds the lock, for a refused process to name (only into our own locked file)."""
        self.claimed = True
        if self.fd is None or not self.supported:
            return
        text = f"pid {os.getpid()} on host {socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n"
        try:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, text.encode(), 0)
        except OSError:  # a full disk: the lock itself still holds, only the name is missing
            pass

    def release(self) -> None:
        if self.fd is not None:
            if self.created and self.locked and not self.claimed:  # refused before writing: leave no trace
                with suppress(OSError):
                    self.path.unlink()
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = None

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

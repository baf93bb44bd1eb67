"""When the disk says no: a full disk, a quota, a read-only filesystem, a directory not ours.

These are the world's faults, not the run's: the job ends the run with one line that names the file,
the space left and the fix (run/job.py), and the run continues with `resume=<dir>` once the disk is
fixed. No torch here.
"""

import errno
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

WHY = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the filesystem is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}
FULL = (errno.ENOSPC, errno.EDQUOT)


def disk_error_in(err: BaseException | None) -> OSError | None:
    """The OSError for lack of space or permission behind `err` (following its causes), if any."""
    while err is not None:
        if isinstance(err, OSError) and err.errno in WHY:
            return err
        err = err.__cause__ or err.__context__
    return None


def existing(path: Path) -> Path:
    """`path`, or its nearest ancestor that exists."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def free_space(path: str | Path) -> str:
    """The space left where `path` is (or would be), in words: '312 KiB free'."""
    try:
        free = shutil.disk_usage(existing(Path(path))).free
    except OSError:
        return "free space unknown"
    units, i = ("bytes", "KiB", "MiB", "GiB", "TiB"), 0
    while free >= 1024 and i < len(units) - 1:
        free, i = free / 1024, i + 1
    return f"{free:.0f} bytes free" if i == 0 else f"{free:.1f} {units[i]} free"


def unwritable(path: str | Path) -> str | None:
    """Why nothing could be written at `path` (a directory that may not exist yet), or None."""
    where = existing(Path(path))
    try:
        if os.statvfs(where).f_flag & os.ST_RDONLY:
            return f"{where} is on a read-only filesystem"
    except OSError:
        return None
    if not os.access(where, os.W_OK | os.X_OK):
        return f"{where} is not writable by this user"
    try:  # what the access bits do not tell (root, /proc, a full disk): a directory made and removed
        tempfile.TemporaryDirectory(dir=where).cleanup()
    except OSError as err:
        return f"no directory can be made in {where} ({WHY.get(err.errno, err.strerror)})"
    return None


def explain(err: OSError, run_dir: str | Path, checkpointed: bool = True) -> str:
    """One line: which file, why, the space left, and what to do (`checkpointed`: the run has a
    checkpoint to continue from)."""
    path = err.filename or run_dir
    why = WHY.get(err.errno, err.strerror)
    if err.errno in FULL:
        fix = "free some space"
    elif err.errno == errno.EROFS:
        fix = "make the filesystem writable (or copy the run dir to one that is)"
    else:
        fix = "give this user write access (or copy the run dir to a place it can write)"
    return (
        f"cannot write {path}: {why} ({free_space(path)}); the run stopped with its "
        f"{'last checkpoint and records' if checkpointed else 'records so far'} intact: {fix}, then continue "
        f"with `sharebench run resume={run_dir}`"
    )


class RunLogHandler(logging.FileHandler):
    """The run's log file (conf/hydra/job_logging/): a line the disk refuses is dropped in silence —
    the record writes that fail next end the run with the one line above, instead of a
    "--- Logging error ---" and a traceback for every line logged meanwhile."""

    def handleError(self, record: logging.LogRecord) -> None:
        if disk_error_in(sys.exc_info()[1]) is None:
            super().handleError(record)

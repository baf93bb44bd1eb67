"""One way to write a file: to a temporary name beside it, then an atomic rename.

A process killed at any moment leaves either the previous complete file or the new one, never half
of one; parallel jobs never read a file that is still being written.
"""

import os
from contextlib import contextmanager, suppress
from pathlib import Path


@contextmanager
def naming(path: str | Path):
    """A failed write (a full disk fails write() or close(), which name no file) names `path`."""
    try:
        yield
    except OSError as err:
        if err.filename is None or str(err.filename).endswith(".tmp"):
            err.filename = str(path)
        raise


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp"):
    """Yield a temporary path to write; on success it replaces `path`, on failure it is removed.
    `suffix` keeps an extension a writer insists on (np.savez appends .npz otherwise)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}{suffix}")
    try:
        with naming(path):
            yield tmp
            os.replace(tmp, path)
    finally:
        with suppress(OSError):  # on a read-only filesystem even the cleanup fails
            tmp.unlink(missing_ok=True)


def write_atomic(path: str | Path, content: str | bytes | memoryview) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(content) if isinstance(content, str) else tmp.write_bytes(content)

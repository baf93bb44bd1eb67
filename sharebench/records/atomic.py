"""One way to write a file: to a temporary name beside it, then an atomic rename.

A process killed at any moment leaves either the previous complete file or the new one, never half
of one; parallel jobs never read a file that is still being written.
"""

import os
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp"):
    """Yield a temporary path to write; on success it replaces `path`, on failure it is removed.
    `suffix` keeps an extension a writer insists on (np.savez appends .npz otherwise)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}{suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: str | Path, content: str | bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(content) if isinstance(content, bytes) else tmp.write_text(content)

"""Filesystems made real for fault tests: a mount, skipped (saying why) where this machine refuses it,
and a directory seen through a read-only bind mount."""

import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest


def mount(*args: str) -> None:
    out = subprocess.run(["mount", *args], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(
            f"this machine refuses `mount {' '.join(args)}` ({out.stderr.strip()}): needs root in a VM/container that allows mounts"
        )


@contextmanager
def read_only_view(source: Path, view: Path):
    """`view` (an empty dir) shows `source` read-only while the block runs."""
    mount("--bind", str(source), str(view))
    try:
        mount("-o", "remount,bind,ro", str(view))
        yield view
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)

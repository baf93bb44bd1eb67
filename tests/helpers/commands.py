"""The installed `sharebench` command, run as a user would run it."""

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).with_name("sharebench"))  # the entry point installed beside this Python


def sharebench(
    *args: str, cwd: Path, timeout: int = 300, env: dict | None = None, exe: str | None = None
) -> subprocess.CompletedProcess:
    """Run `sharebench ARGS…` in `cwd` and wait for it."""
    return subprocess.run(
        [exe or EXE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def wait_for(predicate, timeout=180.0):
    """Poll until predicate() is true; fail the test after `timeout` seconds (a run takes a minute to
    start on a loaded 2-core machine: torch's import alone)."""
    end = time.time() + timeout
    while not predicate():
        assert time.time() < end, "timed out waiting"
        time.sleep(0.05)


def run_in_process(args: list[str]) -> int:
    """`sharebench run ARGS` in this process; its exit code, whether main returns it or a job raises
    SystemExit with it (a failed run, a sweep with a failed job)."""
    from sharebench.cli import main

    try:
        return main(["run", *args])
    except SystemExit as exited:
        return exited.code

"""What produced a run: library versions and the git commit of sharebench's own code.

Recorded in every summary.json so a result can be traced back and reproduced. No torch import
here beyond what is already loaded; every probe is guarded and yields None when it cannot answer.
"""

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

LIBRARIES = {
    "torch": "torch",
    "torchvision": "torchvision",
    "hydra": "hydra-core",
    "omegaconf": "omegaconf",
    "numpy": "numpy",
}


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def git_commit(path: Path | None = None) -> str | None:
    """HEAD of the git checkout holding sharebench's code (with `+dirty` for local edits), or None
    when the code is not a git checkout, e.g. an installed wheel, or git is missing."""
    here = Path(path or Path(__file__).resolve().parent)
    root = here
    while not (root / ".git").exists():  # only ask git inside our own checkout, never a parent repo
        if root.parent == root or root.name in ("site-packages", "dist-packages"):
            return None
        root = root.parent
    try:
        run = dict(cwd=root, capture_output=True, text=True, timeout=5)
        head = subprocess.run(["git", "rev-parse", "HEAD"], **run)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], **run)
        return head.stdout.strip() + ("+dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_model() -> str | None:
    """The CPU's marketing name ('model name' in /proc/cpuinfo on Linux, else platform.processor()):
    float kernels differ between CPUs, so a single run's numbers are a fact about this one."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def environment() -> dict:
    """Flat fields for summary.json: `<library>_version`, python_version, git_commit, the machine
    (cpu_model, cpu_count: the cores the OS reports; the run's own `threads` are recorded beside),
    and hostname + pid, which tell a reader whether a run still marked `running` can still be alive."""
    record = {f"{name}_version": _version(dist) for name, dist in LIBRARIES.items()}
    record.update(
        python_version=platform.python_version(),
        git_commit=git_commit(),
        cpu_model=cpu_model(),
        cpu_count=os.cpu_count(),
        hostname=platform.node(),
        pid=os.getpid(),
    )
    return record

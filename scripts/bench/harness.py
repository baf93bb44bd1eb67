"""The timing harness every part shares: variants run side by side in one process (interleaved in
alternating order after a warm-up), each claim a ratio of times measured back to back, because the
machine is shared and its speed drifts. On a GPU each timing is synchronised with the device.

A part is a module of this package with `measure(device, quick: bool) -> list[dict]` (its table's
rows), registered in `scripts/bench/__init__.py`.
"""

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]  # the repository: `python -m scripts.bench` runs from here


def cfg(*overrides):
    """sharebench's composed config, as `sharebench run <overrides>` would see it."""
    from sharebench.configs import compose

    return compose(overrides)


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def clock(fn, device) -> float:
    """Seconds for one call of fn, synchronised on the device."""
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


class Timings(dict):
    """Median seconds per variant, and each repeat's times for ratios."""

    def __init__(self, times: dict):
        super().__init__({name: statistics.median(t) for name, t in times.items()})
        self.times = times

    def ratio(self, a, b) -> float:
        """Median over repeats of time(a) / time(b), each pair timed back to back: a load spike
        that lasts a few seconds moves both of a pair, and only one pair."""
        return statistics.median(x / y for x, y in zip(self.times[a], self.times[b]))

    def difference(self, a, b) -> float:
        """Median over repeats of time(a) - time(b)."""
        return statistics.median(x - y for x, y in zip(self.times[a], self.times[b]))


def interleaved(variants: dict, repeats: int, timer) -> Timings:
    """timer(fn) -> seconds for each variant, in alternating order so that none always runs first."""
    times = {name: [] for name in variants}
    names = list(variants)
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            times[name].append(timer(variants[name]))
    return Timings(times)


def side_by_side(variants: dict, device, repeats: int, warmup: int = 1) -> Timings:
    """Variants interleaved after a warm-up, each call timed with `clock`."""
    for fn in variants.values():
        for _ in range(warmup):
            fn()
    return interleaved(variants, repeats, lambda fn: clock(fn, device))


def peak_rss_mib() -> float:
    """This process's resident high-water mark. /proc's VmHWM belongs to the process image, so it
    starts afresh in a new process; getrusage's ru_maxrss does not on Linux (a child inherits its
    parent's peak across fork and exec), so it is only the fallback off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform != "darwin" else 2**20)


def internal(*args: str) -> list[str]:
    """The command line of one of the bench's internal steps (run in a fresh process)."""
    return [sys.executable, "-m", "scripts.bench", "--internal", *args]


def run_internal(*args: str) -> str:
    """Run an internal step in a fresh process from the repository root; its stdout."""
    return subprocess.run(internal(*args), check=True, capture_output=True, text=True, cwd=ROOT).stdout


def sharebench_exe() -> str:
    """The `sharebench` console script beside this interpreter (the one a user runs)."""
    return str(Path(sys.executable).with_name("sharebench"))


def machine(device) -> str:
    """One line naming where a table was measured."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{cpu}, {os.cpu_count()} CPUs"
    return f"{device} ({where}), torch {torch.__version__}, {torch.get_num_threads()} threads"


def markdown(part: str, rows: list[dict], caption: str) -> str:
    cols = list(rows[0])
    lines = [caption, "", "| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_part(out: Path, part: str, rows: list[dict], caption: str) -> str:
    """results/bench/<part>.csv and <part>.md (the table the docs include); the Markdown back."""
    import csv

    out.mkdir(parents=True, exist_ok=True)
    with open(out / f"{part}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    text = markdown(part, rows, caption)
    (out / f"{part}.md").write_text(text)
    return text

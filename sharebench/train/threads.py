"""How many CPU threads one run's tensor work uses: `trainer.threads` (auto or a number).

Torch's default intra-op pool has one OpenMP thread per core. For a small net that buys little
(the MNIST-1D paper's CNN, 19 MFLOP a step: 1.1× faster with 2 threads on an idle 2-core machine),
and it costs 10–40× as soon as another process holds one of the cores: every op ends in a barrier
where the other workers spin until the descheduled thread gets its next time slice. So `auto` gives
a run one thread per AUTO_MFLOP_PER_THREAD of work in one training step (forward + backward:
3 × 2 FLOP per multiply-accumulate, × MACs per example × batch size), at least one, never more than
the cores this process may use (`available_cores`). docs/performance.md has the
measurements behind the threshold.

What wins, in order:
  1. `trainer.threads=N`: exactly N threads, whatever the machine.
  2. OMP_NUM_THREADS=N in the environment: N, as torch would have done by itself. Except inside a
     joblib/loky worker (Hydra's joblib launcher): joblib sets OMP_NUM_THREADS there to its share
     of the cores, cores // n_jobs (loky's count: affinity, cgroup quota, LOKY_MAX_CPU_COUNT) when
     the parent's environment has none, so there it is taken as a cap on `auto`, not as a choice.
  3. `auto` as above. A run whose data live on a GPU (or MPS) gets 1: its CPU threads only launch
     kernels.

`torch.set_num_threads` is process-wide: the count stays set after the run (a sweep in one process
sets it again for each run).
"""

import math
import multiprocessing
import os
from pathlib import Path

import torch

AUTO_MFLOP_PER_THREAD = 500.0  # a step below this much work trains on one thread


def flop_per_step(macs_per_example: int | float, batch_size: int) -> float:
    """FLOP of one training step: forward, and a backward of about twice the forward's cost."""
    return 3 * 2 * float(macs_per_example or 0) * batch_size


def _positive_int(value) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


def cgroup_cpu_limit(path: str | Path = "/sys/fs/cgroup/cpu.max") -> int | None:
    """A container's CPU quota (cgroup v2 `cpu.max`: "quota period" or "max period"), rounded up."""
    try:
        quota, period = Path(path).read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return max(1, math.ceil(int(quota) / int(period)))
    except (ValueError, ZeroDivisionError):
        return None


def in_loky_worker() -> bool:
    """True in a worker process of joblib's loky backend (what Hydra's joblib launcher runs jobs in)."""
    process = multiprocessing.current_process()
    return type(process).__name__.startswith("Loky") or process.name.startswith("LokyProcess")


def available_cores(
    env=None, affinity: int | None = None, cgroup: int | None = None, loky_worker: bool | None = None
) -> tuple[int, list[str]]:
    """The cores this process may use, and what capped them (e.g. ["SLURM 4"]).

    The smallest of: the CPU affinity mask (taskset, cpusets), a cgroup CPU quota, SLURM_CPUS_PER_TASK,
    and inside a loky worker the OMP_NUM_THREADS joblib gave it. Arguments left out are read here."""
    env = os.environ if env is None else env
    if affinity is None:
        affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if loky_worker is None:
        loky_worker = in_loky_worker()
    if cgroup is None and env is os.environ:
        cgroup = cgroup_cpu_limit()
    cores, caps = max(1, affinity), []
    limits = [
        ("cgroup quota", cgroup),
        ("SLURM_CPUS_PER_TASK", _positive_int(env.get("SLURM_CPUS_PER_TASK"))),
        ("joblib worker's OMP_NUM_THREADS", _positive_int(env.get("OMP_NUM_THREADS")) if loky_worker else None),
    ]
    for name, limit in limits:
        if limit is not None and limit < cores:
            cores = limit
            caps.append(f"{name} {limit}")
    return cores, caps


def choose_threads(
    setting,
    macs_per_example,
    batch_size: int,
    cores: int,
    env=None,
    device_type: str = "cpu",
    loky_worker: bool = False,
    caps: list[str] = (),
) -> tuple[int, str]:
    """(thread count, reason) for one run; pure: everything it looks at is an argument."""
    env = {} if env is None else env
    if setting not in (None, "auto"):
        return int(setting), f"trainer.threads={int(setting)}"
    omp = _positive_int(env.get("OMP_NUM_THREADS"))
    if omp is not None and not loky_worker:
        return omp, f"OMP_NUM_THREADS={omp}"
    if device_type != "cpu":
        return 1, f"auto: data on {device_type} → 1"
    mflop = flop_per_step(macs_per_example, batch_size) / 1e6
    wanted = max(1, int(mflop // AUTO_MFLOP_PER_THREAD))
    count = min(wanted, cores)
    reason = f"auto: {mflop:,.1f} MFLOP/step → {count}"
    if count < wanted:
        reason += f" (of {wanted}: {cores} cores" + (f", {', '.join(caps)}" if caps else "") + ")"
    return count, reason


def set_threads(setting, macs_per_example, batch_size: int, device: torch.device | str = "cpu") -> tuple[int, str]:
    """Choose this run's thread count from its config and machine, set it in torch, return (count, reason)."""
    loky = in_loky_worker()
    cores, caps = available_cores(loky_worker=loky)
    count, reason = choose_threads(
        setting, macs_per_example, batch_size, cores, os.environ, torch.device(device).type, loky, caps
    )
    torch.set_num_threads(count)
    return count, reason

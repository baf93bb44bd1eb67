"""Hydra callback: when a sweep ends, exit 1 if any of its jobs failed, once every job has had its turn.

A job never raises (job.py), so Hydra's launcher itself would report success. Failures are counted
two ways, and the larger count wins: jobs that returned None in this process (the basic launcher
runs them here; it includes jobs refused before they could write anything), and runs whose
summary.json says `failed` (jobs that other launchers ran in other processes or machines).
"""

from pathlib import Path

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sharebench.errors import EXIT_FAILED
from sharebench.records.run_dir import read_summary
from sharebench.terminal import warn


class SweepOutcome(Callback):
    def __init__(self) -> None:
        self.failed_here = 0

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs) -> None:
        if job_return.status != JobStatus.COMPLETED or job_return.return_value is None:
            self.failed_here += 1

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        statuses = [
            (read_summary(p.parent) or {}).get("status")
            for p in Path(str(config.hydra.sweep.dir)).rglob("summary.json")
        ]
        failed = max(self.failed_here, statuses.count("failed"))
        if failed:
            warn(f"sharebench: {failed} of {max(len(statuses), failed)} runs failed (see their summary.json)")
            raise SystemExit(EXIT_FAILED)

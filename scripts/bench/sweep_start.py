"""How long a big sweep waits before its first job starts: `sharebench run -m seed=range(0,N)` from the
command to the first job's directory, as sharebench hands it to Hydra (the checks compose each
distinct configuration once; the basic launcher gets its jobs in batches), against the same sweep in
Hydra's single batch (`hydra.sweeper.max_batch_size=null`: Hydra composes every job before the first)
and against `python -c "import torch"`. The sweep is stopped once its first job has started."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.bench.harness import interleaved, sharebench_exe

JOBS, QUICK_JOBS = 1000, 200
GOAL = "≤ 10 s at 1,000 jobs"


def until_first_job(command: list[str], sweep: Path) -> float:
    shutil.rmtree(sweep, ignore_errors=True)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while not (sweep / "0").exists():
            if process.poll() is not None:
                raise RuntimeError(f"the sweep ended before its first job: {' '.join(command)}")
            time.sleep(0.02)
        return time.perf_counter() - start
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def measure(device, quick: bool) -> list[dict]:
    jobs = QUICK_JOBS if quick else JOBS
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "sweep"
        base = [sharebench_exe(), "run", "-m", f"seed=range(0,{jobs})", "trainer.max_steps=1"]
        base += ["trainer.progress=false", f"device={device}", f"hydra.sweep.dir={sweep}"]
        names = {
            "sharebench run -m (as shipped)": base,
            "the same in Hydra's single batch": [*base, "hydra.sweeper.max_batch_size=null"],
        }
        torch_only = 'python -c "import torch"'

        def timer(name):
            if name == torch_only:
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", "import torch"], check=True)
                return time.perf_counter() - start
            return until_first_job(names[name], sweep)

        variants = {name: name for name in [*names, torch_only]}
        timer(torch_only)  # warm-up: the page cache
        t = interleaved(variants, 1 if quick else 2, timer)
    return [
        {
            "process": name,
            "jobs": jobs if name != torch_only else "",
            "seconds_to_first_job": round(s, 2),
            "ratio_to_import_torch": round(t.ratio(name, torch_only), 2),
            "goal": GOAL if name == "sharebench run -m (as shipped)" else "",
        }
        for name, s in t.items()
    ]

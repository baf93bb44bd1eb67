"""A 1-step `sharebench run` as a whole process against `python -c "import torch"` (every joblib or
SLURM job pays its start-up), with the parts of it: the checks before Hydra, and what importing
torch._dynamo adds (torch.optim's wrappers import it on their first call, and a run makes an
optimizer: docs/performance.md#start-up)."""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.bench.harness import interleaved, sharebench_exe

GOAL = "≤ 2"


def measure(device, quick: bool) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        runs = iter(range(10**6))
        one_step = ["trainer.max_steps=1", "trainer.progress=false", "trainer.plots=false", f"device={device}"]
        commands = {
            'python -c "import torch"': [sys.executable, "-c", "import torch"],
            'python -c "import torch, torch._dynamo"': [sys.executable, "-c", "import torch, torch._dynamo"],
            "sharebench run trainer.max_steps=1 --cfg job (the checks, no build)": [
                sharebench_exe(),
                "run",
                *one_step,
                "--cfg",
                "job",
            ],
            "sharebench run trainer.max_steps=1": lambda: [
                sharebench_exe(),
                "run",
                *one_step,
                f"hydra.run.dir={Path(tmp) / str(next(runs))}",
            ],
        }

        def process(command) -> float:
            start = time.perf_counter()
            subprocess.run(command() if callable(command) else command, check=True, capture_output=True)
            return time.perf_counter() - start

        for command in commands.values():  # warm-up: the page cache, the data cache
            process(command)
        t = interleaved(commands, 2 if quick else 5, process)
    torch_only = 'python -c "import torch"'
    return [
        {
            "process": name,
            "wall_s": round(s, 2),
            "ratio_to_import_torch": round(t.ratio(name, torch_only), 2),
            "goal": GOAL if name == "sharebench run trainer.max_steps=1" else "",
        }
        for name, s in t.items()
    ]

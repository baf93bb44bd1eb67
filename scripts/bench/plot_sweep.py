"""`sharebench plot` on a big sweep made of generated run dirs (copies of one real run's records,
with the model and seed varied and a metrics.csv of 6,000 steps evaluated every 100): the first plot
(every run read from its files; it writes the sweep's index), a second plot of the same unchanged
sweep (from the index), and a third after one run's summary.json was rewritten (that run read again).
Wall time and the process's peak memory."""

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts.bench.harness import sharebench_exe

RUNS, QUICK_RUNS, STEPS, EVAL_EVERY = 10_000, 200, 6000, 100
MODELS = ("shared_cnn", "local_cnn")


def make_sweep(sweep: Path, runs: int, device) -> None:
    template = sweep.parent / "template"
    subprocess.run(
        [sharebench_exe(), "run", "trainer.max_steps=1", "trainer.progress=false", "trainer.plots=false"]
        + [f"device={device}", f"hydra.run.dir={template}"],
        check=True,
        capture_output=True,
    )
    config = (template / ".hydra" / "config.yaml").read_text()
    hydra = (template / ".hydra" / "hydra.yaml").read_text()
    summary = json.loads((template / "summary.json").read_text())
    header = (template / "metrics.csv").read_text().splitlines()[0]
    for i in range(runs):
        model, seed = MODELS[i % 2], i // 2
        job = sweep / str(i)
        (job / ".hydra").mkdir(parents=True)
        (job / ".hydra" / "overrides.yaml").write_text(f"- model={model}\n- seed={seed}\n")
        (job / ".hydra" / "config.yaml").write_text(config.replace("\nseed: 0\n", f"\nseed: {seed}\n"))
        (job / ".hydra" / "hydra.yaml").write_text(hydra.replace("    model: shared_cnn", f"    model: {model}"))
        acc = 0.5 + 0.4 * (i % 7) / 7
        (job / "summary.json").write_text(json.dumps({**summary, "final_test_acc": acc, "seed": seed}))
        cols = header.split(",")
        rows = [header] + [
            ",".join(str(s if c == "step" else round(acc * s / STEPS, 4)) for c in cols)
            for s in range(EVAL_EVERY, STEPS + 1, EVAL_EVERY)
        ]
        (job / "metrics.csv").write_text("\n".join(rows) + "\n")
    shutil.rmtree(template)


# Linux keeps a process's peak resident memory across exec, so a plot forked from this process
# (torch loaded) would report this process's size as its own: a small Python starts the plot and
# prints that child's peak (kB); its own start, tens of milliseconds, is in the wall time
PEAK_OF_CHILD = (
    "import os, subprocess, sys; p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL); "
    "_, status, usage = os.wait4(p.pid, 0); print(usage.ru_maxrss); sys.exit(os.waitstatus_to_exitcode(status))"
)


def plot(sweep: Path, out: Path) -> tuple[float, float]:
    """Seconds and peak resident MiB of one `sharebench plot` process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_OF_CHILD, sharebench_exe(), "plot", str(sweep), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"sharebench plot failed: {done.stderr[-2000:]}")
    return wall, int(done.stdout.split()[-1]) / 1024  # kB on Linux


def measure(device, quick: bool) -> list[dict]:
    runs = QUICK_RUNS if quick else RUNS
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "sweep"
        made = time.perf_counter()
        make_sweep(sweep, runs, device)
        made = time.perf_counter() - made
        first = plot(sweep, Path(tmp) / "first")
        second = plot(sweep, Path(tmp) / "second")
        summary = sweep / "0" / "summary.json"  # as a resumed run rewrites it
        summary.write_text(json.dumps({**json.loads(summary.read_text()), "final_test_acc": 0.25}))
        third = plot(sweep, Path(tmp) / "third")
    return [
        {
            "plot": name,
            "runs": runs,
            "steps_per_run": STEPS,
            "wall_s": round(wall, 2),
            "peak_mib": round(mib),
            "goal": goal,
        }
        for name, (wall, mib), goal in (
            ("first plot", first, "≤ 60 s, ≤ 2,048 MiB at 10,000 runs"),
            ("second plot, sweep unchanged", second, "≤ 5 s at 10,000 runs"),
            ("third plot, one run's summary rewritten", third, ""),
        )
    ] + [{"plot": "(making the run dirs)", "runs": runs, "steps_per_run": STEPS, "wall_s": round(made, 1)}]

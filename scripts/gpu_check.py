"""The first run on a GPU, prepared: the checks that only a CUDA device can settle, in one script of
a few minutes. docs/gpu.md includes the table it writes.

    python scripts/gpu_check.py            on a machine with a GPU: writes results/gpu/gpu_check.md
                                           (without one, that file says no GPU run has been made)
    python scripts/gpu_check.py --dry      everything on the CPU, small, into results/gpu/dry/ (the
                                           test suite runs this); CUDA-only parts say why they skip

Checks, each a row of the table:
  amp <model>      trainer.amp=true for a conv, its locally connected twin, a tiled net and a GRU:
                   the run completes with a finite loss; peak device memory beside the floor that
                   train/memory.py estimates before a run (the estimate must stay below it)
  no sync          one epoch with augment.translate=1 under torch.cuda.set_sync_debug_mode("error"),
                   switched off only for the loop's flush (the one planned synchronisation point)
  resume           a run interrupted and resumed against the same run uninterrupted: the recorded
                   losses are compared bit for bit (what CUDA's determinism gives, docs/gpu.md)
  bench            scripts/bench.py (or the scripts.bench package), quick, into <out>/bench/
"""

import argparse
import itertools
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # `python scripts/gpu_check.py` from a checkout: this sharebench

import torch  # noqa: E402

from sharebench.configs import compose  # noqa: E402

AMP_MODELS = ("shared_cnn", "local_cnn", "tiled_cnn", "gru")  # a conv, its twin, a tiled net, a recurrence


def config(dry: bool, *overrides: str):
    """A CIFAR-shaped synthetic task (MNIST-shaped and smaller with --dry), as a run would compose it."""
    shape, train, held_out = ("[1,8,8]", 64, 16) if dry else ("[3,32,32]", 5000, 500)
    size = [f"dataset.shape={shape}", f"dataset.train_size={train}"]
    size += [f"dataset.val_size={held_out}", f"dataset.test_size={held_out}"]
    return compose(
        [
            "dataset=synthetic",
            *size,
            f"trainer.batch_size={16 if dry else 128}",
            "trainer.progress=false",
            "trainer.plots=false",
            "trainer.save_model=false",
            f"device={'cpu' if dry else 'cuda'}",
            *overrides,
        ],
    )


def peak_mib(device) -> float:
    return round(torch.cuda.max_memory_allocated(device) / 2**20, 1) if device.type == "cuda" else math.nan


def reset_peak(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def check_amp(model: str, dry: bool, workdir: Path) -> dict:
    from sharebench import data, models
    from sharebench.models import without_pretrained_weights
    from sharebench.run import experiment
    from sharebench.train.memory import BYTES_PER_PARAMETER, largest_parameter_count

    cfg = config(dry, f"model={model}", "trainer.amp=true", f"trainer.max_steps={4 if dry else 200}")
    device = torch.device(cfg.device)
    splits = data.load(cfg.dataset)
    with torch.device("meta"):
        probe = models.build(without_pretrained_weights(cfg.model), splits.input_shape, splits.num_outputs)
    floor = (largest_parameter_count(probe) * BYTES_PER_PARAMETER + splits.elements() * 4) / 2**20
    reset_peak(device)
    summary = experiment.run(cfg, workdir / f"amp_{model}")
    peak = peak_mib(device)
    ok = summary["status"] == "completed" and math.isfinite(summary.get("final_train_loss", math.nan))
    ok = ok and (math.isnan(peak) or floor <= peak)
    detail = (
        f"{summary['status']}, final train loss {summary.get('final_train_loss', math.nan):.4f}, "
        f"precision: {summary['precision']}, {summary.get('samples_per_second')} samples/s; "
        f"memory floor estimate {floor:.1f} MiB"
    )
    if dry:
        detail += " (CPU: trainer.amp is ignored off CUDA; tests/test_gpu_path.py runs CPU bfloat16 autocast)"
    return {"passed": ok, "detail": detail, "peak_mib": peak}


def check_no_sync(dry: bool, workdir: Path) -> dict:
    """One epoch with augmentation under CUDA's sync debug mode, flush excepted."""
    from sharebench import assemble
    from sharebench.train import loop

    cfg = config(dry, "model=local_cnn", "augment.translate=1", "trainer.epochs=1")
    parts = assemble(cfg)  # data → model → optimizer → augmentation, on the device, as a run makes them
    device = parts.device
    cuda = device.type == "cuda"
    mode = (lambda m: torch.cuda.set_sync_debug_mode(m)) if cuda else (lambda m: None)
    plain_clock = loop.device_clock

    def flush_clock(dev):  # the flush starts by reading the clock: from there the loop may sync
        clock = plain_clock(dev)

        def read():
            mode(0)
            return clock()

        return read

    rows = []

    def on_evaluation(row):  # the flush ends here: the step body starts again
        rows.append(row)
        mode("error")

    loop.device_clock = flush_clock
    try:
        mode("error")
        result = parts.fit(on_evaluation)
    finally:
        mode(0)
        loop.device_clock = plain_clock
    detail = f"{result.steps} steps, augment.translate=1: no synchronising call in the step body"
    if not cuda:
        detail = f"{result.steps} steps ran; skipped the sync debug mode: CUDA only (the CPU stand-in is tests/test_gpu_path.py's sync counter)"
    return {"passed": result.status == "completed" and bool(rows), "detail": detail, "peak_mib": peak_mib(device)}


def check_resume(dry: bool, workdir: Path) -> dict:
    from sharebench.records.run_dir import read_csv
    from sharebench.run import experiment
    from sharebench.run.resume_plan import plan

    steps = 6 if dry else 120
    cfg = config(dry, "model=local_cnn", "augment.translate=1", f"trainer.max_steps={steps}", "trainer.eval_every=3")
    device = torch.device(cfg.device)
    reset_peak(device)
    experiment.run(cfg, workdir / "straight")
    calls = itertools.count()
    stopped = experiment.run(cfg, workdir / "resumed", should_stop=lambda: next(calls) >= steps // 2)
    action, checkpoint = plan(workdir / "resumed", cfg)
    resumed = experiment.run(cfg, workdir / "resumed", resume=checkpoint)
    a, b = (read_csv(workdir / name / "steps.csv") for name in ("straight", "resumed"))
    same = [float(x["loss"]) for x in a] == [float(y["loss"]) for y in b]
    detail = (
        f"interrupted at step {steps // 2} ({stopped['status']}, then {action}), resumed to {resumed['status']}; "
        f"step losses {'bit-identical to' if same else 'DIFFER from'} the uninterrupted run"
    )
    return {
        "passed": stopped["status"] == "interrupted" and resumed["status"] == "completed" and same,
        "detail": detail,
        "peak_mib": peak_mib(device),
    }


def check_bench(dry: bool, workdir: Path, out: Path) -> dict:
    """The bench, as a subprocess: scripts/bench.py, or the scripts.bench package where it is one."""
    if (REPO / "scripts" / "bench" / "__main__.py").exists():
        command = [sys.executable, "-m", "scripts.bench"]
    else:
        command = [sys.executable, "scripts/bench.py"]  # run in REPO
    if dry:
        command.append("--help")  # the CPU bench is the bench's own job: here, only that it starts
    else:
        command += ["--quick", "--device", "cuda", "--out", str(out / "bench")]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1800)
    shown = " ".join(Path(c).name if c == sys.executable else c for c in command)
    detail = f"`{shown}` exited {done.returncode}"
    if dry:
        detail += " (dry: started with --help only)"
    elif done.returncode == 0:
        detail += f"; tables in {out / 'bench' / 'bench.md'}"
    else:
        detail += f": {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}"
    return {"passed": done.returncode == 0, "detail": detail, "peak_mib": math.nan}


def machine(dry: bool) -> str:
    if torch.cuda.is_available() and not dry:
        props = torch.cuda.get_device_properties(0)
        gpu = f"{props.name}, {props.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}"
    else:
        gpu = "no GPU used (--dry)" if dry else "no CUDA device"
    return f"{platform.node() or 'this machine'}: {gpu}; torch {torch.__version__}; {os.cpu_count()} CPUs"


def table(rows: list[dict], dry: bool, command: str) -> str:
    lines = [
        f"Written by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine(dry)}.",
        "",
        "| check | result | seconds | peak MiB | detail |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        peak = "–" if math.isnan(r["peak_mib"]) else r["peak_mib"]
        lines.append(
            f"| {r['check']} | {'pass' if r['passed'] else 'FAIL'} | {r['seconds']} | {peak} | {r['detail']} |"
        )
    return "\n".join(lines) + "\n"


def no_gpu_note(command: str) -> str:
    return (
        f"No GPU run has been made yet: `{command}` was last run on {machine(False)} "
        f"({time.strftime('%Y-%m-%d', time.gmtime())}) and measured nothing there. "
        f"Run it on a machine with a GPU: it then writes its table of checks here.\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry", action="store_true", help="run every check small on the CPU (the suite's smoke test)")
    parser.add_argument("--out", help="results folder (default results/gpu, or results/gpu/dry with --dry)")
    parser.add_argument("--skip-bench", action="store_true", help="leave the bench out")
    args = parser.parse_args()
    out = Path(args.out or REPO / "results" / "gpu" / ("dry" if args.dry else ""))
    out.mkdir(parents=True, exist_ok=True)
    command = (
        "python scripts/gpu_check.py" + (" --dry" if args.dry else "") + (" --skip-bench" if args.skip_bench else "")
    )
    if not args.dry and not torch.cuda.is_available():
        (out / "gpu_check.md").write_text(no_gpu_note(command))
        print(f"no CUDA device here: wrote {out / 'gpu_check.md'} saying so (use --dry for the CPU run)")
        return 0
    checks = [(f"amp {m}", lambda w, m=m: check_amp(m, args.dry, w)) for m in AMP_MODELS]
    checks += [("no sync", lambda w: check_no_sync(args.dry, w)), ("resume", lambda w: check_resume(args.dry, w))]
    if not args.skip_bench:
        checks.append(("bench", lambda w: check_bench(args.dry, w, out)))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, check in checks:
            start = time.perf_counter()
            workdir = Path(tmp) / name.replace(" ", "_")
            try:
                row = check(workdir)
            except Exception as err:  # a check that crashes is a failed row, and the others still run
                row = {"passed": False, "detail": f"{type(err).__name__}: {err}".replace("\n", " ")[:300]}
                row["peak_mib"] = math.nan
                traceback.print_exc()
            rows.append({"check": name, "seconds": round(time.perf_counter() - start, 1), **row})
            print(f"{name}: {'pass' if row['passed'] else 'FAIL'} - {row['detail']}", flush=True)
    (out / "gpu_check.md").write_text(table(rows, args.dry, command))
    print(f"wrote {out / 'gpu_check.md'}")
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

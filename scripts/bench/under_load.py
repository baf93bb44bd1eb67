"""The intra-op thread count under two kinds of load, for `trainer.threads=auto` and for torch's
default (one thread per core); see measure()."""

import copy
import json
import math
import os
import subprocess
import sys
import time

import torch

from scripts.bench.harness import ROOT, Timings, cfg, clock
from scripts.bench.harness import internal as internal_command
from sharebench import data, models
from sharebench.train.loop import fit
from sharebench.train.optimizers import build_optimizer

UNDER_LOAD = ["model=mnist1d_cnn", "trainer.progress=false"]  # the MNIST-1D paper's CNN, 19 MFLOP a step


def torch_default_threads() -> int:
    """What torch picks when nobody sets a count: one thread per CPU this process may use."""
    if "OMP_NUM_THREADS" in os.environ or not hasattr(os, "sched_getaffinity"):
        return os.cpu_count() or 1
    return len(os.sched_getaffinity(0))


DEFAULT_THREADS = torch_default_threads()


def _spin(started) -> None:
    """Another process's work: a pure-Python loop that keeps one core busy until it is stopped."""
    started.set()
    while True:
        pass


class BusyCore:
    """`with BusyCore():` a helper process spins on one core for the duration."""

    def __enter__(self):
        import multiprocessing

        ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        started = ctx.Event()
        self.process = ctx.Process(target=_spin, args=(started,), daemon=True)
        self.process.start()
        started.wait(60)
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.join()


def internal(spec: str) -> None:
    """Internal step (`--internal under_load SPEC`): one training run in a fresh process with trainer.threads=<setting>;
    prints `ready` once warmed up, trains when a line arrives on stdin, then prints its end time."""
    from sharebench.accounting import account
    from sharebench.train.threads import set_threads

    setting, steps = json.loads(spec)
    c = cfg(*UNDER_LOAD, f"trainer.max_steps={steps}", f"trainer.eval_every={steps}")
    device = torch.device("cpu")
    splits = data.load(c.dataset).to(device)
    torch.manual_seed(0)
    initial = models.build(c.model, splits.input_shape, splits.num_outputs)
    set_threads(setting, account(initial, splits.input_shape)[1]["macs_per_example"], c.trainer.batch_size, device)

    def train(n):
        model = copy.deepcopy(initial)
        trainer = copy.deepcopy(c.trainer)
        trainer.max_steps = trainer.eval_every = n
        fit(
            model,
            splits,
            build_optimizer(c.optim, model.parameters()),
            trainer,
            device,
            0,
            lambda row: None,
            lambda rows: None,
        )

    train(20)  # warm-up: first calls allocate and pick kernels
    print("ready", flush=True)
    sys.stdin.readline()
    train(steps)
    print(json.dumps({"end": time.time(), "threads": torch.get_num_threads()}), flush=True)


def _runs(setting, steps: int, together: bool) -> float:
    """Two training runs, each in its own fresh process: seconds from the first `go` until the last
    has finished, the two started at once (together) or the second when the first ends. Both
    processes start (import, load data, warm up) before the clock does."""
    procs = [
        subprocess.Popen(
            internal_command("under_load", json.dumps([setting, steps])),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(2)
    ]

    def go(p):
        p.stdin.write("go\n")
        p.stdin.flush()

    try:
        for p in procs:
            while p.stdout.readline().strip() != "ready":
                if p.poll() is not None:
                    raise RuntimeError(f"an under_load job process exited with {p.returncode}")
        start = time.time()
        if together:
            for p in procs:
                go(p)
        ends = []
        for p in procs:
            if not together:
                go(p)
            ends.append(json.loads(p.stdout.readline())["end"])
        return max(ends) - start
    finally:
        for p in procs:
            p.stdin.close()
            p.wait()


def measure(device, quick: bool) -> list[dict]:
    """The intra-op thread count under two kinds of load, for `trainer.threads=auto` and for torch's
    default (one thread per core): (a) a training run's slowdown while another process keeps one
    core busy, against the same run unloaded; (b) two runs started together, against the same two
    one after the other: the throughput ratio. Ratios are medians over repeats in alternating order."""
    from sharebench.accounting import account
    from sharebench.train.threads import choose_threads

    steps, repeats = (20, 1) if quick else (300, 3)
    cpu = torch.device("cpu")  # the question is CPU threads; a GPU run keeps one (train/threads.py)
    c = cfg(*UNDER_LOAD, f"trainer.max_steps={steps}", f"trainer.eval_every={steps}")
    splits = data.load(c.dataset).to(cpu)
    torch.manual_seed(0)
    initial = models.build(c.model, splits.input_shape, splits.num_outputs)
    macs = account(initial, splits.input_shape)[1]["macs_per_example"]
    auto, _ = choose_threads("auto", macs, c.trainer.batch_size, DEFAULT_THREADS)
    settings = {f"auto ({auto})": "auto", f"torch default ({DEFAULT_THREADS})": DEFAULT_THREADS}

    def train(threads):
        torch.set_num_threads(threads)
        model = copy.deepcopy(initial)
        fit(
            model,
            splits,
            build_optimizer(c.optim, model.parameters()),
            c.trainer,
            cpu,
            0,
            lambda row: None,
            lambda rows: None,
        )

    def train_loaded(threads):
        with BusyCore():
            return clock(lambda: train(threads), cpu)

    for threads in (auto, DEFAULT_THREADS):
        train(threads)  # warm-up
    load = round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else math.nan  # others' work, before ours
    threads_of = {label: auto if setting == "auto" else setting for label, setting in settings.items()}
    variants = {}  # (a) one core busy; all four interleaved so that each ratio pairs runs timed close together
    for label, threads in threads_of.items():
        variants[(label, "unloaded")] = lambda threads=threads: train(threads)
        variants[(label, "loaded")] = lambda threads=threads: train_loaded(threads)
    times = {name: [] for name in variants}
    for r in range(repeats):
        for name in list(variants) if r % 2 == 0 else reversed(list(variants)):
            times[name].append(clock(variants[name], cpu) if name[1] == "unloaded" else variants[name]())
    torch.set_num_threads(DEFAULT_THREADS)
    t, first = Timings(times), next(iter(settings))
    rows = [
        {
            "case": f"one core busy vs unloaded, {steps} steps",
            "threads": label,
            "reference_s": round(t[(label, "unloaded")], 3),
            "measured_s": round(t[(label, "loaded")], 3),
            "ratio": round(t.ratio((label, "loaded"), (label, "unloaded")), 2),
            "goal": "≤ 1.5 (slowdown)",
            "time_vs_auto": round(t.ratio((label, "loaded"), (first, "loaded")), 2),
            "load_avg_before": load,
        }
        for label in settings
    ]

    variants = {
        (label, mode): (setting, mode == "together")  # (b) two runs at once
        for label, setting in settings.items()
        for mode in ("sequential", "together")
    }
    times = {name: [] for name in variants}
    for r in range(repeats):
        for name in list(variants) if r % 2 == 0 else reversed(list(variants)):
            times[name].append(_runs(variants[name][0], steps, variants[name][1]))
    t = Timings(times)
    rows += [
        {
            "case": f"2 runs together vs one after the other, {steps} steps each",
            "threads": label,
            "reference_s": round(t[(label, "sequential")], 3),
            "measured_s": round(t[(label, "together")], 3),
            "ratio": round(t.ratio((label, "sequential"), (label, "together")), 2),
            "goal": "≥ 1.8 (throughput)",
            "time_vs_auto": round(t.ratio((label, "together"), (first, "together")), 2),
            "load_avg_before": load,
        }
        for label in settings
    ]
    return rows

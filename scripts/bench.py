"""sharebench's benchmark suite: every claim is a ratio of variants timed side by side in this one
process (interleaved, after warm-up, median over repeats), because the machine is shared and noisy.
On a GPU the same code times with synchronisation (CUDA events) and reports peak GPU memory.

Run:  python scripts/bench.py [--quick] [--out results/bench] [--device auto]
Writes results/bench/<part>.csv for each part and results/bench/bench.md with all the tables.
"""

import argparse
import copy
import json
import math
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from hydra import compose, initialize_config_module
from hydra.utils import instantiate

from sharebench import data, models
from sharebench.models.layers import LocallyConnected2d
from sharebench.train.devices import pick_device
from sharebench.train.loop import fit

PAPER_CNN = [
    "model=shared_cnn",
    "model.channels=[25,25,25]",
    "model.kernel_size=5",
    "model.stride=2",
    "model.padding=1",
]  # the MNIST-1D paper's CNN: 3 conv layers, 25 channels, k5, stride 2


def cfg(*overrides):
    with initialize_config_module(config_module="sharebench.conf", version_base="1.3"):
        return compose("config", overrides=list(overrides))


def sync(device):
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

    def __init__(self, times: dict[str, list[float]]):
        super().__init__({name: statistics.median(t) for name, t in times.items()})
        self.times = times

    def ratio(self, a: str, b: str) -> float:
        """Median over repeats of time(a) / time(b), each pair timed back to back: a load spike
        that lasts a few seconds moves both of a pair, and only one pair."""
        return statistics.median(x / y for x, y in zip(self.times[a], self.times[b]))


def side_by_side(variants: dict, device, repeats: int, warmup: int = 1) -> Timings:
    """Variants interleaved (in alternating order, so none always runs first) after a warm-up."""
    for fn in variants.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in variants}
    names = list(variants)
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            times[name].append(clock(variants[name], device))
    return Timings(times)


# 1. Runner overhead ----------------------------------------------------------------------------
def runner_overhead(device, quick):
    """sharebench's trainer vs the MNIST-1D paper's hand-written loop, on the paper's CNN and on a
    single linear layer, whose step is so short that what is timed is almost all overhead: its
    per-step difference is the trainer's cost in absolute terms, where the machine's noise
    (±10% between back-to-back seconds here) hides a few percent on the CNN."""
    steps = 300 if quick else 1000
    c = cfg(*PAPER_CNN, "trainer.progress=false", f"trainer.max_steps={steps}", f"trainer.eval_every={steps}")
    splits = data.load(c.dataset).to(device)
    x, y = splits.train
    torch.manual_seed(0)
    nets = {
        "MNIST-1D paper CNN": models.build(c.model, splits.input_shape, splits.num_outputs).to(device),
        "one linear layer": nn.Sequential(nn.Flatten(), nn.Linear(x[0].numel(), splits.num_outputs)).to(device),
    }
    rows = []
    for net, initial in nets.items():

        def sharebench_fit():
            model = copy.deepcopy(initial)
            fit(
                model,
                splits,
                instantiate(c.optim, params=model.parameters()),
                c.trainer,
                device,
                0,
                lambda row: None,
                lambda rows: None,
            )

        def hand_loop():  # the MNIST-1D paper's loop (tensors in memory, consecutive slices), same optimizer
            model = copy.deepcopy(initial)
            opt = instantiate(c.optim, params=model.parameters())  # Adam 1e-2, as sharebench's default
            for step in range(steps):
                bix = (step * 100) % len(x)
                loss = F.cross_entropy(model(x[bix : bix + 100]), y[bix : bix + 100])
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():  # the paper evaluates at the end too
                for v in (splits.val, splits.test):
                    F.cross_entropy(model(v[0]), v[1]).item()

        t = side_by_side({"sharebench": sharebench_fit, "hand-written loop": hand_loop}, device, 3 if quick else 11)
        extra = statistics.median(a - b for a, b in zip(t.times["sharebench"], t.times["hand-written loop"]))
        rows += [
            {
                "model": net,
                "runner": name,
                "steps": steps,
                "ms_per_step": round(1e3 * s / steps, 4),
                "ratio_to_hand_loop": round(t.ratio(name, "hand-written loop"), 3),
                "extra_us_per_step": round(1e6 * extra / steps, 1) if name == "sharebench" else 0.0,
            }
            for name, s in t.items()
        ]
    return rows


# 2. Data path ----------------------------------------------------------------------------------
def write_mnist_idx(root: Path, n: int) -> None:
    """Genuine MNIST IDX files (random pixels) where torchvision.datasets.MNIST looks for them."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    for split, count in (("train", n), ("t10k", 1000)):
        images = torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=gen)
        labels = torch.randint(0, 10, (count,), dtype=torch.uint8, generator=gen)
        (raw / f"{split}-images-idx3-ubyte").write_bytes(
            struct.pack(">IIII", 2051, count, 28, 28) + images.numpy().tobytes()
        )
        (raw / f"{split}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, count) + labels.numpy().tobytes())


def data_path(device, quick):
    """One epoch of sharebench's own MNIST path (decoded once, normalised, resident on the device) vs a
    DataLoader over torchvision's MNIST, as the source posts' readers write it. Both sides train the
    same model from the same weights with the same optimizer (sharebench's default, built from its
    config), so only the data path differs."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        write_mnist_idx(Path(tmp), 6000 if quick else 60000)
        for model_name, subset in (("mlp", None), ("shared_cnn", 1000 if quick else 5000)):
            c = cfg(
                f"model={model_name}",
                "dataset=mnist",
                f"dataset.root={tmp}",
                "dataset.download=false",
                "dataset.val_size=0",
                f"dataset.train_size={subset or 'null'}",
                "trainer.progress=false",
                "trainer.epochs=1",
                "trainer.plots=false",
            )
            splits = data.load(c.dataset).to(device)
            n = len(splits.train[0])
            torch.manual_seed(0)
            initial = models.build(c.model, (1, 28, 28), 10).to(device)
            to_tensor = transforms.ToTensor()
            normalized = transforms.Compose([to_tensor, transforms.Normalize((0.1307,), (0.3081,))])
            loaders = {
                name: DataLoader(
                    Subset(datasets.MNIST(tmp, train=True, download=False, transform=t), range(n)),
                    batch_size=100,
                    shuffle=True,
                    num_workers=0,
                )
                for name, t in (("DataLoader + ToTensor", to_tensor), ("DataLoader + ToTensor + Normalize", normalized))
            }

            def resident():
                model = copy.deepcopy(initial)
                fit(
                    model,
                    splits,
                    instantiate(c.optim, params=model.parameters()),
                    c.trainer,
                    device,
                    0,
                    lambda row: None,
                    lambda rows: None,
                )

            def through(loader):
                def epoch():  # what a reader of the source posts writes
                    model = copy.deepcopy(initial)
                    opt = instantiate(c.optim, params=model.parameters())
                    for xb, yb in loader:
                        xb, yb = xb.to(device), yb.to(device)
                        loss = F.cross_entropy(model(xb), yb)
                        opt.zero_grad()
                        loss.backward()
                        opt.step()

                return epoch

            def bare_loop():  # the same batches with nothing else: no records, no bookkeeping
                model = copy.deepcopy(initial)
                opt = instantiate(c.optim, params=model.parameters())
                order = torch.randperm(n, device=device)
                for start in range(0, n, 100):
                    idx = order[start : start + 100]
                    loss = F.cross_entropy(
                        model(splits.train[0].index_select(0, idx)), splits.train[1].index_select(0, idx)
                    )
                    opt.zero_grad()
                    loss.backward()
                    opt.step()

            variants = {
                "device-resident tensors": resident,
                **{k: through(v) for k, v in loaders.items()},
                "minimal loop over resident tensors": bare_loop,
            }
            t = side_by_side(variants, device, 2 if quick else 3, warmup=0 if quick else 1)
            for name, s in t.items():
                rows.append(
                    {
                        "model": model_name,
                        "examples": n,
                        "data_path": name,
                        "epoch_seconds": round(s, 3),
                        "speedup_vs_dataloader": round(t.ratio("DataLoader + ToTensor", name), 2),
                    }
                )
    return rows


# 3. Locally connected layer --------------------------------------------------------------------
def broadcast_lc(x, w, k, padding):
    """The common implementation: unfold, then broadcast-multiply a (B, O, K, L) temporary and sum."""
    cols = F.unfold(x, k, padding=padding)  # (B, K, L)
    return (cols.unsqueeze(1) * w.unsqueeze(0)).sum(2)  # w: (O, K, L)


def loop_lc(x, w, k, padding):
    """One small matmul per output position: the naive loop."""
    cols = F.unfold(x, k, padding=padding)
    return torch.stack([cols[:, :, i] @ w[:, :, i].t() for i in range(cols.shape[2])], dim=2)


LC_SHAPES = [(128, 16, 32, 28, 3), (128, 1, 16, 28, 3), (64, 32, 32, 14, 3)]
LC_QUICK = [(32, 16, 32, 14, 3)]


def lc_variants(shape, device) -> dict:
    """Forward+backward of each way to compute one locally connected layer of `shape`."""
    b, cin, cout, size, k = shape
    torch.manual_seed(0)
    x = torch.randn(b, cin, size, size, device=device, requires_grad=True)
    layer = LocallyConnected2d(cin, cout, size, k, padding=k // 2).to(device)
    conv_w = torch.randn(cout, cin, k, k, device=device, requires_grad=True)
    L, K = size * size, cin * k * k
    cols = torch.randn(L, b, K, device=device, requires_grad=True)
    bw = torch.randn(L, K, cout, device=device, requires_grad=True)
    flat_w = layer.weight.detach().reshape(L, cout, K).permute(1, 2, 0).contiguous().requires_grad_()
    return {
        "LocallyConnected2d": lambda: layer(x).sum().backward(),
        "F.conv2d (same FLOPs)": lambda: F.conv2d(x, conv_w, padding=k // 2).sum().backward(),
        "bmm of the layer's shape": lambda: torch.bmm(cols, bw).sum().backward(),
        "broadcast-multiply": lambda: broadcast_lc(x, flat_w, k, k // 2).sum().backward(),
        "per-position loop": lambda: loop_lc(x, flat_w, k, k // 2).sum().backward(),
    }


def peak_mib(shape, variant: str, device) -> float:
    """Extra peak memory of one call: CUDA's allocator stats, or on CPU the growth of the
    process's resident high-water mark, measured in a fresh process so earlier work cannot hide it."""
    if device.type == "cuda":
        fn = lc_variants(shape, device)[variant]
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        return round((torch.cuda.max_memory_allocated(device) - base) / 2**20, 1)
    out = subprocess.run(
        [sys.executable, __file__, "--peak", json.dumps([list(shape), variant])],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(out.strip().splitlines()[-1])


def _peak_rss_mib() -> float:
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


def measure_peak_here(spec: str) -> None:
    shape, variant = json.loads(spec)
    fn = lc_variants(tuple(shape), torch.device("cpu"))[variant]
    before = _peak_rss_mib()
    fn()
    print(round(_peak_rss_mib() - before, 1))


def locally_connected(device, quick):
    rows = []
    for shape in LC_QUICK if quick else LC_SHAPES:
        b, cin, cout, size, k = shape
        variants = lc_variants(shape, device)
        if size * size * b > 64 * 196:  # the Python loop over positions is timed only where it ends soon
            del variants["per-position loop"]
        t = side_by_side(variants, device, 3 if quick else 5)
        flops = 3 * 2 * b * size * size * cin * k * k * cout  # forward + input and weight gradients
        for name, s in t.items():
            rows.append(
                {
                    "shape": f"B{b} {cin}->{cout} k{k} {size}x{size}",
                    "variant": name,
                    "ms": round(1e3 * s, 2),
                    "gflops": round(flops / s / 1e9, 1),
                    "fraction_of_bmm": round(t.ratio("bmm of the layer's shape", name), 3),
                    "peak_mib": peak_mib(shape, name, device),
                }
            )
    return rows


# 4. Frozen-backbone transfer ------------------------------------------------------------------
def frozen_transfer(device, quick):
    from sharebench.train.feature_cache import with_cached_features

    n = 256 if quick else 2000
    c = cfg(
        "model=resnet_transfer",
        "model.weights=none",
        "model.freeze=true",
        "dataset=synthetic",
        "dataset.shape=[3,32,32]",
        f"dataset.train_size={n}",
        "dataset.val_size=0",
        "dataset.test_size=0",
        "trainer.epochs=1",
        "trainer.progress=false",
        "trainer.batch_size=100",
    )
    splits = data.load(c.dataset).to(device)
    torch.manual_seed(0)
    model = models.build(c.model, splits.input_shape, splits.num_outputs).to(device)
    caching_s = clock(lambda: with_cached_features(model, splits, c), device)  # the one-time cost
    head, features = with_cached_features(model, splits, c)

    def one_epoch(module, split_data):
        opt = torch.optim.SGD([p for p in module.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
        fit(module, split_data, opt, c.trainer, device, 0, lambda row: None, lambda rows: None)

    t = side_by_side(
        {
            "cached features (head only)": lambda: one_epoch(head, features),
            "backbone recomputed each epoch": lambda: one_epoch(model, splits),
        },
        device,
        3,
    )
    return [
        {
            "examples": n,
            "variant": name,
            "epoch_seconds": round(s, 4),
            "speedup": round(t.ratio("backbone recomputed each epoch", name), 1),
            "one_time_feature_seconds": round(caching_s, 3) if name.startswith("cached") else "",
        }
        for name, s in t.items()
    ]


# 5. Time to accuracy ---------------------------------------------------------------------------
def time_to_accuracy(device, quick):
    exe = str(Path(sys.executable).with_name("sharebench"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, args in (
            ("default `sharebench run`", []),
            ("MNIST-1D paper CNN, to 90% test accuracy", [*PAPER_CNN, "trainer.epochs=100"]),
        ):
            run_dir = Path(tmp) / str(len(rows))
            start = time.perf_counter()
            subprocess.run(
                [exe, "run", *args, f"hydra.run.dir={run_dir}", f"device={device}", "trainer.progress=false"],
                check=True,
                capture_output=True,
            )
            wall = time.perf_counter() - start
            summary = json.loads((run_dir / "summary.json").read_text())
            import csv

            metrics = list(csv.DictReader(open(run_dir / "metrics.csv")))
            hit = next((r for r in metrics if float(r["test_acc"]) >= 0.9), None)
            rows.append(
                {
                    "job": label,
                    "process_wall_s": round(wall, 2),
                    "train_s": summary["train_seconds"],
                    "final_test_acc": summary["final_test_acc"],
                    "seconds_to_90pct": float(hit["elapsed_s"]) if hit else math.nan,
                    "steps_to_90pct": int(hit["step"]) if hit else None,
                }
            )
            if quick:
                break
    return rows


# 6. Threads under load ------------------------------------------------------------------------
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


def _threads_job(spec: str) -> None:
    """Internal (`--threads-job`): one training run in a fresh process with trainer.threads=<setting>;
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
            instantiate(c.optim, params=model.parameters()),
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
            [sys.executable, __file__, "--threads-job", json.dumps([setting, steps])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
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
                    raise RuntimeError(f"a --threads-job process exited with {p.returncode}")
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


def under_load(device, quick):
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
            instantiate(c.optim, params=model.parameters()),
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


PARTS = {
    "runner_overhead": runner_overhead,
    "data_path": data_path,
    "locally_connected": locally_connected,
    "frozen_transfer": frozen_transfer,
    "time_to_accuracy": time_to_accuracy,
    "under_load": under_load,
}


def markdown(name: str, rows: list[dict]) -> str:
    cols = list(rows[0])
    lines = [f"### {name}", "", "| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results/bench")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats (a smoke test)")
    parser.add_argument("--parts", nargs="*", default=list(PARTS), choices=list(PARTS))
    parser.add_argument("--peak", help=argparse.SUPPRESS)  # internal: one peak-memory measurement
    parser.add_argument("--threads-job", help=argparse.SUPPRESS)  # internal: one run of under_load
    args = parser.parse_args()
    if args.peak:
        return measure_peak_here(args.peak)
    if args.threads_job:
        return _threads_job(args.threads_job)
    device = pick_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    header = (
        f"Benchmarks on {device} ({os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads), {time.strftime('%Y-%m-%d')}: "
        f"`python scripts/bench.py {' '.join(sys.argv[1:])}`\n"
    )
    sections = [header]
    for name in args.parts:
        rows = PARTS[name](device, args.quick)
        import csv

        with open(out / f"{name}.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        sections.append(markdown(name, rows))
        print(sections[-1], flush=True)
    (out / "bench.md").write_text("\n".join(sections))


if __name__ == "__main__":
    main()

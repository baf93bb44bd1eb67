"""sharebench's benchmark suite: every claim is a ratio of variants timed side by side in one process
run (interleaved, after warm-up, median over repeats), because the machine is shared and noisy. On a
GPU the same code times with synchronisation and reports peak GPU memory.

Run:  python -m scripts.bench [--quick] [--parts NAME ...] [--out results/bench] [--device auto]
      (or python scripts/bench.py ...)
Writes results/bench/<part>.csv and results/bench/<part>.md (the table docs/performance.md includes),
then results/bench/goals.md (each goal met or not, from those tables: goals.py).
"""

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

# The parts, in the order they run: each is scripts/bench/<name>.py with measure(device, quick) -> rows.
# A name whose module is not in this checkout (a part still on another branch) is left out.
NAMES = [
    "runner_overhead",
    "data_path",
    "locally_connected",
    "local_twin_step",
    "position_maps",
    "frozen_transfer",
    "time_to_accuracy",
    "startup",
    "sweep_start",
    "plot_sweep",
    "under_load",
    "mlflow_cost",
    "quickstart",
]
PARTS = [name for name in NAMES if (Path(__file__).with_name(f"{name}.py")).exists()]
# run only when named: the README's commands in a fresh clone take many minutes, and rewrite the README
ON_REQUEST = {"quickstart"}


def measure(name: str, device, quick: bool) -> list[dict]:
    return importlib.import_module(f"scripts.bench.{name}").measure(device, quick)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="results/bench")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats (a smoke test)")
    parser.add_argument("--parts", nargs="*", default=[p for p in PARTS if p not in ON_REQUEST], choices=PARTS)
    parser.add_argument("--internal", nargs=2, metavar=("PART", "SPEC"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.internal:  # one step of a part that must run in a fresh process
        part, spec = args.internal
        return importlib.import_module(f"scripts.bench.{part}").internal(spec)

    from scripts.bench.harness import machine, write_part
    from sharebench.train.devices import pick_device

    device = pick_device(args.device)
    out = Path(args.out)
    for name in args.parts:
        load = os.getloadavg()[0]
        rows = measure(name, device, args.quick)
        flags = " --quick" if args.quick else ""
        caption = (
            f"Measured on {machine(device)}, load average {load:.1f} at the start (other processes' "
            f"work), {time.strftime('%Y-%m-%d')}: "
            f"`python -m scripts.bench --parts {name}{flags}`."
        )
        print(f"### {name}\n\n" + write_part(out, name, rows, caption), flush=True)
        publish = getattr(importlib.import_module(f"scripts.bench.{name}"), "publish", None)
        if publish is not None:  # a part whose record also writes text elsewhere (the README)
            publish(out)

    from scripts.bench.goals import GOALS, write_goals

    if all((out / f"{g.part}.md").exists() for g in GOALS):  # each goal met or not, from the tables now there
        print("### goals\n\n" + write_goals(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""How the seeds-until-decided design behaves: the docs' table of its error rates and the seeds it uses.

    python scripts/sequential_error.py            # writes docs/guide/sequential_error.md

Simulates SWEEPS sweeps of one pair per case, with paired differences drawn from a normal of known
mean (in units of their standard deviation), run through the design `hydra/sweeper=until_decided`
uses by default (first round 3 seeds, 2 more a round, budget 10, α 0.05; δ 0.5 sd) by
sharebench.compare.sequential.replay — the same function that decides real sweeps. Seeded: the same
command writes the same table; tests/test_sequential.py asserts the error rates on its own draws.
"""

import argparse
from pathlib import Path

import numpy as np

from sharebench.compare.sequential import Design, replay, schedule

REPO = Path(__file__).resolve().parents[1]
OUT = Path("docs/guide/sequential_error.md")
SWEEPS = 2000
BUDGET, FIRST, STEP, DELTA = 10, 3, 2, 0.5
CASES = (0.0, 0.5, 1.0, 2.0)  # true mean difference, in sd of the differences


def row(mean: float, rng) -> str:
    design = Design([str(s) for s in range(BUDGET)], schedule(FIRST, STEP, BUDGET), delta=DELTA)
    found = [
        replay([dict(zip(design.seeds, rng.normal(mean, 1.0, BUDGET)))], True, design, needs=False)[0]
        for _ in range(SWEEPS)
    ]
    verdicts = [f.decision.verdict for f in found]
    share = {v: verdicts.count(v) / SWEEPS for v in ("A better", "B better", "equivalent", "undecided")}
    seeds = np.mean([f.seeds if f.look is not None else BUDGET for f in found])
    cells = [f"{mean:g}", *(f"{share[v]:.3f}" for v in share), f"{seeds:.1f}"]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / OUT)
    args = parser.parse_args()
    head = [
        f"<!-- written by `python scripts/sequential_error.py`: {SWEEPS:,} simulated sweeps per row; do not edit -->",
        f"{SWEEPS:,} simulated sweeps of one pair per row: looks at {', '.join(map(str, schedule(FIRST, STEP, BUDGET)))} "
        f"seeds per arm, α 0.05, δ = {DELTA} sd; the true difference A − B in sd of the paired differences:",
        "",
        "| true A − B (sd) | A better | B better | equivalent | undecided | mean seeds per arm |",
        "|---|---|---|---|---|---|",
    ]
    rows = [row(mean, np.random.default_rng(k)) for k, mean in enumerate(CASES)]
    args.out.write_text("\n".join(head + rows) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Seeds until decided: verdicts that stay honest when seeds are added in rounds and the pairs are
looked at after each round.

Looking after every round and stopping when a pair looks decided is a way to find differences that
are not there: each look is another chance of a false verdict. The design here spends the error
budget α over the looks — look k (n_k seeds per arm of a budget of N) may spend α·(n_k − n_{k−1})/N,
so the looks together spend α — and within a look tests each of a pair's two hypotheses (difference,
equivalence within ±δ; verdicts.py) at its look's share divided by the number of pairs m. At most one
of a pair's two nulls is true, so a union bound over looks and pairs holds every false verdict,
jointly, at α, whatever the correlation between looks or pairs and whichever pairs stop early (a pair
is only ever judged on the first n_k seeds of the fixed seed order). A pair keeps the first verdict
it reaches; after the last look it stays undecided, with the seeds a fixed-size test would need.

The sweeper (hydra_plugins/sharebench_until_decided) runs the rounds and writes the design next to
the sweep (DESIGN_FILE); `sharebench plot` of that sweep replays the same looks on the records, so its
verdicts are the sweeper's. No torch, no Hydra.
"""

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sharebench.compare.verdicts import ALPHA, DELTA, UNDECIDED, Decision, pair_test, seeds_needed, verdict

DESIGN_FILE = "until_decided.json"


@dataclass(frozen=True)
class Design:
    seeds: list[str]  # the seed order: look k uses the first looks[k] of them
    looks: list[int]  # seeds per arm at each look, increasing, the last one the budget
    alpha: float = ALPHA
    delta: float = DELTA
    metric: str = "test_acc"
    baseline: str | None = None  # the pairs: every group against this selector, or the twins

    def spent(self) -> list[float]:
        """α spent at each look, in proportion to the seeds it adds: they sum to α."""
        steps = np.diff([0, *self.looks])
        return [self.alpha * s / self.looks[-1] for s in steps]

    def save(self, sweep_dir: Path) -> None:
        from sharebench.records.atomic import write_atomic

        write_atomic(Path(sweep_dir) / DESIGN_FILE, json.dumps(asdict(self), indent=1) + "\n")


def schedule(first: int, step: int, budget: int) -> list[int]:
    """Seeds per arm at each look: first, first + step, …, ending at the budget."""
    return [*range(first, budget, max(step, 1)), budget]


def load_design(sweep_dir: Path) -> Design | None:
    """The design a sweep was run with, or None (not a seeds-until-decided sweep, or unreadable)."""
    try:
        return Design(**json.loads((Path(sweep_dir) / DESIGN_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


@dataclass(frozen=True)
class SequentialDecision:
    decision: Decision  # at the look it was reached, or after the last look (undecided)
    look: int | None  # index of the look that decided it; None: undecided
    seeds: int  # seeds per arm the pair had at that look (or in all)


def replay(
    diffs: list[dict[str, float]], higher_is_better: bool, design: Design, needs: bool = True
) -> list[SequentialDecision]:
    """Each pair's verdict under the design. `diffs`: per pair, {seed: A − B} (missing seeds: runs that
    failed or never ran)."""
    m = len(diffs)
    out: list[SequentialDecision | None] = [None] * m
    for k, (n_k, spent) in enumerate(zip(design.looks, design.spent())):
        open_pairs = [i for i in range(m) if out[i] is None]
        if not open_pairs:
            break
        tests = [pair_test(_first(diffs[i], design.seeds, n_k), higher_is_better, design.delta) for i in open_pairs]
        level = spent / m  # per hypothesis: a union bound over looks and pairs (module doc)
        for i, test in zip(open_pairs, tests):
            decision = _at_level(test, level, design.delta)
            if decision.verdict != UNDECIDED:
                out[i] = SequentialDecision(decision, k, test.n)
    for i in range(m):
        if out[i] is None:  # undecided at the end: the seeds a fixed-size table of m pairs would need
            test = pair_test(_first(diffs[i], design.seeds, design.looks[-1]), higher_is_better, design.delta)
            level = design.alpha / m
            need, why = seeds_needed(test, level, design.delta) if needs else (None, "")
            out[i] = SequentialDecision(Decision(UNDECIDED, test, level, need, why), None, test.n)
    return out


def _first(diffs: dict[str, float], seeds: list[str], n: int) -> list[float]:
    return [diffs[s] for s in seeds[:n] if s in diffs and math.isfinite(diffs[s])]


def _at_level(test, level: float, delta: float) -> Decision:
    """One pair's verdict with both hypotheses at `level` (no step-down: the level is already split)."""
    return Decision(
        verdict(test, (test.p_difference <= level, delta > 0 and test.p_equivalence <= level)), test, level, None, ""
    )

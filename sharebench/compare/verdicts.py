"""A verdict for every paired comparison: `A better`, `B better`, `equivalent` within ±δ, or
`undecided` with the seeds per arm that would decide it.

Each pair A − B (one difference per seed both ran) carries two tests, Student's paired t:
- a difference: H0 "mean difference = 0", two-sided; rejected → A better or B better by its sign;
- an equivalence: H0 "|mean difference| ≥ δ", two one-sided tests (TOST); rejected → equivalent.
For one pair at α = 0.05 these are the 95% t-interval excluding 0 and the 90% t-interval inside ±δ.
Where a table makes several claims, they hold jointly: the 2m hypotheses of m pairs go through Holm's
step-down with Shaffer's bound (1986) — at most one of a pair's two nulls can be true (δ > 0), so
at most m are true and the j-th smallest p-value is held to α / min(m, 2m − j + 1). That is never less
powerful than Holm over 2m and controls the family-wise error at α under any dependence.

An undecided pair gets a power calculation (power 0.8, from the observed mean and spread of its
differences, at the per-claim level α/m): the seeds per arm that would decide a difference this size,
or show equivalence within ±δ, whichever needs fewer. No torch, no Hydra; numpy and scipy imported on use.
"""

import math
from dataclasses import dataclass

ALPHA = 0.05
POWER = 0.8
DELTA = 0.01  # the default equivalence margin in the records' units: 1 point of accuracy, 0.01 of a loss
MOST_SEEDS = 1000  # seeds-needed answers stop here: "more than 1,000"

A_BETTER, B_BETTER, EQUIVALENT, UNDECIDED = "A better", "B better", "equivalent", "undecided"


@dataclass(frozen=True)
class PairTest:
    """One pair's paired differences (A − B, signed so that positive means A is better) and tests."""

    n: int
    mean: float  # of A − B as recorded (a loss: positive = A's loss higher, so A worse)
    sd: float
    higher_is_better: bool
    wins: int  # seeds where A was better
    ties: int
    p_difference: float
    p_equivalence: float


def pair_test(diffs, higher_is_better: bool = True, delta: float = DELTA) -> PairTest:
    """The two tests of one pair from its differences A − B (one per seed)."""
    import numpy as np  # here, not above: the command line reads DELTA for its --help

    d = np.asarray([float(x) for x in diffs if math.isfinite(float(x))], dtype=float)
    n = len(d)
    better = d if higher_is_better else -d
    wins, ties = int(np.sum(better > 0)), int(np.sum(better == 0))
    if n < 2:
        return PairTest(n, float(d.mean()) if n else math.nan, math.nan, higher_is_better, wins, ties, 1.0, 1.0)
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    p_diff, p_equiv = _p_difference(mean, sd, n), _p_equivalence(mean, sd, n, delta)
    return PairTest(n, mean, sd, higher_is_better, wins, ties, p_diff, p_equiv)


def _p_difference(mean: float, sd: float, n: int) -> float:
    if sd == 0:  # every seed gave the same difference: no spread to test against
        return 1.0 if mean == 0 else 0.0
    from scipy.stats import t

    return float(2 * t.sf(abs(mean) / (sd / math.sqrt(n)), n - 1))


def _p_equivalence(mean: float, sd: float, n: int, delta: float) -> float:
    """TOST: the larger p of "mean ≤ −δ" and "mean ≥ δ"; 1 when δ = 0 (nothing is equivalent)."""
    if delta <= 0:
        return 1.0
    if sd == 0:
        return 0.0 if abs(mean) < delta else 1.0
    from scipy.stats import t

    se = sd / math.sqrt(n)
    return float(max(t.sf((mean + delta) / se, n - 1), t.cdf((mean - delta) / se, n - 1)))


def holm_shaffer(tests: list[PairTest], alpha: float = ALPHA, delta: float = DELTA) -> list[tuple[bool, bool]]:
    """(difference rejected, equivalence rejected) per pair, jointly at family-wise error α."""
    m = len(tests)
    hyps = [(t.p_difference, i, 0) for i, t in enumerate(tests)]
    if delta > 0:
        hyps += [(t.p_equivalence, i, 1) for i, t in enumerate(tests)]
    rejected = [[False, False] for _ in tests]
    for j, (p, i, kind) in enumerate(sorted(hyps), start=1):
        bound = min(m, 2 * m - j + 1) if delta > 0 else m - j + 1  # Shaffer's S1 bound; Holm's when δ = 0
        if p > alpha / bound:
            break
        rejected[i][kind] = True
    return [tuple(r) for r in rejected]


def verdict(test: PairTest, rejected: tuple[bool, bool]) -> str:
    """A better / B better / equivalent / undecided. A decided difference wins over equivalence
    (both at once: a difference smaller than δ, yet real)."""
    if rejected[0]:
        return A_BETTER if (test.mean > 0) == test.higher_is_better else B_BETTER
    return EQUIVALENT if rejected[1] else UNDECIDED


def seeds_to_differ(mean: float, sd: float, level: float, power: float = POWER) -> int | None:
    """Seeds per arm for a two-sided paired t-test at `level` to find a true difference `mean` with
    this spread, with probability `power`; None beyond MOST_SEEDS."""
    if not (math.isfinite(mean) and math.isfinite(sd)) or mean == 0:
        return None
    if sd == 0:
        return 2
    from scipy.stats import nct, t

    effect = abs(mean) / sd

    def chance(n: int) -> float:
        crit, ncp = t.ppf(1 - level / 2, n - 1), effect * math.sqrt(n)
        return _tail(nct.sf(crit, n - 1, ncp)) + _tail(nct.cdf(-crit, n - 1, ncp))

    return _fewest(chance, _normal_guess(effect, level / 2, power), power)


def seeds_to_match(mean: float, sd: float, delta: float, level: float, power: float = POWER) -> int | None:
    """Seeds per arm for TOST at `level` to show equivalence within ±δ when the true difference is
    `mean` (needs |mean| < δ); None when it cannot or beyond MOST_SEEDS."""
    if not (math.isfinite(mean) and math.isfinite(sd)) or abs(mean) >= delta:
        return None
    if sd == 0:
        return 2
    from scipy.stats import nct, t

    def chance(n: int) -> float:
        # reject both one-sided nulls: (mean + δ)/se > crit and (mean − δ)/se < −crit
        crit, se = t.ppf(1 - level, n - 1), sd / math.sqrt(n)
        return _tail(nct.cdf(-crit, n - 1, (mean - delta) / se)) - _tail(nct.cdf(crit, n - 1, (mean + delta) / se))

    # the nearer margin dominates: a one-sided test of distance δ − |mean| at `level`
    return _fewest(chance, _normal_guess((delta - abs(mean)) / sd, level, power), power)


def _tail(p: float) -> float:
    """scipy's noncentral t gives nan for some tails far below 1e-10: they are 0 here."""
    return 0.0 if math.isnan(p) else float(p)


def _fewest(chance, guess: float, power: float) -> int | None:
    """The least n ≥ 2 with chance(n) ≥ power, searched from the normal approximation `guess` (there the
    noncentral t is well inside what scipy computes accurately; far above it, it returns nan)."""
    if not math.isfinite(guess) or guess > MOST_SEEDS:
        return None
    n = max(2, int(guess))
    while n > 2 and chance(n - 1) >= power:
        n -= 1
    while chance(n) < power:
        n += 1
        if n > MOST_SEEDS:
            return None
    return n


def _normal_guess(effect: float, level: float, power: float) -> float:
    """n from the normal approximation ((z_level + z_power) / effect)²: a t-test needs a little more."""
    from scipy.stats import norm

    return ((norm.ppf(1 - level) + norm.ppf(power)) / effect) ** 2 if effect > 0 else math.inf


def seeds_needed(test: PairTest, level: float, delta: float) -> tuple[int | None, str]:
    """(seeds per arm, "difference" | "equivalence") that would decide this pair at `level` with power
    0.8 if its observed mean and spread are the truth, whichever needs fewer; (None, "") beyond reach."""
    options = [
        (n, kind)
        for n, kind in (
            (seeds_to_differ(test.mean, test.sd, level), "difference"),
            (seeds_to_match(test.mean, test.sd, delta, level), "equivalence"),
        )
        if n is not None
    ]
    return min(options) if options else (None, "")


@dataclass(frozen=True)
class Decision:
    verdict: str
    test: PairTest
    level: float  # the per-claim level the seeds-needed answer is computed at (α / pairs)
    seeds_needed: int | None  # for an undecided pair: seeds per arm that would decide it (None: > MOST_SEEDS)
    needed_for: str  # "difference" | "equivalence" | "" (decided, or nothing would decide it)


def decide(tests: list[PairTest], alpha: float = ALPHA, delta: float = DELTA, needs: bool = True) -> list[Decision]:
    """Every pair of one table decided jointly (holm_shaffer), undecided ones with the seeds that would
    decide them (unless not `needs`: simulations ask for verdicts only)."""
    level = alpha / max(len(tests), 1)
    out = []
    for test, rejected in zip(tests, holm_shaffer(tests, alpha, delta)):
        v = verdict(test, rejected)
        need, why = None, ""
        if v == UNDECIDED and needs:
            need, why = seeds_needed(test, level, delta)
        out.append(Decision(v, test, level, need, why))
    return out


def check_delta(value) -> float:
    """δ as a number ≥ 0, or ValueError with the reason (the callers word it for the user)."""
    try:
        delta = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number") from None
    if not math.isfinite(delta) or delta < 0:
        raise ValueError(f"{value!r} must be a finite number ≥ 0")
    return delta

"""Verdicts on paired comparisons: their error rates on simulated arms with known differences (a false
'A better' among equal arms, a false 'equivalent' at the margin, jointly over many pairs), the power
calculation behind 'about N seeds would decide', and one pair's verdict agreeing with its interval."""

import numpy as np
import pytest

from sharebench.compare.statistics import interval
from sharebench.compare.verdicts import (
    check_delta,
    decide,
    holm_shaffer,
    pair_test,
    seeds_to_differ,
    seeds_to_match,
    verdict,
)

REPS = 2000


def _verdicts(diffs_per_pair, delta):
    return [d.verdict for d in decide([pair_test(d, True, delta) for d in diffs_per_pair], 0.05, delta, needs=False)]


@pytest.mark.parametrize("pairs, n", [(1, 3), (5, 5), (14, 10)])
def test_equal_arms_get_a_false_difference_at_most_5_percent_of_the_time(pairs, n):
    rng = np.random.default_rng(pairs)
    false = 0
    for _ in range(REPS):
        verdicts = _verdicts(rng.normal(0, 1, size=(pairs, n)), delta=0.5)
        false += any(v in ("A better", "B better") for v in verdicts)
    assert false / REPS <= 0.05 + 0.012, f"family-wise false difference rate {false / REPS:.3f}"


@pytest.mark.parametrize("pairs, n", [(1, 5), (5, 10)])
def test_arms_at_the_margin_are_called_equivalent_at_most_5_percent_of_the_time(pairs, n):
    """True difference exactly δ: 'equivalent' is false; TOST keeps it at ≤ α, jointly."""
    rng = np.random.default_rng(10 + pairs)
    false = 0
    for _ in range(REPS):
        verdicts = _verdicts(rng.normal(0.5, 0.3, size=(pairs, n)), delta=0.5)
        false += "equivalent" in verdicts
    assert false / REPS <= 0.05 + 0.012, f"family-wise false equivalence rate {false / REPS:.3f}"


def test_one_pair_verdict_is_its_95_percent_interval():
    rng = np.random.default_rng(3)
    for _ in range(300):
        diffs = rng.normal(0.4, 1, size=4)
        low, high = interval(diffs)
        (v,) = _verdicts([diffs], delta=0)
        assert (v == "undecided") == (low <= 0 <= high)
        assert v != "B better" or high < 0


def test_seeds_needed_gives_the_power_it_promises():
    n = seeds_to_differ(0.5, 1.0, 0.05)
    assert 30 <= n <= 36, "a paired t-test needs about 34 pairs for d = 0.5 at 80% power (G*Power)"
    rng = np.random.default_rng(4)
    found = np.mean([_verdicts([rng.normal(0.5, 1, size=n)], 0)[0] == "A better" for _ in range(2000)])
    assert 0.76 <= found <= 0.86
    assert seeds_to_differ(0.001, 1.0, 0.05) is None, "beyond 1,000 seeds: say so, do not count on"
    m = seeds_to_match(0.0, 1.0, 0.5, 0.05)
    found = np.mean([_verdicts([rng.normal(0, 1, size=m)], 0.5)[0] == "equivalent" for _ in range(2000)])
    assert 0.76 <= found <= 0.88, f"TOST with {m} seeds showed equivalence in {found:.2f}"


def test_undecided_pairs_say_what_would_decide_them():
    (d,) = decide([pair_test([0.5, -0.2, 0.9], True, 0.01)])
    assert d.verdict == "undecided" and d.needed_for == "difference" and d.seeds_needed > 3
    (d,) = decide([pair_test([0.001, -0.002, 0.0015, -0.001], True, 0.0015)], delta=0.0015)
    assert d.verdict == "undecided" and d.needed_for == "equivalence" and d.seeds_needed > 4


def test_holm_shaffer_is_holm_with_a_tighter_bound():
    tests = [pair_test(d, True, 0.1) for d in ([1, 1.1, 0.9, 1.05], [0.01, -0.01, 0.02, 0.0], [0.3, -0.2, 0.5, 0.1])]
    joint = holm_shaffer(tests, 0.05, 0.1)
    assert joint[0][0] and joint[1][1] and not any(joint[2]), joint
    assert verdict(tests[0], joint[0]) == "A better" and verdict(tests[1], joint[1]) == "equivalent"


def test_losses_and_ties():
    t = pair_test([-0.1, -0.2, 0.0], higher_is_better=False, delta=0.01)
    assert (t.wins, t.ties) == (2, 1)


@pytest.mark.parametrize("value", ["-0.1", "abc", "nan", "inf", None])
def test_bad_delta_is_refused(value):
    with pytest.raises(ValueError):
        check_delta(value)
    assert check_delta("0") == 0.0 and check_delta(0.02) == 0.02


def test_seeds_needed_at_a_strict_level_never_undercounts():
    """At α/14 a pair of 2 seeds has t(0.9982, 1) = 178 to beat: 2 is never enough, even for a huge
    effect (scipy's noncentral t is nan in those tails; they count as 0)."""
    assert seeds_to_differ(0.53, 0.068, 0.05 / 14) == 4
    assert seeds_to_differ(0.53, 0.068, 0.05) == 3

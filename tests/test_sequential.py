"""Seeds until decided, simulated: among equal arms the sequential design says 'A better' or 'B better'
at most 5% of the time however many rounds it looks; at the margin ±δ it says 'equivalent' at most 5%;
arms that differ by a known amount are decided, with the mean seeds it took."""

import numpy as np
import pytest

from sharebench.compare.sequential import Design, replay, schedule

SEEDS = [str(s) for s in range(20)]
REPS = 2000


def _run(rng, true_diffs, design, sd=1.0):
    """One sweep: every pair's differences drawn for the whole budget (a pair stopped early just never
    uses the rest: the design only ever reads the first n_k seeds), then the looks replayed."""
    diffs = [dict(zip(design.seeds, rng.normal(mu, sd, len(design.seeds)))) for mu in true_diffs]
    return replay(diffs, True, design, needs=False)


@pytest.mark.parametrize("pairs", [1, 4])
def test_equal_arms_false_verdict_rate_at_most_5_percent(pairs):
    design = Design(SEEDS[:10], schedule(3, 1, 10), delta=0.2)  # 8 looks: 3, 4, …, 10 seeds
    rng = np.random.default_rng(pairs)
    false = sum(
        any(d.decision.verdict in ("A better", "B better") for d in _run(rng, [0.0] * pairs, design))
        for _ in range(REPS)
    )
    assert false / REPS <= 0.05, f"false difference in {false / REPS:.3f} of sweeps"


def test_margin_false_equivalence_rate_at_most_5_percent():
    design = Design(SEEDS[:20], schedule(3, 2, 20), delta=0.5)
    rng = np.random.default_rng(7)
    false = sum(_run(rng, [0.5], design, sd=0.5)[0].decision.verdict == "equivalent" for _ in range(REPS))
    assert false / REPS <= 0.05, f"false equivalence in {false / REPS:.3f} of sweeps"


def test_a_real_difference_is_decided_early():
    design = Design(SEEDS[:10], schedule(3, 2, 10), delta=0.1)
    rng = np.random.default_rng(8)
    runs = [_run(rng, [2.0], design)[0] for _ in range(REPS)]
    decided = [r for r in runs if r.decision.verdict == "A better"]
    assert len(decided) / REPS >= 0.9, "a 2-sd difference is found within 10 seeds"
    assert not any(r.decision.verdict == "B better" for r in runs)
    mean_seeds = np.mean([r.seeds for r in decided])
    assert mean_seeds < 8, f"it stops early: {mean_seeds:.1f} seeds per arm on average"


def test_looks_and_spending():
    assert schedule(3, 2, 10) == [3, 5, 7, 9, 10] and schedule(3, 2, 3) == [3] and schedule(3, 3, 9) == [3, 6, 9]
    design = Design(SEEDS[:10], [3, 5, 10], alpha=0.05)
    assert sum(design.spent()) == pytest.approx(0.05) and design.spent()[0] == pytest.approx(0.015)


def test_a_pair_keeps_its_first_verdict_and_seed_order_rules():
    design = Design(["2", "0", "1", "3"], [2, 4], alpha=0.05, delta=0)
    # the first two seeds in design order ("2", "0") are far apart from zero; later ones cancel
    (d,) = replay([{"2": 5.0, "0": 5.0, "1": -5.0, "3": -5.0}], True, design)
    assert d.decision.verdict == "A better" and d.look == 0 and d.seeds == 2
    (d,) = replay([{"1": -5.0, "3": -5.0, "2": 5.0, "0": 5.1}], True, Design(["1", "3", "2", "0"], [2, 4], delta=0))
    assert d.decision.verdict == "B better"


@pytest.mark.slow
def test_docs_sequential_table_is_what_the_script_gives(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    out = tmp_path / "table.md"
    subprocess.run([sys.executable, "scripts/sequential_error.py", "--out", str(out)], cwd=repo, check=True)
    rows = lambda text: [line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]  # noqa: E731
    fresh, committed = rows(out.read_text()), rows((repo / "docs/guide/sequential_error.md").read_text())
    assert len(fresh) == 4 and len(committed) == 4
    for a, b in zip(fresh, committed):  # another CPU may round one sweep of 2,000 differently
        x, y = (np.array(r.strip("| ").split(" | "), dtype=float) for r in (a, b))
        assert x == pytest.approx(y, abs=0.002), "docs/guide/sequential_error.md is stale: run the script"
    false = [float(c) for c in committed[0].strip("| ").split(" | ")[1:3]]
    assert sum(false) <= 0.05, "equal arms: the documented false-difference rate holds α"

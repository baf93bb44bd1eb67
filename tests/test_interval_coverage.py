"""The intervals hold what they state: Student's t-interval of the mean covers the true mean 95% of the
time for normal seeds at every n the tables use, shown on thousands of synthetic groups; the docs'
coverage table (skewed and diverging seeds too) is what scripts/interval_coverage.py gives."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sharebench.compare.statistics import interval

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("n", [3, 5, 10, 30])
def test_t_interval_covers_95_percent_of_normal_groups(n):
    rng = np.random.default_rng(n)
    groups = rng.normal(0.9, 0.02, size=(4000, n))
    held = np.mean([low <= 0.9 <= high for low, high in map(interval, groups)])
    assert 0.93 <= held <= 0.97, f"n = {n}: the 95% t-interval held the mean in {held:.3f} of groups"


def test_the_old_percentile_bootstrap_would_fail_this_test():
    """What the test guards against: the bootstrap over 3 seeds is [min, max], which holds the mean
    only 1 − 2·(1/2)³ = 75% of the time."""
    rng = np.random.default_rng(1)
    groups = rng.normal(0.9, 0.02, size=(4000, 3))
    held = np.mean((groups.min(axis=1) <= 0.9) & (0.9 <= groups.max(axis=1)))
    assert abs(held - 0.75) < 0.02


def _cells(text: str) -> dict[tuple[str, str], list[float]]:
    rows = [line.split("|")[1:-1] for line in text.splitlines() if re.match(r"\| \S.*\| \d", line)]
    return {(r[0].strip(), r[1].strip()): [float(c) for c in r[2:]] for r in rows}


@pytest.mark.slow
def test_docs_coverage_table_is_what_the_script_gives(tmp_path):
    out = tmp_path / "coverage.md"
    subprocess.run([sys.executable, "scripts/interval_coverage.py", "--out", str(out)], cwd=REPO, check=True)
    committed, fresh = _cells((REPO / "docs/guide/interval_coverage.md").read_text()), _cells(out.read_text())
    assert committed.keys() == fresh.keys() and len(fresh) >= 6
    for key, cells in fresh.items():  # another CPU may round one group of 4,000 differently
        assert cells == pytest.approx(committed[key], abs=0.002), (
            f"{key}: docs/guide/interval_coverage.md is stale: run `python scripts/interval_coverage.py`"
        )

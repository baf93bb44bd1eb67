"""The bench (`python -m scripts.bench`, scripts/bench/) runs and writes its tables (no timing is
asserted: the machine is shared)."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ["-m", "scripts.bench"]  # run from the repository root


@pytest.mark.slow
def test_quick_bench_writes_every_table(tmp_path):
    parts = ["runner_overhead", "data_path", "locally_connected", "frozen_transfer"]
    out = subprocess.run(
        [sys.executable, *BENCH, "--quick", "--out", str(tmp_path), "--parts", *parts],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    for part in parts:
        assert (tmp_path / f"{part}.csv").exists()
        table = (tmp_path / f"{part}.md").read_text()  # what the docs include: the command, then the table
        assert f"`python -m scripts.bench --parts {part} --quick`" in table and "\n| --- |" in table
    paths = {(r["model"], r["data_path"]) for r in csv.DictReader(open(tmp_path / "data_path.csv"))}
    assert {
        (m, p) for m in ("mlp", "shared_cnn") for p in ("device-resident tensors", "DataLoader + ToTensor")
    } <= paths
    rows = {r["variant"]: r for r in csv.DictReader(open(tmp_path / "locally_connected.csv"))}
    assert float(rows["bmm of the layer's shape"]["both_of_bmm"]) == 1.0
    assert float(rows["F.conv2d (same FLOPs)"]["forward_of_conv"]) == 1.0
    assert all(float(r["forward_ms"]) > 0 and float(r["backward_ms"]) > 0 for r in rows.values())
    # peak memory is measured in a fresh process: the broadcast version's (B, O, K, L) temporary shows
    b, cin, cout, size, k = 32, 16, 32, 14, 3
    temporary_mib = b * cout * cin * k * k * size * size * 4 / 2**20
    assert float(rows["broadcast-multiply"]["peak_mib"]) > 0.9 * temporary_mib
    assert float(rows["LocallyConnected2d"]["peak_mib"]) < float(rows["broadcast-multiply"]["peak_mib"])


@pytest.mark.slow
def test_quick_under_load_writes_its_table(tmp_path):
    """The under_load part at a tiny size: two cases × two thread settings, each with a ratio."""
    out = subprocess.run(
        [sys.executable, *BENCH, "--quick", "--out", str(tmp_path), "--parts", "under_load"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows = list(csv.DictReader(open(tmp_path / "under_load.csv")))
    assert len(rows) == 4
    assert [r["threads"].split(" (")[0] for r in rows] == ["auto", "torch default"] * 2
    assert rows[0]["threads"] == "auto (1)"  # the MNIST-1D paper's CNN is too small for a second thread
    assert {r["case"].split(",")[0] for r in rows} == {
        "one core busy vs unloaded",
        "2 runs together vs one after the other",
    }
    assert all(float(r["ratio"]) > 0 and float(r["reference_s"]) > 0 and float(r["measured_s"]) > 0 for r in rows)
    assert "| case | threads |" in (tmp_path / "under_load.md").read_text()


@pytest.mark.parametrize("command", [["scripts/bench.py"], BENCH])
def test_both_entry_points_list_every_registered_part(command):
    """`python scripts/bench.py` and `python -m scripts.bench` are the same program, and every part
    module in scripts/bench/ with a measure() is registered (a new file cannot be forgotten)."""
    out = subprocess.run([sys.executable, *command, "--help"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    parts = (p for p in (ROOT / "scripts" / "bench").glob("*.py") if not p.name.startswith("_"))
    modules = {p.stem for p in parts if "def measure(device" in p.read_text()}
    listed = out.stdout.split("--parts")[1].split("}")[0]
    assert modules and all(name in listed for name in modules)


@pytest.mark.slow
def test_quick_position_maps_part_writes_a_share_for_every_case(tmp_path):
    """The position_maps part: the per-layer metrics against a run's evaluation period, as a ratio."""
    out = subprocess.run(
        [sys.executable, *BENCH, "--quick", "--out", str(tmp_path), "--parts", "position_maps"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows = list(csv.DictReader(open(tmp_path / "position_maps.csv")))
    assert [r["run"] for r in rows] == ["spectrum=conv", "spectrum=local", "spectrum=dense"]
    assert all(r["reference"] == "35 steps + evaluation" for r in rows)  # MNIST-1D: an evaluation per epoch
    assert all(float(r["metrics_ms"]) > 0 and float(r["metrics_share"].rstrip("%")) > 0 for r in rows)


def test_goals_table_is_the_one_the_bench_tables_give():
    """results/bench/goals.md (the Performance page's goals) is made from the committed tables, not
    typed: rewrite it with `python -m scripts.bench.goals` when a table changes."""
    from scripts.bench.goals import goals_table

    assert (ROOT / "results" / "bench" / "goals.md").read_text() == goals_table(ROOT / "results" / "bench")


def test_a_goal_is_met_only_when_every_row_it_names_meets_it(tmp_path):
    from scripts.bench.goals import Goal, verdict

    table = [{"variant": "a", "x": "0.5"}, {"variant": "a", "x": "0.3"}, {"variant": "b", "x": "9"}]
    assert verdict(Goal("m", "p", {"variant": "a"}, "x", "≥", 0.4), table) == ("0.5, 0.3", False)
    assert verdict(Goal("m", "p", {"variant": "a"}, "x", "≤", 0.5), table) == ("0.5, 0.3", True)
    share = [{"s": f"{v}%"} for v in (0.1, 0.2, 4.0, 6.0)]
    assert verdict(Goal("m", "p", {}, "s", "≤", 5, "%"), share) == ("0.1% – 6% (4 rows)", False)
    with pytest.raises(ValueError, match="no row"):
        verdict(Goal("m", "p", {"variant": "c"}, "x", "≥", 0.4), table)

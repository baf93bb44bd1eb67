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


@pytest.fixture
def quickstart(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from scripts.bench import quickstart

    return quickstart


def test_ci_runs_exactly_the_readme_quickstart_commands(quickstart):
    """.ci/run reads the README's two lines (install and run; test extras and tests) as the bench does."""
    commands = quickstart.commands((ROOT / "README.md").read_text())
    assert len(commands) == 2 and "pip install -e . &&" in commands[0] and commands[0].endswith("sharebench run")
    assert commands[1].startswith('pip install -e ".[dev]" && pytest ')
    ci = (ROOT / ".ci" / "run").read_text()
    (read,) = [line for line in ci.splitlines() if line.startswith("mapfile -t quickstart")]
    out = subprocess.run(
        ["bash", "-c", read + '\nprintf "%s\\n" "${quickstart[@]}"'], capture_output=True, text=True, cwd=ROOT
    )
    assert out.stdout.splitlines() == commands, out.stderr
    assert ci.rstrip().endswith("pytest -n auto -m slow")  # then the tests the README's command leaves out


def test_quickstart_steps_are_timed_until_one_fails(quickstart, tmp_path):
    rows = quickstart._timed(["true && echo '3 passed, 1 deselected in 2.50s'", "false && echo never"], tmp_path)
    assert [(r["line"], r["step"]) for r in rows] == [
        (1, "true"),
        (1, "echo '3 passed, 1 deselected in 2.50s'"),
        (2, "false"),
        (2, "echo never"),
    ]
    assert all(isinstance(r["wall_s"], float) for r in rows[:2]) and [r["result"] for r in rows[2:]] == [
        "failed",
        "not run",
    ]
    caption = "Measured on cpu (AMD EPYC, 2 CPUs), torch 2.4, 2 threads, 2026-12-07: `python -m scripts.bench --parts quickstart`."
    text = quickstart.sentence(
        caption, [{**r, "wall_s": 100.0 * (i + 1), "load_1min": "3.5"} for i, r in enumerate(rows[:2])]
    )
    assert text.startswith("Timed in a fresh clone on cpu (AMD EPYC, 2 CPUs), torch 2.4, 2 threads, 2026-12-07")
    assert "the first command took 5.0 min (`true` 1.7 min, `echo '3 passed, 1 deselected in 2.50s'` 3.3 min)" in text


def test_readme_states_the_quickstart_times_of_the_bench_record(quickstart):
    """The README's sentence is what the bench's record gives (python -m scripts.bench --parts quickstart)."""
    region = quickstart.REGION.search((ROOT / "README.md").read_text())
    assert region, "the README lost its quickstart times markers"
    record = ROOT / "results" / "bench" / "quickstart.csv"
    written = region.group(0)[len(region.group(1)) : -len(region.group(2))]
    assert written == (quickstart.expected(record.parent) if record.exists() else "")


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

"""scripts/bench.py runs and writes its tables (no timing is asserted: the machine is shared)."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "scripts" / "bench.py"


@pytest.mark.slow
def test_quick_bench_writes_every_table(tmp_path):
    parts = ["runner_overhead", "data_path", "locally_connected", "frozen_transfer"]
    out = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--out", str(tmp_path), "--parts", *parts],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    for part in parts:
        assert (tmp_path / f"{part}.csv").exists()
    assert all(f"### {part}" in (tmp_path / "bench.md").read_text() for part in parts)
    paths = {(r["model"], r["data_path"]) for r in csv.DictReader(open(tmp_path / "data_path.csv"))}
    assert {
        (m, p) for m in ("mlp", "shared_cnn") for p in ("device-resident tensors", "DataLoader + ToTensor")
    } <= paths
    rows = {r["variant"]: r for r in csv.DictReader(open(tmp_path / "locally_connected.csv"))}
    assert float(rows["bmm of the layer's shape"]["fraction_of_bmm"]) == 1.0
    # peak memory is measured in a fresh process: the broadcast version's (B, O, K, L) temporary shows
    b, cin, cout, size, k = 32, 16, 32, 14, 3
    temporary_mib = b * cout * cin * k * k * size * size * 4 / 2**20
    assert float(rows["broadcast-multiply"]["peak_mib"]) > 0.9 * temporary_mib
    assert float(rows["LocallyConnected2d"]["peak_mib"]) < float(rows["broadcast-multiply"]["peak_mib"])


@pytest.mark.slow
def test_quick_under_load_writes_its_table(tmp_path):
    """The under_load part at a tiny size: two cases × two thread settings, each with a ratio."""
    out = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--out", str(tmp_path), "--parts", "under_load"],
        capture_output=True,
        text=True,
        timeout=600,
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
    assert "### under_load" in (tmp_path / "bench.md").read_text()

"""scripts/gpu_check.py: its --dry mode runs every check on the CPU; without a GPU, its table says so."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu_check.py"


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=900, env=env)


def test_dry_run_passes_every_check_on_the_cpu(tmp_path):
    done = run("--dry", "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = (tmp_path / "gpu_check.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith(("| check", "| ---"))]
    assert [row.split(" | ")[0][2:] for row in rows] == [
        "amp shared_cnn",
        "amp local_cnn",
        "amp tiled_cnn",
        "amp gru",
        "no sync",
        "resume",
        "bench",
    ]
    assert all(" | pass | " in row for row in rows)
    assert "skipped the sync debug mode: CUDA only" in table  # a CUDA-only part says why it skips
    assert "bit-identical" in table and "no GPU used (--dry)" in table


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here: the script would run its checks")
def test_without_a_gpu_the_table_says_no_gpu_run_was_made(tmp_path):
    done = run("--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    note = (tmp_path / "gpu_check.md").read_text()
    assert note.startswith("No GPU run has been made yet") and "| check |" not in note

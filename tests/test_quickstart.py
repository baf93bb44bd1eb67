"""The README's quickstart run, exactly as written: offline, on MNIST-1D, with the default config."""

import json

from helpers.commands import sharebench


def test_default_run_learns_mnist1d_and_the_shared_cnn_beats_the_mlp(tmp_path):
    out = sharebench("run", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (cnn,) = [json.loads(p.read_text()) for p in (tmp_path / "results" / "runs").glob("*/*/summary.json")]
    assert cnn["model"] == "shared_cnn" and cnn["dataset"] == "mnist1d" and cnn["status"] == "completed"
    assert cnn["test_size"] == 1000 and cnn["train_size"] + cnn["val_size"] == 4000
    assert cnn["final_test_acc"] >= 0.85, cnn

    out = sharebench("run", "model=mlp", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    mlp = json.loads(next((tmp_path / "results" / "runs").glob("*/*_mlp_mnist1d/summary.json")).read_text())
    # the MNIST-1D paper: CNN about 94%, MLP about 68%; a shared kernel must clearly win
    assert cnn["final_test_acc"] > mlp["final_test_acc"] + 0.1, (cnn["final_test_acc"], mlp["final_test_acc"])

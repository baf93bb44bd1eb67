"""The command line: help, list, and one clear line with exit code 2 for every user mistake. That the
commands which train nothing import neither torch nor Hydra is tested on a real sweep in test_compare.py."""

import pytest
from helpers.commands import sharebench
from helpers.configs import TINY


def test_list_names_every_group(tmp_path):
    out = sharebench("list", cwd=tmp_path)
    assert out.returncode == 0
    lines = dict(
        line.split(":", 1) for line in out.stdout.splitlines() if ":" in line and not line.startswith("Choose")
    )
    assert {"shared_cnn", "local_cnn", "mlp"} <= set(x.strip() for x in lines["model"].split(","))
    assert {"adam", "adamw", "sgd"} <= set(x.strip() for x in lines["optim"].split(","))
    assert "mnist1d" in lines["dataset"] and "synthetic" in lines["dataset"]


def test_top_level_help(tmp_path):
    out = sharebench("--help", cwd=tmp_path)
    assert out.returncode == 0 and "run" in out.stdout and "list" in out.stdout


def test_run_help_is_hydras_with_groups(tmp_path):
    out = sharebench("run", "--help", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (models,) = [line for line in out.stdout.splitlines() if line.startswith("model: ")]
    assert {
        "local_cnn",
        "mlp",
        "shared_cnn",
        "resnet_transfer",
        "tied_pair",
        "tiled_cnn",
        "rnn",
        "unrolled_rnn",
        "dynamic_net",
    } <= set(models[len("model: ") :].split(", "))
    assert "optim: adam, adamw, sgd" in out.stdout
    assert not (tmp_path / "results").exists()


def test_cfg_job_prints_config_without_running(tmp_path):
    out = sharebench("run", "model=local_cnn", "optim.lr=0.5", "--cfg", "job", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "layer: local" in out.stdout and "lr: 0.5" in out.stdout
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["model=nope"], "unknown model 'nope'"),
        (["optim=adm"], "did you mean adam"),
        (["optim.lr=abc"], "optim.lr='abc'"),
        (["optim.lr=-1"], "optim.lr=-1"),
        (["trainer.epoch=5"], "did you mean trainer.epochs"),
        (["trainer.batch_size=0"], "trainer.batch_size=0"),
        (["trainer.schedule=linear"], "trainer.schedule"),
        (["model.channels=[16,abc]"], "model.channels"),
        (["device=gpu"], "device='gpu'"),
        (["seed=x=y"], "cannot parse"),
        (["-m", "model=shared_cnn,nope", "seed=0,1"], "unknown model 'nope'"),
        (["model=shared_cnn,mlp"], "--multirun"),
        (["hydra/launcher=nope"], 'pip install -e ".[launchers]"'),
        (["-m", "optim.lr=interval(0.001,0.1)"], "hydra/sweeper=optuna"),
    ],
)
def test_bad_override_is_one_line_and_exit_2(tmp_path, args, needle):
    out = sharebench("run", *args, cwd=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sharebench: error:"), out.stderr
    assert needle in lines[0]
    assert "Traceback" not in out.stderr + out.stdout
    assert not (tmp_path / "results").exists(), "nothing is written for a rejected command"


def test_impossible_shape_is_one_line_and_exit_2(tmp_path):
    """A kernel larger than the input passes config checks but not the model: still one line."""
    out = sharebench(
        "run",
        "dataset=synthetic",
        "dataset.shape=[1,4,4]",
        "model.kernel_size=9",
        "model.padding=0",
        "trainer.progress=false",
        cwd=tmp_path,
    )
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    errors = [line for line in out.stderr.splitlines() if "sharebench: error:" in line]
    assert len(errors) == 1 and "kernel" in errors[0]


def test_a_run_shows_one_short_line_per_evaluation_and_logs_everything(tmp_path):
    out = sharebench("run", *TINY, "trainer.max_steps=4", "trainer.eval_every=2", "hydra.run.dir=r", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    assert [line.split(" · ")[0] for line in lines if line.startswith("step ")] == ["step 2/4", "step 4/4"]
    assert "  files       r" in lines
    log = (tmp_path / "r" / "sharebench.log").read_text()
    assert log.count("[sharebench.detail]") >= 3 and "val loss" in log  # the full lines, the log only

"""sharebench from Python: `import sharebench` is instant (no torch, no Hydra), compose and run are the
command's own (its checks, its one-line refusals, its run dir and records), assemble makes what a run
trains, and load gives the tables and figures `sharebench plot` writes."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from helpers.commands import run_in_process, sharebench
from helpers.configs import TINY, make_cfg
from helpers.runs import curves, make_run

import sharebench as sb
from sharebench.compare.comparison_files import write_comparison
from sharebench.errors import UserError
from sharebench.run import experiment

RUN = (*TINY, "model=mlp", "trainer.max_steps=6", "trainer.eval_every=3", "trainer.plots=false", "trainer.threads=1")
HEAVY = ("torch", "hydra")


def imported_after(code: str) -> list[str]:
    """The heavy packages a fresh Python holds after running `code`."""
    check = f"{code}\nimport sys\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return eval(done.stdout.strip().splitlines()[-1])


def test_import_sharebench_imports_neither_torch_nor_hydra():
    assert imported_after("import sharebench; sharebench.compose, sharebench.run, sharebench.load") == []


def test_sharebench_run_is_the_call_and_still_the_package():
    import sharebench.run.job  # noqa: F401  Python sets `sharebench.run` to the package on import

    assert callable(sb.run) and sb.run.job.run_job  # Hydra's `sharebench.run.…` targets resolve through it
    from hydra.utils import get_class

    assert get_class("sharebench.run.sweep_outcome.SweepOutcome").__name__ == "SweepOutcome"


def test_compose_is_the_commands_config():
    cfg = sb.compose(*TINY, "model=local_cnn", "optim.lr=0.01")
    assert cfg == make_cfg(*TINY, "model=local_cnn", "optim.lr=0.01") and "hydra" not in cfg


@pytest.mark.parametrize(
    "overrides",
    [
        ("optim=adm",),
        ("trainer.epoch=5",),
        ("dataset=synthetic", "dataset.shape=[1,4,4]", "model.kernel_size=9", "model.padding=0"),  # the dry build's
        ("model._target_=os.remove",),
    ],
)
def test_a_bad_override_raises_the_line_the_command_prints(tmp_path, monkeypatch, capsys, overrides):
    monkeypatch.chdir(tmp_path)
    assert run_in_process(list(overrides)) == 2
    line = capsys.readouterr().err.strip()
    for call in (sb.compose, sb.run):
        with pytest.raises(UserError) as raised:
            call(*overrides)
        assert line == f"sharebench: error: {raised.value}"
    assert not any(tmp_path.iterdir()), "nothing is written"


def test_flags_are_not_overrides(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for bad in (("-m", "seed=0,1"), ("--cfg", "job"), (make_cfg(),)):
        with pytest.raises(UserError, match="is not an override"):
            sb.run(*bad)
    assert not any(tmp_path.iterdir())


def test_run_makes_the_commands_run_dir_and_resumes_like_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    summary, run_dir = sb.run(*RUN)
    assert summary["status"] == "completed" and json.loads((run_dir / "summary.json").read_text())["run_dir"] == str(
        run_dir
    )
    assert run_dir.parent.parent == tmp_path / "results" / "runs" and run_dir.name.endswith("_mlp_synthetic")
    out = capsys.readouterr().out
    assert "step 3/6" in out and "── sharebench: mlp on synthetic" in out  # the command's lines
    assert "step 6/6" in (run_dir / "sharebench.log").read_text()

    command = tmp_path / "command"
    done = sharebench("run", *RUN, f"hydra.run.dir={command}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in run_dir.rglob("*")) == sorted(p.name for p in command.rglob("*"))
    for name in ("config.yaml", "overrides.yaml"):
        assert (run_dir / ".hydra" / name).read_text() == (command / ".hydra" / name).read_text(), name
    assert curves(run_dir) == curves(command)

    again, same = sb.run(f"resume={run_dir}")
    assert same == run_dir and again == summary and "already completed: skipped" in capsys.readouterr().out
    named, where = sb.run(*RUN, run_dir=tmp_path / "my run")
    assert where == tmp_path / "my run" and named["final_test_acc"] == summary["final_test_acc"]


def test_a_failing_run_raises_its_error_once_recorded(tmp_path, monkeypatch):
    # a module name no other test uses: Python keeps the first module of a name it imported
    (tmp_path / "crashy_api_test.py").write_text("def load(**kwargs):\n    raise RuntimeError('disk on fire')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr("sharebench.checks.arguments.check_run_args", lambda args: None)  # past the checks
    with pytest.raises(RuntimeError, match="disk on fire"):
        sb.run(*RUN, "dataset._target_=crashy_api_test.load", run_dir=tmp_path / "r")
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error"] == "RuntimeError: disk on fire"


def test_assemble_makes_what_a_run_trains_and_builds_the_model_once(tmp_path, monkeypatch):
    cfg = make_cfg(*RUN)
    built = []
    real_build = experiment.models.build
    monkeypatch.setattr(experiment.models, "build", lambda *a, **k: built.append(1) or real_build(*a, **k))
    reference = experiment.run(cfg, tmp_path)
    assert len(built) == 1, "run builds its model once"
    parts = sb.assemble(cfg)
    assert parts.device.type == "cpu" and parts.splits.input_shape == (1, 8, 8)
    assert [g["params"] for g in parts.optimizer.param_groups] == [list(parts.model.parameters())]
    rows = []
    assert parts.fit(rows.append).status == "completed"
    recorded = pd.read_csv(tmp_path / "metrics.csv")
    assert [r["test_acc"] for r in rows] == list(recorded["test_acc"])
    assert rows[-1]["test_acc"] == reference["final_test_acc"]


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """Three seeds of a shared model and its unshared twin, as run dirs on disk."""
    root = tmp_path_factory.mktemp("twins")
    for seed in range(3):
        make_run(root, f"s{seed}", "shared_cnn", seed, 0.80 + seed / 100, params=1_000, effective=9_000)
        make_run(root, f"l{seed}", "local_cnn", seed, 0.75 + seed / 50, params=9_000)
    return root


def test_load_gives_the_tables_and_figures_plot_writes(twins, tmp_path):
    loaded = sb.load(twins)
    assert not (twins / ".sharebench-index.npz").exists(), "load writes nothing (plot keeps an index)"
    *_, files = write_comparison([str(twins)], tmp_path / "plot")
    written = {f.stem: f for f in files}
    for frame, name in ((loaded.table, "comparison"), (loaded.paired, "paired"), (loaded.runs, "runs")):
        assert frame.to_csv(index=False, lineterminator="\n") == written[name].read_text(), name
    assert len(loaded.paired) == 1 and loaded.paired.iloc[0]["a"] == "shared_cnn"
    figures = loaded.figures()
    assert set(figures) == {stem for stem, f in written.items() if f.suffix == ".png"}
    assert all(type(f).__name__ == "Figure" for f in figures.values())
    with pytest.raises(UserError, match="metric=val_acc: no run recorded it"):
        sb.load(twins, metric="val_acc")


def test_load_and_its_figures_import_no_torch(twins):
    assert imported_after(f"import sharebench; sharebench.load({str(twins)!r}).figures()") == []

"""When things go wrong: signals, SIGKILL, crashes, divergence, malformed overrides, corrupted run dirs.

Nothing already written may be lost, every record stays readable, and resuming finishes the job
with exactly the curves of a run that was never interrupted (CPU, same seed).
"""

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers.commands import EXE, sharebench, wait_for
from helpers.configs import DIVERGING, TINY, make_cfg
from helpers.runs import curves, one_thread, start, stopper, training_started
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sharebench.cli import main as cli_main
from sharebench.configs import RunArgs
from sharebench.records.checkpoints import load_checkpoint
from sharebench.records.run_dir import read_csv, read_summary
from sharebench.run import experiment, job

# long enough to be killed mid-training, short enough to finish in seconds
LONG = (*TINY, "model=mlp", "trainer.max_steps=1000", "trainer.eval_every=7", "trainer.plots=false")


# ---- interruption and resume --------------------------------------------------------------------


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stops=st.lists(st.integers(0, 12), min_size=1, max_size=3),
    setup=st.sampled_from(
        [
            ("model=shared_cnn",),
            ("model=local_cnn", "trainer.schedule=onecycle"),
            ("model=mlp", "optim=sgd", "trainer.schedule=cosine", "trainer.batch_size=64"),
        ]
    ),
)
def test_interrupted_and_resumed_equals_uninterrupted(tmp_path_factory, stops, setup):
    cfg = make_cfg(*TINY, "trainer.max_steps=13", "trainer.eval_every=3", "trainer.plots=false", *setup)
    whole, pieces = tmp_path_factory.mktemp("whole"), tmp_path_factory.mktemp("pieces")
    reference = experiment.run(cfg, whole)
    for after in stops:  # each session stops `after` steps after it (re)started
        summary = experiment.run(cfg, pieces, should_stop=stopper(after), resume=load_checkpoint(pieces))
        if summary["status"] == "completed":
            break
        assert summary["status"] == "interrupted" and (pieces / "checkpoint.pt").exists()
    final = experiment.run(cfg, pieces, resume=load_checkpoint(pieces)) if summary["status"] != "completed" else summary
    assert final["status"] == "completed" and not (pieces / "checkpoint.pt").exists()
    assert curves(pieces) == curves(whole)
    assert [int(r["step"]) for r in read_csv(pieces / "steps.csv")] == list(range(1, 14))
    for key in ("final_test_acc", "final_test_loss", "final_val_loss", "best_val_acc", "final_train_loss", "steps"):
        assert final[key] == reference[key], key


@pytest.mark.parametrize(
    "setup",
    [
        ("model=shared_cnn", "augment.translate=2", "augment.flip=true"),
        ("model=tied_pair", "model.lam=0.1", "eval.shifts=[0,1]"),
    ],
)
def test_resume_is_exact_with_augmentation_and_model_hooks(tmp_path, setup):
    """The augmentation generator is checkpointed too; a model's penalty, targets and own metrics
    and the shifted-test columns come back the same."""
    cfg = make_cfg(*TINY, "trainer.max_steps=10", "trainer.eval_every=3", "trainer.plots=false", *setup)
    reference = experiment.run(cfg, tmp_path / "whole")
    assert experiment.run(cfg, tmp_path / "pieces", should_stop=stopper(4))["status"] == "interrupted"
    final = experiment.run(cfg, tmp_path / "pieces", resume=load_checkpoint(tmp_path / "pieces"))
    assert final["status"] == "completed" and curves(tmp_path / "pieces") == curves(tmp_path / "whole")
    extra = [k for k in reference if k.startswith(("final_test_acc_shift", "final_weight_distance"))]
    assert extra or "augment.flip=true" in setup
    for key in ("final_test_acc", "final_train_acc", "final_train_loss", *extra):
        assert final[key] == reference[key], key


def resume_in_process(args: list[str]) -> tuple[dict, Path]:
    """What `sharebench run ARGS` does after its checks, minus Hydra's process: resolve, compose, run."""
    from sharebench.run.resume_args import resolve_args

    resolved = resolve_args(RunArgs(args)).argv
    (run_dir,) = [a.split("=", 1)[1] for a in resolved if a.startswith("hydra.run.dir=")]
    cfg = make_cfg(*[a for a in resolved if not a.startswith("hydra.")])
    with one_thread():
        return job.run_job(cfg, run_dir, {}, multirun=False), Path(run_dir)


def test_sigterm_then_resume_dir_gives_the_uninterrupted_run(tmp_path):
    proc = start(*LONG, "hydra.run.dir=cut", cwd=tmp_path)
    cut = tmp_path / "cut"
    wait_for(lambda: training_started(cut))
    time.sleep(random.uniform(0, 0.5))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    summary = read_summary(cut)
    if summary["status"] == "completed":  # the signal came after the last step: nothing to resume
        pytest.skip("run finished before the signal")
    assert proc.returncode == 143, err
    assert summary["status"] == "interrupted" and f"sharebench run resume={cut}" in err
    assert (cut / "checkpoint.pt").exists()
    done = read_csv(cut / "steps.csv")
    assert [int(r["step"]) for r in done] == list(range(1, summary["steps"] + 1)), "every step so far is kept"

    final, run_dir = resume_in_process([f"resume={cut}"])  # the saved overrides come back by themselves
    assert run_dir == cut
    assert final["status"] == "completed" and final["resumed_from_step"] == summary["steps"]
    with one_thread():
        reference = experiment.run(make_cfg(*LONG), tmp_path / "ref")
    assert curves(cut) == curves(tmp_path / "ref")
    assert final["final_test_acc"] == reference["final_test_acc"]


def test_sigkill_leaves_readable_files_and_resume_true_finds_the_run(tmp_path, monkeypatch):
    proc = start(*LONG, cwd=tmp_path)
    wait_for(lambda: list(tmp_path.glob("results/runs/*/*/steps.csv")))
    (run,) = tmp_path.glob("results/runs/*/*")
    wait_for(lambda: len(read_csv(run / "metrics.csv")) > 2)
    time.sleep(random.uniform(0, 0.3))
    proc.kill()
    proc.wait(timeout=30)
    summary = read_summary(run)
    assert summary is not None and summary["status"] in ("running", "completed")
    metrics, steps = curves(run)  # both parse, whatever moment the kill hit
    assert [int(r["step"]) for r in steps] == list(range(1, len(steps) + 1))
    assert all(r["lr"] not in (None, "") for r in steps)
    assert len(steps) >= int(metrics[-1]["step"])
    if summary["status"] == "completed":
        return
    monkeypatch.chdir(tmp_path)
    final, run_dir = resume_in_process([*LONG, "resume=true"])  # no checkpoint: starts over in place
    assert run_dir == run.resolve() and final["status"] == "completed"
    assert [int(r["step"]) for r in read_csv(run / "steps.csv")] == list(range(1, 1001))


CRASHY = """
from sharebench.data import synthetic

def load(data_seed=0, **kwargs):
    if data_seed == 1:
        raise RuntimeError("disk on fire")
    return synthetic.load(data_seed=data_seed, **kwargs)
"""


def test_sweep_goes_on_past_a_crash_and_resumes_without_running_anything_twice(tmp_path):
    """Job 0 completes, job 1 crashes, job 2 is interrupted; resuming skips 0, re-does 1, continues 2."""
    (tmp_path / "crashy.py").write_text(CRASHY)
    sweep = (
        "-m",
        *LONG,
        "trainer.max_steps=250",
        "dataset._target_=crashy.load",
        "dataset.data_seed=0,1,2",
        "hydra.sweep.dir=sweep",
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(tmp_path)}
    proc = subprocess.Popen(
        [EXE, "run", *sweep], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    wait_for(lambda: training_started(tmp_path / "sweep" / "2"), timeout=120)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    first, crashed, cut = (read_summary(tmp_path / "sweep" / str(i)) for i in range(3))
    assert first["status"] == "completed" and cut["status"] == "interrupted"
    assert crashed["status"] == "failed" and crashed["error"] == "RuntimeError: disk on fire"
    assert "Traceback" in (tmp_path / "sweep" / "1" / "sharebench.log").read_text()
    assert "Traceback" not in err

    out = sharebench("run", *sweep, "resume=true", cwd=tmp_path, env=env)
    assert out.returncode == 1, out.stderr  # the sweep finished, but with a failed run
    assert "already completed: skipped" in out.stdout and "1 of 3 runs failed" in out.stderr
    summaries = [read_summary(tmp_path / "sweep" / str(i)) for i in range(3)]
    assert [s["status"] for s in summaries] == ["completed", "failed", "completed"]
    assert summaries[0]["wall_seconds"] == first["wall_seconds"], "the completed run was not run again"
    assert summaries[2]["resumed_from_step"] == cut["steps"] > 0
    assert [int(r["step"]) for r in read_csv(tmp_path / "sweep" / "2" / "steps.csv")] == list(range(1, 251))


def test_a_failing_single_run_exits_1_with_the_error_recorded(tmp_path, monkeypatch, capsys):
    (tmp_path / "crashy.py").write_text(CRASHY)
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = make_cfg(*TINY, "dataset._target_=crashy.load", "dataset.data_seed=1")
    with pytest.raises(SystemExit) as exited:
        job.run_job(cfg, str(tmp_path / "r"), {"model": "shared_cnn"}, multirun=False)
    assert exited.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sharebench: error: run failed with RuntimeError: disk on fire")
    summary = read_summary(tmp_path / "r")
    assert summary["status"] == "failed" and summary["error"] == "RuntimeError: disk on fire"
    assert summary["model"] == "shared_cnn" and "torch_version" in summary


def test_divergence_stops_within_a_step_on_cpu_and_keeps_the_metrics(tmp_path):
    cfg = make_cfg(
        *DIVERGING,
    )
    summary = experiment.run(cfg, tmp_path)
    steps = read_csv(tmp_path / "steps.csv")
    finite = [float(s["loss"]) < float("inf") for s in steps]  # NaN compares False too
    assert summary["status"] == "diverged"
    assert finite.index(False) == len(steps) - 1, "stopped at the first non-finite loss"
    assert summary["steps"] == len(steps) < 200 and read_csv(tmp_path / "metrics.csv")


# ---- reproducibility ----------------------------------------------------------------------------


def test_same_config_and_seed_give_identical_run_files(tmp_path):
    short = (*TINY, "model=shared_cnn", "trainer.max_steps=8", "trainer.eval_every=3", "trainer.plots=false")
    cfg = make_cfg(*short, "seed=5")
    a, b = experiment.run(cfg, tmp_path / "a"), experiment.run(cfg, tmp_path / "b")
    experiment.run(make_cfg(*short, "seed=6"), tmp_path / "c")
    assert curves(tmp_path / "c")[1] != curves(tmp_path / "a")[1]  # another seed: another loss curve
    where = ("train_seconds", "wall_seconds", "samples_per_second", "run_dir", "model_file")
    assert {k: v for k, v in a.items() if k not in where} == {k: v for k, v in b.items() if k not in where}
    assert curves(tmp_path / "a") == curves(tmp_path / "b")
    assert (tmp_path / "a" / "params.csv").read_bytes() == (tmp_path / "b" / "params.csv").read_bytes()
    for key in (
        "torch_version",
        "torchvision_version",
        "hydra_version",
        "omegaconf_version",
        "numpy_version",
        "python_version",
        "git_commit",
    ):
        assert key in a
    assert a["torch_version"] and a["numpy_version"]


# ---- malformed overrides ------------------------------------------------------------------------

KEYS = [
    "seed",
    "device",
    "optim.lr",
    "optim.momentum",
    "trainer.epochs",
    "trainer.max_steps",
    "trainer.batch_size",
    "trainer.eval_every",
    "trainer.schedule",
    "trainer.grad_clip",
    "trainer.amp",
    "model.channels",
    "model.kernel_size",
    "model.padding",
    "model.stride",
    "model.pool",
    "model.layer",
    "model.hidden",
    "dataset.shape",
    "dataset.val_size",
    "dataset.task",
    "model",
    "optim",
    "dataset",
    "+trainer.x",
    "+model.x",
    "trainer.epoch",
    "resume",
    "~seed",
    "model._target_",
]
VALUES = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "1e-9",
            "1e9",
            "null",
            "[]",
            "[0]",
            "[1,2]",
            "[1,4,4]",
            "[3,2,2]",
            "abc",
            "true",
            "nan",
            "inf",
            "{a:1}",
            "''",
            "mlp",
            "synthetic",
            "local",
            "max",
            "sgd",
            "cosine",
            "9",
        ]
    ),
    st.text(alphabet="ab1-.,[]{}'\"=:$ ", max_size=6),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(KEYS), VALUES), min_size=1, max_size=3), st.booleans())
@example(pairs=[("model._target_", "abc")], multirun=False)  # a module, not a callable: once a traceback
def test_malformed_overrides_end_in_one_line_or_pass(pairs, multirun):
    """Whatever a user types, the checks before Hydra either accept it or raise one UserError line."""
    from sharebench.checks.arguments import check_run_args
    from sharebench.errors import UserError
    from sharebench.run.resume_args import resolve_args

    args = (["-m"] if multirun else []) + [f"{k}={v}" for k, v in pairs] + ["dataset=synthetic"] * 0
    try:
        check_run_args(resolve_args(RunArgs(args)))
    except UserError as err:
        assert str(err) and "\n" not in str(err) and "Traceback" not in str(err)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["+trainer.foo=1"], "unknown key 'trainer.foo'"),
        (["+optim.momentum=0.9"], "torch.optim.Adam takes"),
        (["model._target_=nowhere.Model"], "cannot be imported"),
        (["model._target_=abc"], "names a module, not a class or function"),
        (["-m", "seed=range(0,3),5"], "a comma list holds plain values only"),
        (["logger._target_=abc"], "logger._target_='abc' names a module"),
        (["logger=tensorboard", "+logger.colour=red"], "unknown key 'logger.colour'"),
        (["dataset=synthetic", "dataset.shape=[1,2,3,4]"], "a CNN takes"),
        (["dataset=synthetic", "dataset.shape=[0,8]"], "dataset.shape"),
        (["resume=no/such/dir"], "no sharebench run there"),
        (["-m", "seed=0,1", "resume=some/dir"], "to resume a sweep"),
        (["model=0"], "model takes the name of one option"),
        (["seed=4294967296"], "seed=4294967296"),
        (["dataset.val_size=4000"], "leaves no training data"),
        (["optim=sgd", "optim.nesterov=true", "optim.momentum=0"], "cannot make the optimizer torch.optim.SGD"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, capsys, args, needle):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["run", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sharebench: error:") and needle in err[0], err
    assert list(tmp_path.iterdir()) == []


def test_a_fused_optimizer_on_a_device_without_fused_kernels_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    """As on an MPS machine whose PyTorch has no fused Adam for it: said before anything is written."""
    import torch.utils._foreach_utils as foreach_utils

    monkeypatch.setattr(foreach_utils, "_get_fused_kernels_supported_devices", lambda: ["cuda"])
    monkeypatch.chdir(tmp_path)
    assert cli_main(["run", "device=cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "sharebench: error: optim.fused=true, but PyTorch has no fused optimizer kernels for "
        "device=cpu: use optim.fused=false"
    ]
    assert list(tmp_path.iterdir()) == []
    from sharebench.checks.dry_build import check_device

    check_device(make_cfg("device=cpu", "optim.fused=false"))  # the fix named passes
    check_device(make_cfg("device=cpu", "optim=sgd"))  # SGD is not fused unless asked


def test_pointing_at_existing_results_without_resume_is_refused(tmp_path, monkeypatch, capsys):
    (tmp_path / "old" / "0").mkdir(parents=True)
    (tmp_path / "old" / "0" / "summary.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert cli_main(["run", "-m", "seed=0,1", "hydra.sweep.dir=old"]) == 2
    assert "add resume=true" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "old").rglob("*")) == ["0", "summary.json"]


# ---- torn and corrupted files -------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    losses=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=20),
    cut=st.floats(0, 1),
)
def test_a_steps_csv_cut_anywhere_reads_as_a_prefix_of_its_rows(tmp_path_factory, losses, cut):
    from sharebench.records.run_dir import RunRecorder

    rec = RunRecorder(tmp_path_factory.mktemp("run"))
    rows = [{"step": i + 1, "epoch": i / 4, "loss": v, "lr": 0.01} for i, v in enumerate(losses)]
    for chunk in (rows[: len(rows) // 2], rows[len(rows) // 2 :]):
        if chunk:
            rec.add_steps(chunk)
    path = rec.dir / "steps.csv"
    full = read_csv(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(cut * len(data))])  # a SIGKILL in the middle of an append
    torn = read_csv(path)
    assert torn == full[: len(torn)]


def interrupted_run(tmp_path: Path, *overrides: str):
    cfg = make_cfg(
        *TINY, "model=shared_cnn", "trainer.max_steps=12", "trainer.eval_every=5", "trainer.plots=false", *overrides
    )
    experiment.run(cfg, tmp_path / "ref")
    experiment.run(cfg, tmp_path / "run", should_stop=stopper(7))
    return make_cfg(
        *TINY,
        "model=shared_cnn",
        "trainer.max_steps=12",
        "trainer.eval_every=5",
        "trainer.plots=false",
        "resume=true",
        *overrides,
    )


def corrupt_checkpoint(run):
    data = (run / "checkpoint.pt").read_bytes()
    (run / "checkpoint.pt").write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "damage, continues",
    [
        (lambda run: (run / "summary.json").write_text('{"status": "compl'), True),
        (lambda run: (run / "metrics.csv").unlink(), True),
        (lambda run: open(run / "steps.csv", "a").write("8,2.0,0.12"), True),  # torn line past the checkpoint
        (lambda run: (run / "steps.csv").write_text("garbage\n"), True),
        (lambda run: (run / "steps.csv").write_bytes(b"\x00\xff\xfe" * 50), True),
        (lambda run: (run / "summary.json").write_text("[1, 2]"), True),
    ],
)
def test_a_corrupted_run_dir_resumes_or_starts_over_but_completes(tmp_path, damage, continues):
    cfg = interrupted_run(tmp_path)
    run = tmp_path / "run"
    damage(run)
    summary = job.run_job(cfg, str(run), {}, multirun=True)
    assert summary["status"] == "completed"
    assert summary["resumed_from_step"] == (7 if continues else None)
    metrics, steps = curves(run)
    ref_metrics, ref_steps = curves(tmp_path / "ref")
    assert metrics == ref_metrics
    if continues and (run / "steps.csv").read_text().count("\n") < 13:  # the garbage cases lost steps 1-7
        assert [r["step"] for r in steps] == [str(i) for i in range(8, 13)]
    else:
        assert steps == ref_steps


@pytest.mark.parametrize("damage", [corrupt_checkpoint, lambda run: (run / "checkpoint.pt").write_text("no")])
def test_a_damaged_checkpoint_is_refused_and_the_run_left_alone(tmp_path, capsys, damage):
    cfg = interrupted_run(tmp_path)
    damage(tmp_path / "run")
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    assert job.run_job(cfg, str(tmp_path / "run"), {}, multirun=True) is None
    assert "checkpoint.pt" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()} == before


def test_resume_with_other_overrides_is_refused_and_leaves_the_run_alone(tmp_path, capsys):
    cfg = interrupted_run(tmp_path)
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    other = make_cfg(
        *TINY,
        "model=shared_cnn",
        "trainer.max_steps=12",
        "trainer.eval_every=5",
        "trainer.plots=false",
        "resume=true",
        "optim.lr=0.5",
    )
    assert cfg.optim.lr != other.optim.lr
    assert job.run_job(other, str(tmp_path / "run"), {}, multirun=True) is None
    assert "optim.lr=0.01" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()} == before


def test_resume_true_finds_the_latest_sweep_with_the_same_overrides(tmp_path, monkeypatch):
    from sharebench.run.resume_args import resolve_args

    monkeypatch.chdir(tmp_path)
    for name, task in (
        ("00-00-00-000001", ["model=mlp", "seed=0,1"]),
        ("00-00-00-000002", ["seed=0,1", "model=mlp"]),
        ("00-00-00-000003", ["model=mlp", "seed=0,1,2"]),
    ):
        sweep = tmp_path / "results" / "multirun" / "2026-01-01" / name
        sweep.mkdir(parents=True)
        (sweep / "multirun.yaml").write_text(json.dumps({"hydra": {"overrides": {"task": task}}}))
        os.utime(sweep, (time.time() + len(name), int(name[-1])))  # the later the name, the newer
    args = resolve_args(RunArgs(["-m", "model=mlp", "seed=0,1", "resume=true"])).argv
    assert args[-1] == f"hydra.sweep.dir={tmp_path / 'results/multirun/2026-01-01/00-00-00-000002'}"
    assert resolve_args(RunArgs(["-m", "model=mlp", "seed=5", "resume=true"])).argv == [
        "-m",
        "model=mlp",
        "seed=5",
        "resume=true",
    ]


def test_a_damaged_steps_row_is_dropped_on_resume(tmp_path):
    cfg = interrupted_run(tmp_path)
    run = tmp_path / "run"
    rows = (run / "steps.csv").read_text().splitlines()
    rows[3] = "x,y,z,w"  # step 3 damaged
    (run / "steps.csv").write_text("\n".join(rows) + "\n")
    assert job.run_job(cfg, str(run), {}, multirun=True)["status"] == "completed"
    steps = [r["step"] for r in read_csv(run / "steps.csv")]
    assert steps == [str(i) for i in (1, 2, *range(4, 13))]


def test_the_batched_nonfinite_check_trips_within_its_interval():
    """The route a GPU takes (a flag over the last `every` losses; MPS's, without the asynchronous
    copy), exercised with CPU tensors."""
    import torch

    from sharebench.train.divergence import NonFiniteWatch

    watch = NonFiniteWatch(torch.device("mps"))
    watch.every = 3
    losses, tripped = [], []
    for value in (1.0, 2.0, 3.0, 4.0, float("nan"), 5.0, 6.0):
        losses.append(torch.tensor(value))
        tripped.append(watch.tripped(losses))
    assert tripped == [False, False, False, False, False, True, False]  # NaN at 5th, seen at 6th (3·2)


def test_the_cpu_check_reads_each_loss():
    import torch

    from sharebench.train.divergence import NonFiniteWatch

    watch = NonFiniteWatch(torch.device("cpu"))
    losses = [torch.tensor(1.0)]
    assert not watch.tripped(losses)
    losses.append(torch.tensor(float("inf")))
    assert watch.tripped(losses)

"""Hydra launcher plugins (the `launchers` extra): a real sweep with joblib and with submitit_local
gives the same comparison. Skipped when the plugins are not installed."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers.commands import sharebench
from helpers.configs import TINY

from sharebench.records.run_dir import read_csv, read_summary

SWEEP = ("model=shared_cnn,mlp", "seed=0,1", *TINY, "trainer.max_steps=2", "trainer.plots=false")


def sweep_with(launcher: str, cwd, *extra) -> pd.DataFrame:
    out = sharebench(
        "run", "-m", f"hydra/launcher={launcher}", *SWEEP, *extra, cwd=cwd, env={"OMP_NUM_THREADS": "1"}, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    (sweep,) = (cwd / "results" / "multirun").glob("*/*")
    assert sorted(p.name for p in sweep.iterdir() if p.name.isdigit()) == ["0", "1", "2", "3"]
    plotted = sharebench("plot", str(sweep), "--out", str(cwd / "cmp"), cwd=cwd)
    assert plotted.returncode == 0, plotted.stderr
    return pd.read_csv(cwd / "cmp" / "comparison.csv")


@pytest.mark.slow
def test_joblib_and_submitit_local_sweeps_compare_the_same(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    (tmp_path / "joblib").mkdir()
    (tmp_path / "submitit").mkdir()
    joblib = sweep_with("joblib", tmp_path / "joblib", "hydra.launcher.n_jobs=2")
    submitit = sweep_with("submitit_local", tmp_path / "submitit", "hydra.launcher.timeout_min=10")
    assert list(joblib["group"]) == list(submitit["group"]) == ["shared_cnn", "mlp"]
    assert joblib["n"].tolist() == submitit["n"].tolist() == [2, 2]
    for column in ("final_test_acc_mean", "final_test_acc_std", "final_test_loss_mean", "params_total_mean"):
        assert joblib[column].tolist() == pytest.approx(submitit[column].tolist(), rel=1e-5), column


def test_launcher_overrides_pass_the_preflight(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    out = sharebench(
        "run",
        "hydra/launcher=submitit_slurm",
        "hydra.launcher.partition=gpu",
        "hydra.launcher.gpus_per_node=1",
        "hydra.launcher.tasks_per_node=1",
        "hydra.launcher.timeout_min=60",
        "hydra.launcher.mem_gb=16",
        "model=mlp",
        "--cfg",
        "hydra",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "partition: gpu" in out.stdout and "gpus_per_node: 1" in out.stdout


# ---- SLURM preemption and time limits: stop, checkpoint, requeue, continue ------------------------

LONG = (*TINY, "model=mlp", "trainer.max_steps=3000", "trainer.eval_every=50", "trainer.plots=false")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow  # tens of seconds: .ci/run runs it after the README's test command
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the job's process in /proc")
def test_a_preempted_submitit_job_is_requeued_and_continues_from_its_checkpoint(tmp_path):
    """submitit_local runs the job as submitit_slurm does and requeues it the same way: SIGUSR2 (what
    Slurm sends before the time limit or a preemption) stops the run after a step with a checkpoint,
    submitit requeues the job, and the same job continues in its own run dir to `completed`."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("sharebench")),
            "run",
            "-m",
            "hydra/launcher=submitit_local",
            "hydra.launcher.timeout_min=10",
            "hydra.sweep.dir=sw",
            *LONG,
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    run = tmp_path / "sw" / "0"
    end = time.time() + 240
    while not ((run / "steps.csv").exists() and len(read_csv(run / "steps.csv")) > 0):  # training
        assert proc.poll() is None and time.time() < end, proc.communicate()[1][-3000:] if proc.poll() else "slow"
        time.sleep(0.05)
    (controller,) = [int(p.name) for p in (tmp_path / "sw" / ".submitit").iterdir() if p.name.isdigit()]
    (task,) = children(controller)  # the job itself: python -m submitit.core._submit
    os.kill(task, signal.SIGUSR2)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]

    summary = read_summary(run)
    log = "".join(p.read_text() for p in sorted((tmp_path / "sw" / ".submitit").glob("*/*_log.*")))
    if "Requeued job" not in log and summary["resumed_from_step"] is None:
        pytest.skip("the run finished before the signal")
    assert "writing a checkpoint; the job is requeued" in log and "Requeued job" in log
    assert "resuming from step" in (run / "sharebench.log").read_text()
    assert summary["status"] == "completed" and 0 < summary["resumed_from_step"] < 3000
    assert summary["steps"] == 3000 and not (run / "checkpoint.pt").exists()
    assert [int(r["step"]) for r in read_csv(run / "steps.csv")] == list(range(1, 3001)), "no step lost or repeated"
    assert "1 runs (1 completed)" in out


def test_preemption_signal_stops_once_and_wins_over_sigterm(monkeypatch, capsys):
    """Under submitit, Slurm's SIGTERM and SIGUSR2 of one preemption are one stop request (no 'second
    signal: stop at once'), and it is the preemption's, so the job is requeued; outside it nothing changes."""
    pytest.importorskip("submitit")
    from submitit.core.job_environment import SignalHandler

    from sharebench.run import requeue
    from sharebench.run.signals import StopRequest

    with StopRequest() as stop, requeue.preemption_stops(stop):  # not a submitit job
        assert signal.getsignal(signal.SIGUSR2) is signal.SIG_DFL
    submitit_handler = SignalHandler.__new__(SignalHandler)  # only its bound method is looked at here
    previous = signal.signal(signal.SIGUSR2, submitit_handler.checkpoint_and_try_requeue)
    monkeypatch.setenv("SUBMITIT_EXECUTOR", "slurm")
    try:
        assert requeue.under_submitit() and requeue.preemption_signal() == signal.SIGUSR2
        for first, second in ((signal.SIGTERM, signal.SIGUSR2), (signal.SIGUSR2, signal.SIGTERM)):
            with StopRequest() as stop, requeue.preemption_stops(stop):
                os.kill(os.getpid(), first)
                os.kill(os.getpid(), second)
                time.sleep(0.05)  # Python runs the handlers between two bytecodes
                assert stop and stop.signum == signal.SIGUSR2
            assert signal.getsignal(signal.SIGUSR2) == submitit_handler.checkpoint_and_try_requeue  # given back
            assert requeue.is_preemption(stop.signum)
        with StopRequest() as stop, requeue.preemption_stops(stop):
            os.kill(os.getpid(), signal.SIGTERM)  # scancel: checkpoint and exit, no requeue
            time.sleep(0.05)
        assert stop.signum == signal.SIGTERM and not requeue.is_preemption(stop.signum)
        requeue.requeue(stop.signum)  # returns: not submitit's signal
    finally:
        signal.signal(signal.SIGUSR2, previous)
    assert capsys.readouterr().err.count("received: stopping after this step") == 3


def test_requeue_preset_asks_slurm_for_the_signal_and_requeues(tmp_path):
    """hydra/launcher=submitit_slurm_requeue: SIGUSR2 120 s ahead, requeues after time limits, --requeue."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    from submitit.slurm.slurm import _make_sbatch_string

    out = sharebench(
        "run",
        "hydra/launcher=submitit_slurm_requeue",
        "hydra.launcher.partition=gpu",
        "hydra.launcher.timeout_min=240",
        "model=mlp",
        "--cfg",
        "hydra",
        "--package",
        "hydra.launcher",
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    launcher = yaml.safe_load(out.stdout)
    assert launcher["_target_"].endswith("SlurmLauncher") and launcher["max_num_timeout"] > 0
    sbatch = _make_sbatch_string(
        command="python -u -m submitit.core._submit f",
        folder=tmp_path,
        partition=launcher["partition"],
        time=launcher["timeout_min"],
        signal_delay_s=launcher["signal_delay_s"],
        additional_parameters=launcher["additional_parameters"],
    )
    for line in ("#SBATCH --signal=USR2@120", "#SBATCH --requeue", "#SBATCH --time=240", "#SBATCH --partition=gpu"):
        assert line in sbatch.splitlines()

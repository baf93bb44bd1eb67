"""trainer.threads: the policy that sets torch's intra-op threads per run (sharebench/train/threads.py)."""

import json

import pytest
import torch
from helpers.configs import TINY, make_cfg

from sharebench.checks.values import check_config
from sharebench.errors import UserError
from sharebench.run.experiment import run
from sharebench.train.threads import (
    AUTO_MFLOP_PER_THREAD,
    available_cores,
    cgroup_cpu_limit,
    choose_threads,
    in_loky_worker,
)

MNIST1D_CNN_MACS = 31_750  # model=mnist1d_cnn on MNIST-1D, as accounting counts it
BIG_MACS = 3_976_448  # model=local_cnn on 1×28×28 images


def macs_for(mflop_per_step: float, batch: int = 100) -> float:
    return mflop_per_step * 1e6 / (6 * batch)


def test_a_small_net_gets_one_thread_and_says_why():
    count, reason = choose_threads("auto", MNIST1D_CNN_MACS, 100, cores=16)
    assert count == 1
    assert reason == "auto: 19.1 MFLOP/step → 1"


def test_auto_scales_with_the_work_per_step_up_to_the_cores():
    assert choose_threads("auto", macs_for(0.99 * AUTO_MFLOP_PER_THREAD), 100, cores=16)[0] == 1
    assert choose_threads("auto", macs_for(2 * AUTO_MFLOP_PER_THREAD), 100, cores=16)[0] == 2
    assert choose_threads("auto", macs_for(5.5 * AUTO_MFLOP_PER_THREAD), 100, cores=16)[0] == 5
    count, reason = choose_threads("auto", BIG_MACS, 100, cores=2)  # 2,386 MFLOP/step, capped by the machine
    assert count == 2
    assert reason.startswith("auto: 2,385.9 MFLOP/step → 2 (of ") and "2 cores" in reason
    # the batch counts: the same net at batch 10 has a tenth of the work
    assert choose_threads("auto", BIG_MACS, 10, cores=16)[0] < choose_threads("auto", BIG_MACS, 100, cores=16)[0]


def test_an_explicit_number_wins_over_everything():
    env = {"OMP_NUM_THREADS": "3"}
    assert choose_threads(4, MNIST1D_CNN_MACS, 100, cores=1, env=env) == (4, "trainer.threads=4")
    assert choose_threads(1, BIG_MACS, 100, cores=16, env=env, device_type="cuda") == (1, "trainer.threads=1")


def test_omp_num_threads_wins_over_auto():
    assert choose_threads("auto", MNIST1D_CNN_MACS, 100, cores=16, env={"OMP_NUM_THREADS": "3"}) == (
        3,
        "OMP_NUM_THREADS=3",
    )
    # a value torch would not take either is ignored
    assert choose_threads("auto", MNIST1D_CNN_MACS, 100, cores=16, env={"OMP_NUM_THREADS": "lots"})[0] == 1


def test_in_a_joblib_worker_omp_num_threads_is_the_workers_share_a_cap_not_a_choice():
    env = {"OMP_NUM_THREADS": "4"}  # joblib: 16 cores // 4 jobs
    cores, caps = available_cores(env, affinity=16, cgroup=None, loky_worker=True)
    assert (cores, caps) == (4, ["joblib worker's OMP_NUM_THREADS 4"])
    assert choose_threads("auto", MNIST1D_CNN_MACS, 100, cores, env, loky_worker=True)[0] == 1
    count, reason = choose_threads(
        "auto", macs_for(100 * AUTO_MFLOP_PER_THREAD), 100, cores, env, loky_worker=True, caps=caps
    )
    assert count == 4 and "joblib worker's OMP_NUM_THREADS 4" in reason
    # outside a worker the same variable is not a cap on the cores (it is a choice: see above)
    assert available_cores(env, affinity=16, cgroup=None, loky_worker=False) == (16, [])


def test_affinity_slurm_and_cgroup_cap_the_cores():
    assert available_cores({}, affinity=2, cgroup=None, loky_worker=False) == (2, [])
    assert available_cores({"SLURM_CPUS_PER_TASK": "4"}, affinity=64, cgroup=None, loky_worker=False) == (
        4,
        ["SLURM_CPUS_PER_TASK 4"],
    )
    assert available_cores({"SLURM_CPUS_PER_TASK": "8"}, affinity=2, cgroup=None, loky_worker=False)[0] == 2
    assert available_cores({"SLURM_CPUS_PER_TASK": "8"}, affinity=64, cgroup=3, loky_worker=False) == (
        3,
        ["cgroup quota 3"],
    )
    big = macs_for(100 * AUTO_MFLOP_PER_THREAD)
    cores, caps = available_cores({"SLURM_CPUS_PER_TASK": "4"}, 64, None, False)
    assert choose_threads("auto", big, 100, cores, caps=caps) == (
        4,
        f"auto: {100 * AUTO_MFLOP_PER_THREAD:,.1f} MFLOP/step → 4 (of 100: 4 cores, SLURM_CPUS_PER_TASK 4)",
    )


def test_cgroup_quota_is_read_from_cpu_max(tmp_path):
    (tmp_path / "cpu.max").write_text("250000 100000\n")
    assert cgroup_cpu_limit(tmp_path / "cpu.max") == 3
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_limit(tmp_path / "cpu.max") is None
    assert cgroup_cpu_limit(tmp_path / "absent") is None


def test_a_gpu_run_keeps_one_cpu_thread():
    assert choose_threads("auto", BIG_MACS, 100, cores=16, device_type="cuda") == (1, "auto: data on cuda → 1")


def test_this_process_is_not_a_loky_worker():
    assert in_loky_worker() is False


@pytest.mark.parametrize("value", [0, -1, "two", True, 1.5])
def test_the_value_check_refuses_what_cannot_be_a_thread_count(value):
    with pytest.raises(UserError, match="trainer.threads"):
        check_config(make_cfg(f"trainer.threads={json.dumps(value)}"))


def test_the_value_check_takes_auto_and_positive_integers():
    check_config(make_cfg("trainer.threads=auto"))
    check_config(make_cfg("trainer.threads=3"))


@pytest.mark.parametrize("setting, expected", [("auto", 1), ("2", 2)])
def test_a_run_sets_and_records_its_threads(tmp_path, monkeypatch, setting, expected):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        summary = run(
            make_cfg(
                *TINY,
                "model=mlp",
                "trainer.max_steps=3",
                "trainer.plots=false",
                "trainer.save_model=false",
                "device=cpu",
                f"trainer.threads={setting}",
            ),
            tmp_path / "run",
        )
        assert torch.get_num_threads() == expected
    finally:
        torch.set_num_threads(before)
    on_disk = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["threads"] == on_disk["threads"] == expected
    assert on_disk["threads_reason"] == ("auto: 5.2 MFLOP/step → 1" if setting == "auto" else "trainer.threads=2")

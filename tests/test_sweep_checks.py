"""Big sweeps start fast: the checks compose each distinct choice of config groups once
(configs.SweepComposer) and build each distinct configuration, seed aside, once; Hydra's basic launcher
gets its jobs in batches (run/sweep_batches.py), so the first job does not wait for every job's
validation."""

import pytest
from helpers.commands import sharebench
from omegaconf import OmegaConf

from sharebench.configs import RunArgs, SweepComposer, compose

# one of each kind of override Hydra treats differently: group choices, values, added, forced, deleted,
# an experiment preset (a _global_ package) with values over it
OVERRIDES = [
    [],
    ["seed=3"],
    ["optim.lr=0.1", "seed=5"],
    ["model=local_cnn", "seed=1"],
    ["+trainer.foo=1"],
    ["++trainer.epochs=3"],
    ["~augment"],
    ["experiment=sharing_mnist1d", "seed=2", "trainer.max_steps=7"],
    ["spectrum=lowrank_k2", "optim=sgd", "optim.momentum=0.5"],
    ["dataset=synthetic", "dataset.shape=[1,8,8]", "model=mlp"],
]


def test_the_sweep_composer_equals_compose_job_by_job():
    composer = SweepComposer()
    for overrides in OVERRIDES:
        assert OmegaConf.to_yaml(composer(overrides)) == OmegaConf.to_yaml(compose(overrides)), overrides
    # and a job's values never leak into the next job composed from the same choice of groups
    assert composer(["seed=7"]).seed == 7 and composer([]).seed == compose([]).seed


@pytest.mark.parametrize("bad", [["optim.nosuch=1"], ["~nosuch"], ["trainer.epochs"]])
def test_the_sweep_composer_refuses_what_compose_refuses(bad):
    with pytest.raises(Exception) as composed:
        compose(bad)
    with pytest.raises(type(composed.value)):
        SweepComposer()(bad)


def test_a_seed_sweep_builds_one_model_and_still_checks_every_seed(monkeypatch):
    from sharebench.checks import arguments
    from sharebench.errors import UserError

    builds = []
    monkeypatch.setattr(arguments, "dry_build", lambda cfg: builds.append(cfg.seed))
    arguments.check_run_args(RunArgs(["-m", "seed=range(0,300)", "optim.lr=0.1,0.01"]))
    assert len(builds) == 2  # one per learning rate; the seeds need no model
    with pytest.raises(UserError, match="seed=4294967296"):
        arguments.check_run_args(RunArgs(["-m", "seed=0,1,2,4294967296", "optim.lr=0.1,0.01"]))
    with pytest.raises(UserError, match="a comma list holds plain values only"):
        arguments.check_run_args(RunArgs(["-m", "seed=range(0,30),4294967296"]))


def test_the_basic_launcher_gets_batches_and_other_launchers_one(monkeypatch):
    from sharebench.run.sweep_batches import BATCH, in_batches

    added = f"hydra.sweeper.max_batch_size={BATCH}"
    assert in_batches(RunArgs(["-m", "seed=0,1"])).argv == ["-m", "seed=0,1", added]
    assert in_batches(RunArgs(["seed=0"])).argv == ["seed=0"]  # a single run has no batches
    mine = ["-m", "seed=0,1", "hydra.sweeper.max_batch_size=100"]
    assert in_batches(RunArgs(mine)).argv == mine
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    parallel = ["-m", "seed=0,1", "hydra/launcher=joblib"]
    assert in_batches(RunArgs(parallel)).argv == parallel  # a batch boundary would wait for its slowest job


def test_a_sweep_in_batches_runs_every_job_once_and_compares_once(tmp_path):
    from sharebench.run.sweep_batches import BATCH

    jobs = BATCH + 2
    out = sharebench(
        "run",
        "-m",
        f"seed=range(0,{jobs})",
        "dataset=synthetic",
        "model=mlp",
        "trainer.max_steps=1",
        "trainer.progress=false",
        "trainer.plots=false",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        cwd=tmp_path,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    sweep = tmp_path / "sweep"
    assert sorted(int(p.name) for p in sweep.iterdir() if p.name.isdigit()) == list(range(jobs))
    assert all((sweep / str(j) / "summary.json").exists() for j in range(jobs))
    assert out.stdout.count("Launching") == 2  # two batches
    comparison = (sweep / "comparison" / "comparison.csv").read_text().splitlines()
    assert len(comparison) == 2 and f",{jobs}," in comparison[1]  # one group of every seed, compared once

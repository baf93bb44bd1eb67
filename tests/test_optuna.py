"""hydra/sweeper=optuna (the `optuna` extra): sharebench's sweeper on Optuna's ask/tell, its search
spaces, its refusals, and a study kept in sqlite that later commands continue."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers.commands import run_in_process, sharebench
from helpers.configs import TINY

optuna = pytest.importorskip("optuna")
from hydra.core.override_parser.overrides_parser import OverridesParser  # noqa: E402
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution  # noqa: E402

from hydra_plugins.sharebench_optuna.search_space import search_space  # noqa: E402


def test_tune_lr_preset_searches_the_interval(tmp_path):
    out = sharebench(
        "run",
        "-m",
        "experiment=tune_lr",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.n_jobs=2",
        "optim.lr=interval(0.001,0.01)",
        *TINY,
        "trainer.max_steps=2",
        "trainer.plots=false",
        cwd=tmp_path,
        env={"OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    (sweep,) = (tmp_path / "results" / "multirun").glob("*/*")
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert 0.001 <= best["best_params"]["optim.lr"] <= 0.01  # the command line's interval beat the preset's
    assert 0.0 <= best["best_value"] <= 1.0  # a validation accuracy
    assert sorted(p.name for p in sweep.iterdir() if p.name.isdigit()) == ["0", "1"]
    assert "sharebench comparison: 2 runs (2 completed)" in out.stdout and "by optim.lr" in out.stdout
    assert "Launching 2 jobs locally" in out.stdout + out.stderr  # n_jobs trials, one batch for the launcher


# ---- the sweep syntax as Optuna's distributions ------------------------------------------------

SPACES = {
    "optim.lr=interval(0.001,0.1)": FloatDistribution(0.001, 0.1),
    "optim.lr=tag(log, interval(0.0001, 0.1))": FloatDistribution(0.0001, 0.1, log=True),
    "model.width=int(interval(8,64))": IntDistribution(8, 64),
    "model.width=tag(log, int(interval(8,64)))": IntDistribution(8, 64, log=True),
    "model.width=range(8,64,8)": IntDistribution(8, 56, step=8),  # range() leaves its end out
    "model.width=range(64,8,-8)": IntDistribution(16, 64, step=8),
    "seed=range(0,3)": IntDistribution(0, 2),
    "model=choice(mlp,shared_cnn)": CategoricalDistribution(["mlp", "shared_cnn"]),
    "model=mlp,shared_cnn": CategoricalDistribution(["mlp", "shared_cnn"]),
    "optim.momentum=choice(0.0,0.9)": CategoricalDistribution([0.0, 0.9]),
    "seed=shuffle(range(0,2))": CategoricalDistribution([0, 1]),  # its order is random: as choices
}


@pytest.mark.parametrize("override", SPACES)
def test_each_sweep_form_is_the_distribution_it_says(override):
    space, fixed = search_space(OverridesParser.create().parse_overrides([override]))
    ((key, got),) = space.items()
    assert key == override.split("=", 1)[0] and not fixed
    if isinstance(got, CategoricalDistribution) and "shuffle" in override:
        got = CategoricalDistribution(sorted(got.choices))
    assert got == SPACES[override]


def test_the_command_line_replaces_a_preset_space_and_fixed_values_pass_through():
    parsed = OverridesParser.create().parse_overrides(
        ["optim.lr=tag(log, interval(0.0001, 0.1))", "+trainer.x=1", "model=mlp", "optim.lr=interval(0.01,0.02)"]
    )
    space, fixed = search_space(parsed)
    assert space == {"optim.lr": FloatDistribution(0.01, 0.02)}
    assert fixed == {"+trainer.x": "+trainer.x=1", "model": "model=mlp"}


# ---- refusals: one line, exit 2, nothing written -----------------------------------------------

REFUSALS = {
    "+hydra.sweeper.max_failure_rate=0.5": "hydra.sweeper.max_failure_rate is not a key of hydra/sweeper=optuna",
    "hydra.sweeper.direction=[maximize,minimize]": "is not minimize or maximize (one direction: the objective",
    "hydra.sweeper.direction=maximise": "hydra.sweeper.direction=maximise is not minimize or maximize",
    "~objective": "optimises one number of each run's summary: name it, e.g. +objective=final_val_acc",
    "optim.lr=tag(log, interval(0, 0.1))": "hydra/sweeper=optuna cannot search this: `low > 0` must hold",
    "seed=range(3,3)": "the sweep seed=range(3,3) lists no value: range(a,b) stops before b",
}


@pytest.mark.parametrize("override", REFUSALS)
def test_a_sweep_the_sweeper_cannot_run_is_refused_in_one_line(override, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = run_in_process(["-m", "experiment=tune_lr", *TINY, override])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and REFUSALS[override] in err[0], err
    assert not any(tmp_path.iterdir()), "nothing is written"


def test_without_optuna_the_sweeper_asks_for_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sharebench.checks.optuna_sweep.find_spec", lambda name: None)
    assert run_in_process(["-m", "experiment=tune_lr", *TINY]) == 2
    assert (
        capsys.readouterr().err.strip()
        == 'sharebench: error: hydra/sweeper=optuna needs Optuna: pip install -e ".[optuna]"'
    )


def test_the_old_plugin_in_the_way_is_named_with_its_fix(monkeypatch):
    from sharebench.checks import optuna_sweep

    hydra_says = "'hydra/sweeper/optuna' is validated against ConfigStore schema with the same name."
    monkeypatch.setattr(optuna_sweep, "find_spec", lambda name: None)  # not installed: another cause
    assert optuna_sweep.old_plugin_in_the_way(hydra_says) is None
    monkeypatch.setattr(optuna_sweep, "find_spec", lambda name: name == optuna_sweep.OLD_PLUGIN)
    assert optuna_sweep.old_plugin_in_the_way(hydra_says).endswith(": pip uninstall hydra-optuna-sweeper")
    assert optuna_sweep.old_plugin_in_the_way("unknown key 'hydra.sweeper.x'") is None


# ---- a study in sqlite: continued by a later command; a failed trial is told, not fatal --------

STUDY = ("run", "-m", "experiment=tune_lr", *TINY, "model=mlp", "trainer.max_steps=2", "trainer.plots=false")


def study_trials(tmp_path, name="tune_lr_mlp_synthetic"):
    return optuna.load_study(study_name=name, storage=f"sqlite:///{tmp_path / 'results' / 'optuna.db'}").trials


@pytest.mark.slow  # tens of seconds: .ci/run runs it after the README's test command
def test_a_second_command_continues_the_study_in_sqlite(tmp_path):
    env = {"OMP_NUM_THREADS": "1"}
    first = sharebench(*STUDY, "hydra.sweeper.n_trials=2", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    before = study_trials(tmp_path)
    assert [t.state.name for t in before] == ["COMPLETE", "COMPLETE"]
    second = sharebench(*STUDY, "hydra.sweeper.n_trials=3", cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "2 of 3 trials done; running 1 more" in second.stderr
    after = study_trials(tmp_path)
    assert [t.state.name for t in after] == ["COMPLETE"] * 3
    assert [(t.params, t.value) for t in after[:2]] == [(t.params, t.value) for t in before]
    assert after[2].params != before[0].params and after[2].params != before[1].params


def test_a_trial_whose_job_returns_no_number_is_told_failed_and_the_search_goes_on(tmp_path):
    out = sharebench(*STUDY, "hydra.sweeper.n_trials=2", "objective=no_such_field", cwd=tmp_path,
                     env={"OMP_NUM_THREADS": "1"})  # fmt: skip
    assert out.returncode == 1 and "2 of 2 runs failed" in out.stderr, out.stderr[-3000:]  # a failed job's code
    assert [t.state.name for t in study_trials(tmp_path)] == ["FAIL", "FAIL"]
    assert "trial 1 failed (its job returned None" in out.stdout + out.stderr
    (sweep,) = (tmp_path / "results" / "multirun").glob("*/*")
    assert sorted(p.name for p in sweep.iterdir() if p.name.isdigit()) == ["0", "1"]  # the second still ran
    assert not (sweep / "optimization_results.yaml").exists()  # no best trial to report


# ---- a search kept in results/optuna.db survives a kill ----------------------------------------

SEARCH = (
    "run",
    "-m",
    "experiment=tune_lr",
    "hydra.sweeper.n_trials=6",
    "dataset=synthetic",
    "dataset.shape=[1,8]",
    "trainer.max_steps=20",
    "model=mlp",
    "trainer.plots=false",
    "trainer.progress=false",
)


def trial_states(db) -> list[str]:
    """The state of every trial in the sqlite study, RUNNING+ once it has its parameters; read with
    sqlite3 (a read-only connection: no optuna, no lock held on the sweeper)."""
    import sqlite3

    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            rows = con.execute(
                "SELECT t.state, COUNT(p.param_id) FROM trials t LEFT JOIN trial_params p "
                "ON p.trial_id = t.trial_id GROUP BY t.trial_id ORDER BY t.number"
            ).fetchall()
    except sqlite3.OperationalError:  # the tables are not made yet, or the sweeper is writing
        return []
    return [state + ("+" if state == "RUNNING" and n else "") for state, n in rows]


@pytest.mark.slow  # tens of seconds: .ci/run runs it after the README's test command
def test_a_killed_search_continues_where_it_stopped(tmp_path):
    """SIGKILL while trial #k runs, then the same command: the finished trials stay as they were, the
    cut-off trial's values are tried again first, and the study ends with n_trials finished trials."""
    db, env = tmp_path / "results" / "optuna.db", {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("sharebench")), *SEARCH],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    end = time.time() + 240
    while True:  # kill once 2 trials are complete and the next one runs (with its learning rate chosen)
        states = trial_states(db)
        if states.count("COMPLETE") >= 2 and "RUNNING+" in states:
            break
        assert proc.poll() is None and time.time() < end, proc.stderr.read()[-3000:] if proc.poll() else "slow"
        time.sleep(0.02)
    proc.kill()
    proc.wait(timeout=30)
    proc.stderr.close()

    storage, name = f"sqlite:///{db}", "tune_lr_mlp_synthetic"
    before = optuna.load_study(study_name=name, storage=storage).trials
    done = [t for t in before if t.state.name == "COMPLETE"]
    (cut,) = [t for t in before if t.state.name == "RUNNING"]
    assert 2 <= len(done) < 6

    out = sharebench(*SEARCH, cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"{len(done)} of 6 trials done, 1 cut off by a kill" in out.stderr
    after = optuna.load_study(study_name=name, storage=storage).trials
    complete = [t for t in after if t.state.name == "COMPLETE"]
    assert len(complete) == 6, [(t.number, t.state.name) for t in after]
    for old in done:  # not run again: same trial, same value, finished at the same moment
        new = after[old.number]
        assert (new.state.name, new.params, new.value, new.datetime_complete) == (
            "COMPLETE",
            old.params,
            old.value,
            old.datetime_complete,
        )
    assert after[cut.number].state.name == "FAIL" and after[cut.number].system_attrs["sharebench:cut_off"]
    retried = after[cut.number + 1]
    assert retried.params == cut.params and retried.state.name == "COMPLETE"  # the cut-off values, first

    sweeps = sorted((tmp_path / "results" / "multirun").glob("*/*"))
    assert len(sweeps) == 2
    runs = sorted(int(p.name) for p in sweeps[1].iterdir() if p.name.isdigit())
    assert runs == list(range(6 - len(done))), "only the trials still to do were run"
    lrs = {yaml.safe_load((sweeps[1] / str(i) / ".hydra" / "config.yaml").read_text())["optim"]["lr"] for i in runs}
    assert not lrs & {t.params["optim.lr"] for t in done}
    best = yaml.safe_load((sweeps[1] / "optimization_results.yaml").read_text())
    assert best["best_value"] == max(t.value for t in complete)  # over the whole study, both commands

    again = sharebench(*SEARCH, "seed=1", cwd=tmp_path)  # another config may not join this study
    assert again.returncode == 2 and "hydra.sweeper.study_name=<new name>" in again.stderr

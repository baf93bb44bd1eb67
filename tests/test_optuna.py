"""The Optuna sweeper preset (the `optuna` extra): skipped when the plugin is not installed."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers.commands import sharebench
from helpers.configs import TINY


def test_tune_lr_preset_searches_the_interval(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    out = sharebench(
        "run",
        "-m",
        "experiment=tune_lr",
        "hydra.sweeper.n_trials=2",
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


@pytest.mark.filterwarnings("ignore::DeprecationWarning:optuna.*")  # SQLAlchemy 1.4 on optuna 2.10's models
def test_a_killed_search_continues_where_it_stopped(tmp_path):
    """SIGKILL while trial #k runs, then the same command: the finished trials stay as they were, the
    cut-off trial's values are tried again first, and the study ends with n_trials finished trials."""
    pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")
    import optuna

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

"""Hydra callback: an Optuna search kept in a database continues where it stopped (experiment=tune_lr).

The sweeper (hydra_plugins/sharebench_optuna) opens its study with `load_if_exists=True`, so a search
whose `hydra.sweeper.storage` is a database (sqlite:///results/optuna.db) keeps its finished trials
and the sampler learns from them. The sweeper keeps hydra-optuna-sweeper's behaviour; what that leaves
out, this callback does before it starts:

- `n_trials` is what the sweeper runs in *this* command, even on a study that already holds trials;
  here it means the study's total: finished trials (complete, pruned or failed) are counted and only
  the rest are run, so re-running a killed search's command completes it and re-running a finished
  one runs nothing (it reports the best trial again).
- A trial cut off by a kill stays `RUNNING` for ever in the study: it is marked failed (system attr
  `sharebench:cut_off`, not counted) and its parameters are queued to be tried first.
- A study continues only with the overrides it was started with (up to the keys that change no
  number, as for resume=…); other overrides are refused, so two searches never mix in one study.
- A seeded sampler would replay the values of the study's first trials: on a continued study its
  seed is offset by the number of trials the study holds (still reproducible).
- resume=true would send the trials into an old sweep dir, over its trial dirs: refused (the study,
  not a sweep dir, is what continues).
- sqlite does not create folders: the database's folder is made.

One search per study at a time: a RUNNING trial is taken for one whose process was killed.
Without a storage or a study name (the sweeper's defaults) the callback does nothing.
"""

import logging
import sys
import warnings
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, read_write

from sharebench.errors import EXIT_USER_ERROR

CUT_OFF = "sharebench:cut_off"
OVERRIDES = "sharebench:overrides"


def sqlite_file(storage: str) -> Path | None:
    """sqlite:///results/optuna.db → results/optuna.db (relative to the working directory)."""
    prefix = "sqlite:///"
    return Path(storage[len(prefix) :]) if storage.startswith(prefix) and storage != prefix + ":memory:" else None


def study_overrides(config: DictConfig) -> list[str]:
    """The command's overrides that must stay the same for a study to go on."""
    from sharebench.configs import is_free, parse_overrides

    keys = {o.key_or_group: o.input_line for o in parse_overrides([str(o) for o in config.hydra.overrides.task])}
    return sorted(o for k, o in keys.items() if not is_free(k))


def counted(trial) -> bool:
    """A finished trial that counts towards n_trials (a cut-off one is run again instead)."""
    return trial.state.is_finished() and not trial.system_attrs.get(CUT_OFF)


class ContinueStudy(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        sweeper = config.hydra.get("sweeper")
        if not sweeper or "OptunaSweeper" not in str(sweeper.get("_target_")):
            return
        storage, name = sweeper.get("storage"), sweeper.get("study_name")
        if not isinstance(storage, str) or not name:  # in memory, or a fresh random name: nothing to continue
            return
        if config.get("resume") and any(Path(str(config.hydra.sweep.dir)).glob("*/summary.json")):
            print(
                f"sharebench: error: an Optuna search continues from its study in {storage}, not in an "
                f"old sweep dir (its trial dirs would be reused): run the same command without resume=… "
                f"(and a new hydra.sweep.dir, if you gave one)",
                file=sys.stderr,
                flush=True,
            )
            raise SystemExit(EXIT_USER_ERROR)
        if (db := sqlite_file(storage)) is not None:
            db.parent.mkdir(parents=True, exist_ok=True)

        logging.getLogger("alembic").setLevel(logging.WARNING)  # its set-up, at Hydra's INFO level
        import optuna
        from optuna.trial import TrialState

        optuna.logging.set_verbosity(optuna.logging.WARNING)  # the sweeper says what it does
        directions = sweeper.direction if OmegaConf.is_list(sweeper.direction) else [sweeper.direction]
        study = optuna.create_study(
            study_name=name,
            storage=storage,
            load_if_exists=True,
            directions=[str(getattr(d, "name", d)) for d in directions],
        )
        wanted, saved = study_overrides(config), study.user_attrs.get(OVERRIDES)
        if saved is None:
            study.set_user_attr(OVERRIDES, wanted)
        elif saved != wanted:
            print(
                f"sharebench: error: study {name!r} in {storage} was started with the overrides {saved}, "
                f"now {wanted}: run it with its own overrides to continue it, or start another study "
                f"with hydra.sweeper.study_name=<new name>",
                file=sys.stderr,
                flush=True,
            )
            raise SystemExit(EXIT_USER_ERROR)

        cut = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.RUNNING]
        for trial in cut:  # its process was killed: fail it (uncounted) and try its parameters again first
            study._storage.set_trial_system_attr(trial._trial_id, CUT_OFF, True)
            study.tell(trial.number, state=TrialState.FAIL)
            if trial.params:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    study.enqueue_trial(trial.params)
        done = sum(counted(t) for t in study.get_trials(deepcopy=False))
        total = int(sweeper.n_trials)
        left = max(0, total - done)
        if done or cut:
            print(
                f"sharebench: study {name!r} in {storage}: {done} of {total} trials done"
                + (f", {len(cut)} cut off by a kill (its parameters are tried again)" if cut else "")
                + f"; running {left} more",
                file=sys.stderr,
                flush=True,
            )
        with read_write(config.hydra.sweeper):
            config.hydra.sweeper.n_trials = left
            seed = OmegaConf.select(config, "hydra.sweeper.sampler.seed")
            if seed is not None and study.trials:  # the same seed would sample the first trials' values again
                config.hydra.sweeper.sampler.seed = int(seed) + len(study.trials)
        if left == 0:  # the sweeper launches nothing, yet writes optimization_results.yaml in the sweep dir
            Path(str(config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)

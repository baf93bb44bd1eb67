"""The `optuna` sweeper, through Hydra's public plugin classes and Optuna's ask/tell: each batch of
`n_jobs` trials is asked of the study, run by the configured launcher, and told the number each job
returns (the summary field `objective` names: sharebench/run/app.py), or told failed. A study kept in
`storage` is opened again by name (load_if_exists), so a second command continues it; counting its
trials and re-trying a killed one is sharebench/run/optuna_study.py's (a callback tune_lr adds)."""

import logging
import math
from numbers import Real
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.plugins.sweeper import Sweeper
from omegaconf import OmegaConf

from hydra_plugins.sharebench_optuna.search_space import search_space

log = logging.getLogger(__name__)
KEYS = ("sampler", "direction", "storage", "study_name", "n_trials", "n_jobs", "params")  # hydra-optuna-sweeper's
RESULT_FILE = "optimization_results.yaml"


class OptunaSweeper(Sweeper):
    def __init__(self, sampler=None, direction="minimize", storage=None, study_name=None, n_trials=20, n_jobs=1,
                 params=None) -> None:  # fmt: skip
        self.sampler, self.direction, self.storage, self.study_name = sampler, direction, storage, study_name
        self.n_trials, self.n_jobs, self.params = n_trials, n_jobs, params or {}

    def setup(self, *, hydra_context, task_function, config) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context, self.config, self.job_idx = hydra_context, config, 0
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> Any:
        import optuna

        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        space, fixed = search_space(parser.parse_overrides([*(f"{k}={v}" for k, v in self.params.items()), *arguments]))
        study = optuna.create_study(
            study_name=self.study_name, storage=self.storage, sampler=self.sampler, direction=self.direction,
            load_if_exists=True,
        )  # fmt: skip
        left = self.n_trials
        while left > 0:
            trials = [study.ask(space) for _ in range(min(self.n_jobs, left))]
            jobs = [[*fixed.values(), *(f"{k}={v}" for k, v in t.params.items())] for t in trials]
            returns = self.launcher.launch(jobs, initial_job_idx=self.job_idx)
            self.job_idx += len(returns)
            for trial, ret in zip(trials, returns):
                self._tell(study, trial, ret)
            left -= len(trials)
        self._save_best(study)
        return study

    def _tell(self, study, trial, ret) -> None:
        """The job's number, or FAIL (a job that failed, or returned no number): the search goes on."""
        from hydra.core.utils import JobStatus
        from optuna.trial import TrialState

        got = ret.return_value if ret.status == JobStatus.COMPLETED else None
        if isinstance(got, Real) and not isinstance(got, bool) and math.isfinite(got):
            study.tell(trial, got)
            return
        log.warning(f"trial {trial.number} failed (its job returned {got!r}, not a number)")
        study.tell(trial, state=TrialState.FAIL)

    def _save_best(self, study) -> None:
        """<sweep dir>/optimization_results.yaml: the study's best trial, over every command's trials."""
        from optuna.trial import TrialState

        if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            log.warning(f"study {study.study_name!r} has no completed trial yet")
            return
        best = {"best_params": study.best_trial.params, "best_value": study.best_trial.value}
        log.info(f"study {study.study_name!r}: {best}")
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(OmegaConf.create({"name": "optuna", **best}), sweep_dir / RESULT_FILE)

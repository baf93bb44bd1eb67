"""The `until_decided` sweeper, through Hydra's public plugin classes: a Sweeper that asks the
configured launcher for each round's jobs and reads their summaries. The plan, the checks, the
rounds and the verdicts are sharebench's (sharebench/compare/until_decided.py, compare/sequential.py)."""

from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.plugins.sweeper import Sweeper
from omegaconf import OmegaConf


class UntilDecidedSweeper(Sweeper):
    def __init__(
        self,
        first_round: int = 3,
        step: int = 2,
        budget: int | None = None,
        alpha: float = 0.05,
        delta: float | None = None,
        metric: str = "test_acc",
        baseline: str | None = None,
        params: dict | None = None,
    ) -> None:
        self.keys = dict(
            first_round=first_round,
            step=step,
            budget=budget,
            alpha=alpha,
            delta=delta,
            metric=metric,
            baseline=baseline,
        )
        self.params = params or {}

    def setup(self, *, hydra_context, task_function, config) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> Any:
        from sharebench.compare import until_decided as ud
        from sharebench.compare.paired import higher_is_better

        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        plan = ud.make_plan(parser.parse_overrides([*(f"{k}={v}" for k, v in self.params.items()), *arguments]))
        design = ud.make_design(plan, **self.keys)
        pairs = ud.arm_pairs(plan, design.baseline)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        design.save(sweep_dir)
        outcome = ud.run_rounds(plan, design, pairs, higher_is_better(design.metric), self._launch)
        text, csv = ud.outcome_table(plan, design, outcome)
        ud.write_outcome(sweep_dir, csv)
        print(text, flush=True)
        return outcome

    def _launch(self, jobs: list[list[str]], first: int) -> list:
        """Each job's summary (None for a job that failed: the sweep goes on, as with Hydra's own sweeper)."""
        from hydra.core.utils import JobStatus

        returns = self.launcher.launch(jobs, initial_job_idx=first)
        return [r.return_value if r.status == JobStatus.COMPLETED else None for r in returns]

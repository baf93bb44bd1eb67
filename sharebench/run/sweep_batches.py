"""A sweep that Hydra's basic launcher runs (its jobs one after another, in this process) is handed to
Hydra in batches, so that its first job starts within seconds, not minutes.

Before launching a batch, Hydra's basic sweeper composes every job of it once more to validate it
(BasicSweeper.validate_batch_is_legal, a tenth of a second or more a job: a 1,000-job sweep waited
minutes before its first job), and sharebench's checks have already composed each distinct
configuration before Hydra started. Batches change nothing else for this launcher: its jobs run one by
one either way, numbered across batches. A launcher that runs jobs in parallel (joblib, submitit on a
cluster) keeps Hydra's single batch, since each batch waits for its slowest job; so does a sweep whose
`hydra.sweeper.max_batch_size` the user set.
"""

from sharebench.configs import BASIC_LAUNCHER, BASIC_SWEEPER, RunArgs

BATCH = 8  # jobs validated ahead of running them: a second or two of composing


def in_batches(run: RunArgs) -> RunArgs:
    """`sharebench run` arguments, with `hydra.sweeper.max_batch_size` added where it saves the wait."""
    from omegaconf import OmegaConf

    if not run.multirun or run.own_configs:
        return run
    if any(o.key_or_group == "hydra.sweeper.max_batch_size" for o in run.overrides):
        return run
    hydra = run.hydra_node()
    if (
        OmegaConf.select(hydra, "sweeper._target_") != BASIC_SWEEPER
        or OmegaConf.select(hydra, "launcher._target_") != BASIC_LAUNCHER
    ):
        return run
    return run.with_overrides([*(o.input_line for o in run.overrides), f"hydra.sweeper.max_batch_size={BATCH}"])

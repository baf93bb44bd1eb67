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

BATCH = 8  # jobs validated ahead of running them: a second or two of composing
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
BASIC_LAUNCHER = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"


def in_batches(args: list[str]) -> list[str]:
    """`sharebench run` arguments, with `hydra.sweeper.max_batch_size` added where it saves the wait."""
    from omegaconf import OmegaConf

    from sharebench.configs import CONFIG_NAME, compose, parse_overrides, run_flags

    flags = run_flags(args)
    if not flags.multirun or flags.config_dir or flags.config_path:
        return args
    overrides = parse_overrides(flags.overrides)
    if any(o.key_or_group.lstrip("+") == "hydra.sweeper.max_batch_size" for o in overrides):
        return args
    fixed = [o.input_line for o in overrides if not o.is_sweep_override()]
    hydra = compose(fixed, flags.config_name or CONFIG_NAME, with_hydra=True).hydra
    if (
        OmegaConf.select(hydra, "sweeper._target_") != BASIC_SWEEPER
        or OmegaConf.select(hydra, "launcher._target_") != BASIC_LAUNCHER
    ):
        return args
    return [*args, f"hydra.sweeper.max_batch_size={BATCH}"]

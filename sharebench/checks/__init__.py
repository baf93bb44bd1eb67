"""checks: everything verified before any work starts, so a mistake costs one line and exit code 2.

arguments.py (the `sharebench run` arguments, composed into every job's config: unknown options,
keys and overrides), values.py (value checks of a composed config, no torch), dry_build.py (each
`_target_` built with its keys, the model on the meta device for the dataset's declared shape),
hydra_targets.py (what Hydra builds itself: callbacks, sweeper, launcher, logging handlers),
optuna_sweep.py (hydra/sweeper=optuna: its keys, search space and objective).
Imports configs, data, models and train.devices; never records or run.
"""

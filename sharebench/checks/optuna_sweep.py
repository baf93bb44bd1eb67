"""hydra/sweeper=optuna, checked before Hydra starts: Optuna installed (and not the old plugin that
claims the same name), only the sweeper's own keys, a search space Optuna takes, and a number for the
search to optimise. Each mistake is one line; Hydra would stop on it in a traceback. No torch."""

from importlib.util import find_spec

from omegaconf import OmegaConf

from sharebench.configs import parse_overrides
from sharebench.errors import UserError

SWEEPER = "hydra_plugins.sharebench_optuna.optuna_sweeper.OptunaSweeper"
NAME = "hydra/sweeper=optuna"
OLD_PLUGIN = "hydra_plugins.hydra_optuna_sweeper"  # hydra-optuna-sweeper (optuna < 3): registers `optuna` too


def check_optuna_sweep(cfg, sweeps: list) -> None:
    """`cfg`: a job's config composed with its `hydra` node; `sweeps`: the command line's sweep overrides."""
    sweeper = OmegaConf.select(cfg, "hydra.sweeper")
    if sweeper is None or sweeper.get("_target_") != SWEEPER:
        return
    if find_spec("optuna") is None:
        raise UserError(f'{NAME} needs Optuna: pip install -e ".[optuna]"')
    from hydra_plugins.sharebench_optuna.optuna_sweeper import KEYS
    from hydra_plugins.sharebench_optuna.search_space import search_space

    unknown = sorted(set(sweeper) - {"_target_", *KEYS})
    if unknown:
        raise UserError(f"hydra.sweeper.{unknown[0]} is not a key of {NAME}; its keys: {', '.join(KEYS)}")
    if sweeper.get("direction") not in ("minimize", "maximize"):
        raise UserError(
            f"hydra.sweeper.direction={sweeper.get('direction')} is not minimize or maximize "
            f"(one direction: the objective is one number of each run's summary)"
        )
    if not cfg.get("objective"):
        raise UserError(
            f"{NAME} optimises one number of each run's summary: name it, e.g. +objective=final_val_acc "
            f"(experiment=tune_lr sets it)"
        )
    params = [f"{k}={v}" for k, v in (sweeper.get("params") or {}).items()]
    try:
        search_space(parse_overrides(params) + list(sweeps))
    except ValueError as err:
        raise UserError(f"{NAME} cannot search this: {err}") from None


def old_plugin_in_the_way(error_text: str) -> str | None:
    """The fix, when composing failed because hydra-optuna-sweeper's schema shadows this sweeper's config."""
    if "ConfigStore schema" in error_text and "hydra/sweeper" in error_text and find_spec(OLD_PLUGIN):
        return (
            f"hydra-optuna-sweeper (Optuna < 3) is installed and claims {NAME}, which sharebench now ships "
            f"(on Optuna ≥ 4): pip uninstall hydra-optuna-sweeper"
        )
    return None

"""The optimizer a config names, made through Hydra's instantiate (errors.instantiate's wording)."""

from sharebench.errors import instantiate


def build_optimizer(cfg_optim, params):
    """instantiate(cfg_optim, params=params): torch's own optimizer, as torch makes it."""
    return instantiate(cfg_optim, params=params)

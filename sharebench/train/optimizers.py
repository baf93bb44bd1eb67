"""The optimizer a config names, made so that it does not import torch._dynamo (see without_dynamo)."""

from sharebench import without_dynamo
from sharebench.configs import locate
from sharebench.errors import instantiate


def build_optimizer(cfg_optim, params):
    """instantiate(cfg_optim, params=params); its constructor and step leave torch._dynamo unloaded."""
    without_dynamo.resolve(locate(str(cfg_optim._target_)))  # the constructor calls add_param_group
    optimizer = instantiate(cfg_optim, params=params)
    without_dynamo.plain_step(optimizer)
    return optimizer

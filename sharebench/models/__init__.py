"""Models; each config in conf/model/ names its class with `_target_`."""
import torch.nn as nn
from hydra.utils import instantiate
from omegaconf import DictConfig

from sharebench.errors import user_error_in


def build(model_cfg: DictConfig, input_shape: tuple[int, ...], num_outputs: int) -> nn.Module:
    """Instantiate the configured model for this dataset's input shape and output width."""
    try:
        return instantiate(model_cfg, input_shape=tuple(input_shape), num_outputs=num_outputs, _convert_="all")
    except Exception as err:
        if user_error_in(err) is not None:
            raise user_error_in(err) from None
        raise

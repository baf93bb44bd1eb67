"""Models; each config in conf/model/ names its class with `_target_`. Its `sharing` node (what
`sharebench plot` pairs and draws: configs.py) describes the model and is not passed to it."""

import torch.nn as nn
from omegaconf import DictConfig, OmegaConf, open_dict

from sharebench.errors import instantiate
from sharebench.schemes import DESCRIPTION


def build(model_cfg: DictConfig | dict, input_shape: tuple[int, ...], num_outputs: int) -> nn.Module:
    """Instantiate the configured model for this dataset's input shape and output width."""
    if isinstance(model_cfg, dict):  # a base net handed over as a dict (tied_pair)
        model_cfg = {k: v for k, v in model_cfg.items() if k != DESCRIPTION}
    elif DESCRIPTION in model_cfg:
        model_cfg = model_cfg.copy()  # keeps its place in the tree: a refusal still names model.…
        with open_dict(model_cfg):
            del model_cfg[DESCRIPTION]
    return instantiate(model_cfg, input_shape=tuple(input_shape), num_outputs=num_outputs, _convert_="all")


def without_pretrained_weights(model_cfg: DictConfig, keep_local: bool = False) -> DictConfig:
    """The model config with its `weights` keys set to none: meta tensors hold no values, so reading
    (let alone downloading) weights for them is wasted. keep_local keeps checkpoint paths, so a
    missing or mismatched file is still reported before the run starts; `imagenet` (a download) goes."""

    def dropped(value) -> bool:
        return not keep_local or str(value).lower() == "imagenet"

    def strip(node):
        if not isinstance(node, dict):
            return node
        return {k: "none" if k == "weights" and dropped(v) else strip(v) for k, v in node.items()}

    return OmegaConf.create(strip(OmegaConf.to_container(model_cfg, resolve=True)))

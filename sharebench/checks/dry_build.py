"""Catch what only building could reveal — before Hydra makes a run directory.

Each `_target_` (model, dataset, optimizer) must exist and accept every key of its config group;
the model is then built (on PyTorch's `meta` device, shapes only, unless it is small) for the input
shape the dataset declares through its `describe()` (data.declared), and a batch of that shape is pushed through
it. A kernel larger than the input, a model that cannot take the data's rank, a mistyped `+key`:
each ends as one line naming the fix. The model's own options are checked by its constructor (the
owner), here as it builds: for a dataset without `describe()` (its shape is in its files), the model is
built for a stand-in input and only its option errors (errors.OptionError) count.
"""

import inspect

from omegaconf import DictConfig, OmegaConf

from sharebench.configs import BUILT_GROUPS, flatten, locate, target_policy
from sharebench.errors import (
    OptionError,
    UserError,
    is_policy_refusal,
    one_line,
    refused_target,
    user_error_in,
)
from sharebench.schemes import DESCRIPTION

STAND_IN_SHAPE = (3, 64, 64)  # an image, for a dataset that declares no shape: enough for any shipped model
# A model this small is built for real and run on 2 examples on the CPU: milliseconds, where a forward
# on `meta` runs PyTorch's Python meta kernels, which import torch._dynamo (2–3 s of every job's start).
FORWARD_ON_CPU_UP_TO = 25_000_000  # parameters (100 MB)


def _target(cfg: DictConfig, group: str):
    name = OmegaConf.select(cfg, f"{group}._target_")
    return located(f"{group}._target_", name, f"pick a shipped {group} (`sharebench list` shows them)")


def located(key: str, name, fix: str):
    """What `key`'s value names, imported, when it is something to call; else the one line that says
    why not, ending with `fix`."""
    try:
        target = locate(str(name))
    except Exception:
        raise UserError(
            f"{key}={name!r} cannot be imported: check the name, or install the package that provides it"
        ) from None
    if not callable(target):  # e.g. a module: there is nothing to call
        raise UserError(
            f"{key}={name!r} names a {type(target).__name__}, not a class or function to call: check the name, or {fix}"
        )
    return target


def check_arguments(cfg: DictConfig, group: str) -> None:
    """Every key of the group must be a parameter of its target (unless it takes **kwargs)."""
    params = inspect.signature(_target(cfg, group)).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    for key in cfg[group]:
        if not str(key).startswith("_") and key not in params and (group, key) != ("model", DESCRIPTION):
            known = [p for p in params if p not in ("self", "params", "input_shape", "num_outputs", "run_dir")]
            raise UserError(
                f"unknown key '{group}.{key}': {cfg[group]._target_} takes {', '.join(known)} "
                f"(remove +{group}.{key}, or pick another {group})"
            )


def check_targets(cfg: DictConfig) -> None:
    """Every `_target_` of the config (logger included, which is built only in the run) must pass
    Hydra's instantiate policy, where this Hydra has one: refused here, before anything is written."""
    for key, target in flatten(OmegaConf.to_container(cfg, resolve=False)).items():
        if (key == "_target_" or key.endswith("._target_")) and isinstance(target, str):
            authorize(key, target)


def authorize(key: str, target: str) -> None:
    """Hydra's instantiate policy asked about one name to build: refused_target when it will not."""
    policy = target_policy()
    if policy is None:  # a plain Hydra: nothing to ask
        return
    try:
        policy(target, target, key.rsplit(".", 1)[0])
    except Exception as err:
        if is_policy_refusal(err):
            raise refused_target(key, target) from None
        raise


def dry_build(cfg: DictConfig) -> None:
    check_targets(cfg)
    for group in BUILT_GROUPS:
        if OmegaConf.select(cfg, group) is None:  # e.g. dataset=[]: Hydra composes no option at all
            raise UserError(f"no {group} selected: choose one with {group}=NAME (`sharebench list` shows them)")
        if OmegaConf.select(cfg, f"{group}._target_") is not None:
            check_arguments(cfg, group)
    if OmegaConf.select(cfg, "logger._target_") is not None:  # made only in the run: its name and keys here
        check_arguments(cfg, "logger")
    if OmegaConf.select(cfg, "model._target_") is None:
        return
    import torch

    from sharebench import data
    from sharebench.train.optimizers import build_optimizer

    declared = data.declared(cfg.dataset)
    if declared is None:
        _check_model_options(cfg)
        return
    shape, outputs = tuple(declared.input_shape), declared.num_outputs
    name = OmegaConf.select(cfg, "model._target_").rsplit(".", 1)[-1]
    model = _build(cfg, name, shape, outputs, "meta")
    if sum(p.numel() for p in model.parameters()) <= FORWARD_ON_CPU_UP_TO:
        model = _build(cfg, name, shape, outputs, "cpu")
    try:  # the optimizer checks its own arguments (betas, momentum, …) as it is made
        build_optimizer(cfg.optim, model.parameters())
    except Exception as err:
        raise UserError(
            f"cannot make the optimizer {cfg.optim._target_} with these settings: "
            f"{one_line(user_error_in(err) or err.__cause__ or err)} "
            f"(`sharebench run --cfg job` shows the optim keys)"
        ) from None
    try:
        with torch.no_grad():
            model(torch.zeros(2, *shape, device=next(model.parameters()).device))
    except NotImplementedError:  # an operation without a meta kernel: leave the check to the run
        return
    except Exception as err:
        raise UserError(
            f"{name} cannot take this dataset's input of shape {list(shape)}: "
            f"{one_line(err)} (pick another model or dataset, or change its shape)"
        ) from None


def _build(cfg: DictConfig, name: str, shape: tuple, outputs: int, device: str):
    import torch

    from sharebench import models
    from sharebench.models import without_pretrained_weights

    with torch.device(device):
        try:
            return models.build(without_pretrained_weights(cfg.model, keep_local=True), shape, outputs)
        except UserError:
            raise
        except Exception as err:
            inner = user_error_in(err) or err
            raise UserError(f"cannot build {name} for input {list(shape)}: {one_line(inner)}") from None


def _check_model_options(cfg: DictConfig) -> None:
    """The model's constructor checks its options; without the data's shape, errors of shape say nothing."""
    import torch

    from sharebench import models
    from sharebench.models import without_pretrained_weights

    with torch.device("meta"):
        try:
            models.build(without_pretrained_weights(cfg.model, keep_local=True), STAND_IN_SHAPE, 10)
        except Exception as err:
            if isinstance(user_error_in(err), OptionError):
                raise user_error_in(err) from None


def check_device(cfg: DictConfig) -> None:
    """The device must exist where the jobs run (only checked when that is here), with the fused
    kernels a `fused: true` optimizer asks for: PyTorch would say so only at the first step."""
    from sharebench.train.devices import pick_device

    device = pick_device(str(cfg.device))
    if not OmegaConf.select(cfg, "optim.fused"):
        return
    try:  # private in PyTorch; without it, PyTorch's own check at the first step stands
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
    except ImportError:
        return
    if device.type not in _get_fused_kernels_supported_devices():
        raise UserError(
            f"optim.fused=true, but PyTorch has no fused optimizer kernels for device={cfg.device}: "
            f"use optim.fused=false"
        )

"""PyTorch without torch._dynamo where sharebench can: 2–3 s of every job's start-up.

torch marks some of its functions so that a torch.compile trace stops or breaks at them
(`torch._disable_dynamo`, the optimizer's graph breaks), and each marker imports torch._dynamo, the
compiler, on its first call even when nothing is compiled: the largest part of a short job's start
(every joblib or SLURM job pays it). sharebench never compiles. So, for the classes it uses that carry
the markers (the optimizers, the FLOP counter): `resolve(cls)` gives each marked method the plain
function as the cache torch itself stores after that first call, and `plain_step(optimizer)` makes
the instance's step torch's own step without the graph breaks: the same grad mode, the same step
hooks, the same numbers (tests/test_without_dynamo.py).

Where torch._dynamo is already loaded (something in the process may compile), or torch's wrappers are
not what this expects (another torch version), nothing is changed and torch does as it always did.
"""

import sys
import types


def loaded() -> bool:
    return "torch._dynamo" in sys.modules


def resolve(owner) -> None:
    """The `_disable_dynamo` markers of a class and its bases (or of every class of a module),
    resolved to the plain functions."""
    if loaded():
        return
    if isinstance(owner, types.ModuleType):
        for value in vars(owner).values():
            if isinstance(value, type) and value.__module__ == owner.__name__:
                resolve(value)
        return
    disable, _ = _markers()
    for klass in getattr(owner, "__mro__", ()):
        for attr in vars(klass).values():
            if getattr(attr, "__code__", None) is disable and hasattr(attr, "__wrapped__"):
                attr.__wrapped__.__dynamo_disable = attr.__wrapped__  # the cache torch's marker reads


def plain_step(optimizer) -> None:
    """The optimizer's step as torch's class step without its graph breaks (which import dynamo)."""
    import torch
    from torch.optim import Optimizer

    if loaded():
        return
    _, use_grad = _markers()
    hooked = type(optimizer).step  # profile_hook_step(_use_grad_for_differentiable(step))
    with_graph_breaks = getattr(hooked, "__wrapped__", None)
    step = getattr(with_graph_breaks, "__wrapped__", None)
    if step is None or getattr(with_graph_breaks, "__code__", None) is not use_grad:
        return

    def plain(self, *args, **kwargs):
        with torch.set_grad_enabled(self.defaults["differentiable"]):
            return step(self, *args, **kwargs)

    optimizer.step = types.MethodType(Optimizer.profile_hook_step(plain), optimizer)


def _markers():
    """The code objects of torch's two lazily-importing wrappers, to recognise them by identity."""
    from torch._compile import _disable_dynamo
    from torch.optim.optimizer import _use_grad_for_differentiable

    return _disable_dynamo(lambda: None).__code__, _use_grad_for_differentiable(lambda self: None).__code__

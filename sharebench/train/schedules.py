"""The learning-rate schedules `trainer.schedule` can name, each with the scheduler it makes.

The names are the one list: the checks (checks/values.py) ask it, the loop (loop.py) uses it. torch
is imported only when a scheduler is made, so the checks can read the names without it.
"""


def _cosine(optimizer, total_steps: int):
    from torch.optim.lr_scheduler import CosineAnnealingLR

    return CosineAnnealingLR(optimizer, T_max=total_steps)


def _onecycle(optimizer, total_steps: int):
    from torch.optim.lr_scheduler import OneCycleLR

    return OneCycleLR(optimizer, max_lr=[g["lr"] for g in optimizer.param_groups], total_steps=total_steps)


SCHEDULES = {"none": None, "cosine": _cosine, "onecycle": _onecycle}  # name → maker (None: a constant rate)


def make_scheduler(optimizer, schedule: str, total_steps: int):
    """The scheduler `schedule` names over `total_steps` optimizer steps, or None for a constant rate."""
    maker = SCHEDULES[schedule]
    return maker(optimizer, total_steps) if maker else None

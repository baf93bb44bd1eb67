"""The training loop's state, typed: what an interrupted run needs to continue as if it never stopped.

LoopState is the loop's own bookkeeping (step, samples seen, time, the epoch's batch order, the
losses of the steps since the last evaluation). TrainingState adds the model, optimizer and
scheduler states and every random generator. Both turn into tensors and plain Python types only
(`as_dict`), so a checkpoint loads with `torch.load(weights_only=True)`, which never runs code.
"""

import hashlib
import random
from dataclasses import asdict, dataclass, field

import numpy as np
import torch


@dataclass
class LoopState:
    step: int = 0
    seen: int = 0  # training examples so far
    train_seconds: float = 0.0  # in training steps, evaluations excluded
    elapsed: float = 0.0  # wall time of the loop, across interruptions
    order: torch.Tensor | None = None  # this epoch's batch order (CPU)
    carried: list[float] = field(default_factory=list)  # losses since the last evaluation, already written
    carried_correct: int = 0
    carried_answers: int = 0


def rng_states(device: torch.device | None = None) -> dict:
    """Python's, NumPy's and torch's generators, and the CUDA generator of the run's own GPU (not of
    every visible GPU: a run resumed where fewer are visible would have nowhere to put the others)."""
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    states = {
        "python": [version, list(internal), gauss],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
    }
    if device is not None and device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def restore_rng(states: dict, device: torch.device | None = None) -> None:
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(states["torch"])
    if device is None or device.type != "cuda" or states.get("cuda") is None:
        return
    cuda = states["cuda"]
    if isinstance(cuda, list):  # written by an older version: one state per GPU visible then
        index = device.index or 0
        cuda = cuda[index] if index < len(cuda) else None
    if cuda is not None:
        torch.cuda.set_rng_state(cuda, device)


def restore_generator(gen: torch.Generator, state: torch.Tensor) -> None:
    """`gen.set_state(state)`, or, for the state of another kind of generator (a CUDA generator's 16
    bytes, from a checkpoint written before augmentation drew on the CPU), a reseed from that state:
    the run goes on with fresh draws instead of crashing."""
    if state.numel() == gen.get_state().numel():
        gen.set_state(state)
    else:
        gen.manual_seed(int.from_bytes(hashlib.sha256(state.numpy().tobytes()).digest()[:8], "little"))


@dataclass
class TrainingState:
    loop: LoopState
    model: dict
    optimizer: dict
    scheduler: dict | None
    order_gen: torch.Tensor
    augment_gen: torch.Tensor | None
    rng: dict

    @classmethod
    def capture(
        cls, loop: LoopState, model, optimizer, scheduler, order_gen, augment_gen=None, device=None
    ) -> "TrainingState":
        return cls(
            loop=loop,
            model=model.state_dict(),
            optimizer=optimizer.state_dict(),
            scheduler=scheduler.state_dict() if scheduler is not None else None,
            order_gen=order_gen.get_state(),
            augment_gen=augment_gen.get_state() if augment_gen is not None else None,
            rng=rng_states(device),
        )

    def restore(self, optimizer, scheduler, order_gen, augment_gen=None, device=None) -> None:
        """Everything but the model's weights, which the loop loads first (a model may change its
        parameters as it loads them, and the optimizer must then be rebuilt before this)."""
        optimizer.load_state_dict(self.optimizer)
        if scheduler is not None and self.scheduler is not None:
            scheduler.load_state_dict(self.scheduler)
        order_gen.set_state(self.order_gen)
        if augment_gen is not None and self.augment_gen is not None:
            restore_generator(augment_gen, self.augment_gen)
        restore_rng(self.rng, device)

    def as_dict(self) -> dict:
        return {**{k: getattr(self, k) for k in self.__dataclass_fields__ if k != "loop"}, "loop": asdict(self.loop)}

    @classmethod
    def from_dict(cls, record: dict) -> "TrainingState":
        return cls(**{**record, "loop": LoopState(**record["loop"])})

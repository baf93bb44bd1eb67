"""checkpoint.pt: everything an interrupted run needs to continue as if it had never stopped.

Model, optimizer and scheduler states, every random generator (Python, NumPy, torch CPU and CUDA,
and the loop's own batch-order generator), the step, the loop's unflushed bookkeeping and the
recorder's rows. Written to a temporary file and renamed, so a kill mid-write leaves the previous
file or none, never half of one.
"""
import os
import random
from pathlib import Path

import numpy as np
import torch

FILENAME = "checkpoint.pt"
FORMAT = 1


def rng_states() -> dict:
    states = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng(states: dict) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save(run_dir: str | Path, state: dict) -> Path:
    path = Path(run_dir) / FILENAME
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save({"format": FORMAT, **state}, tmp)
    os.replace(tmp, path)
    return path


def load(run_dir: str | Path) -> dict | None:
    """The checkpoint of a run dir; None when there is none or it cannot be read (then the run
    starts over rather than continue from something broken)."""
    path = Path(run_dir) / FILENAME
    if not path.exists():
        return None
    try:
        # our own file, holding NumPy RNG state and Python tuples besides tensors
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception:  # truncated or foreign file: unreadable is the same as absent
        return None
    needed = {"loop", "model", "optimizer", "scheduler", "order_gen", "rng", "metrics", "config"}
    return state if isinstance(state, dict) and state.get("format") == FORMAT and needed <= state.keys() else None


def remove(run_dir: str | Path) -> None:
    (Path(run_dir) / FILENAME).unlink(missing_ok=True)

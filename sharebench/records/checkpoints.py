"""The two weight files of a run dir: checkpoint.pt (to continue a run) and model.pt (its result).

checkpoint.pt holds a Checkpoint: the training state (train/state.py: model, optimizer, scheduler,
every random generator, the loop's bookkeeping), the evaluation rows so far, the config keys that
must match to continue, and the wall time so far. model.pt is a plain state_dict of the final weights
(`torch.load(path, weights_only=True)`, or hand the run dir to a model that accepts weights, e.g.
`model=resnet_transfer model.weights=<run dir>`); model_init.pt, written when trainer.save_initial_model
is true, is the same for the weights before the first step.

Both are written atomically, and read with `weights_only=True`: they hold only tensors and plain
Python types, so loading a file never runs code, whoever wrote it.
"""

import io
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn

from sharebench.errors import UserError
from sharebench.records.atomic import write_atomic

CHECKPOINT_FILE = "checkpoint.pt"
MODEL_FILE = "model.pt"
INITIAL_MODEL_FILE = "model_init.pt"  # trainer.save_initial_model: the weights before the first step
FORMAT = 2  # 1: sharebench 0.1, pickled NumPy and Python objects (not loadable with weights_only)


@dataclass
class Checkpoint:
    training: dict  # TrainingState.as_dict()
    metrics: list[dict]  # the evaluation rows up to the checkpoint
    config: dict  # resume key: the flat config that a continuation must match
    wall_seconds: float = 0.0


def _save(record, path: Path) -> Path:
    """torch.save through memory, then one atomic write: torch's own file writer reports a full disk
    as a RuntimeError without the file or the reason; Python's write raises OSError(ENOSPC, path)."""
    buffer = io.BytesIO()
    torch.save(record, buffer)
    write_atomic(path, buffer.getbuffer())
    return path


def save_checkpoint(run_dir: str | Path, checkpoint: Checkpoint) -> Path:
    return _save({"format": FORMAT, **asdict(checkpoint)}, Path(run_dir) / CHECKPOINT_FILE)


def load_checkpoint(run_dir: str | Path) -> Checkpoint | None:
    """The checkpoint of a run dir, or None when there is none. A file that is not one of ours —
    damaged, from another program or version, or crafted — is refused (UserError naming it): it is
    read with weights_only=True, so nothing in it runs."""
    path = Path(run_dir) / CHECKPOINT_FILE
    if not path.exists():
        return None
    refuse = (
        f"{path} is not a checkpoint this sharebench can continue from ({{why}}); it was not loaded: "
        f"delete it to start the run over, or resume another run"
    )
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, foreign, or holding Python objects that could run code
        why = "it holds Python objects, not only tensors" if "Weights only load failed" in str(err) else "unreadable"
        raise UserError(refuse.format(why=why)) from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise UserError(
            refuse.format(why=f"format {record.get('format') if isinstance(record, dict) else '?'}, expected {FORMAT}")
        )
    try:
        return Checkpoint(**{k: v for k, v in record.items() if k != "format"})
    except TypeError:
        raise UserError(refuse.format(why="fields missing")) from None


def remove_checkpoint(run_dir: str | Path) -> None:
    (Path(run_dir) / CHECKPOINT_FILE).unlink(missing_ok=True)


def save_model(model: nn.Module, run_dir: str | Path, name: str = MODEL_FILE) -> Path:
    """Write model.state_dict() (on the CPU) to run_dir/model.pt (or run_dir/<name>)."""
    return _save({k: v.detach().cpu() for k, v in model.state_dict().items()}, Path(run_dir) / name)

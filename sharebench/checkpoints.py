"""The final weights of a run: `model.pt` in its run dir, a plain state_dict written atomically.

Load one with `torch.load(path, weights_only=True)`, or hand the run dir to a model that accepts
weights (e.g. `model=resnet_transfer model.weights=<run dir>`).
"""
import os
from pathlib import Path

import torch
import torch.nn as nn

MODEL_FILE = "model.pt"


def save_model(model: nn.Module, run_dir: str | Path) -> Path:
    """Write model.state_dict() to run_dir/model.pt via a temporary file and a rename."""
    path = Path(run_dir) / MODEL_FILE
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp)
    os.replace(tmp, path)
    return path

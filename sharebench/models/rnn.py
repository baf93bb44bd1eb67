"""Recurrent nets: one cell shared by every time step (RNN), and its unshared twin (UnrolledRNN).

Both read the input as a sequence — a [C, L] signal is L steps of C features (MNIST-1D: 40 steps of
1), a [C, H, W] image is read row by row, H steps of C·W features — and classify from the last hidden
state with a linear head. UnrolledRNN runs the same recurrence with a separate cell per time step:
the temporal twin of a locally connected layer. Copy the shared cell into every step and the two
compute the same function.

Under mixed precision (trainer.amp) both run their recurrence in float32, outside autocast: CUDA's
autocast runs cuDNN's RNN in float16 even when bfloat16 is asked for (its RNN wrapper casts to half
unconditionally, and fp16 without loss scaling underflows), CPU autocast runs nn.RNN in bfloat16 but
nn.GRU in float32 and fails on nn.LSTM. The twin follows, so both arms train at one precision.
"""

from contextlib import nullcontext

import torch
import torch.nn as nn

from sharebench.errors import OptionError, UserError

CELLS = {"rnn": (nn.RNN, nn.RNNCell), "gru": (nn.GRU, nn.GRUCell), "lstm": (nn.LSTM, nn.LSTMCell)}


def sequence_view(input_shape) -> tuple[int, int]:
    """(steps, features per step) of one example, or a UserError when it has no sequence reading."""
    shape = tuple(input_shape)
    if len(shape) == 2:
        return shape[1], shape[0]
    if len(shape) == 3:
        return shape[1], shape[0] * shape[2]
    raise UserError(
        f"a recurrent model reads [C, L] sequences or [C, H, W] images row by row, not "
        f"inputs of shape {list(shape)}: pick such a dataset (e.g. dataset.shape=[1,40]) "
        f"or another model (model=mlp)"
    )


def to_sequence(x: torch.Tensor) -> torch.Tensor:
    """(B, C, L) → (B, L, C); (B, C, H, W) → (B, H, C·W)."""
    if x.dim() == 3:
        return x.transpose(1, 2)
    return x.permute(0, 2, 1, 3).flatten(2)


def float32(x: torch.Tensor):
    """Autocast switched off on x's device: the recurrence runs in float32 (see the module docstring)."""
    if not torch.amp.is_autocast_available(x.device.type):  # e.g. `meta`, where dry builds run
        return nullcontext()
    return torch.autocast(x.device.type, enabled=False)


def _check(cell: str, hidden) -> None:
    if cell not in CELLS:
        raise OptionError(f"model.cell={cell!r} is not valid: use {', '.join(CELLS)} (e.g. model.cell=gru)")
    if not (isinstance(hidden, int) and hidden > 0):
        raise OptionError(
            f"model.hidden={hidden!r} is not valid for a recurrent model: give one positive "
            f"integer (e.g. model.hidden=64)"
        )


class RNN(nn.Module):
    """nn.RNN / nn.GRU / nn.LSTM over the sequence (one set of weights for all steps), then a linear head."""

    def __init__(self, input_shape, num_outputs, cell="rnn", hidden=64):
        super().__init__()
        _check(cell, hidden)
        self.steps, features = sequence_view(input_shape)
        self.rnn = CELLS[cell][0](features, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with float32(x):
            out, _ = self.rnn(to_sequence(x).float())
        return self.fc(out[:, -1])


class UnrolledRNN(nn.Module):
    """The same recurrence with its own cell at every time step (steps.0, steps.1, …), then a linear head."""

    def __init__(self, input_shape, num_outputs, cell="rnn", hidden=64):
        super().__init__()
        _check(cell, hidden)
        self.steps, features = sequence_view(input_shape)
        self.cell, self.hidden = cell, hidden
        self.cells = nn.ModuleList(CELLS[cell][1](features, hidden) for _ in range(self.steps))
        self.fc = nn.Linear(hidden, num_outputs)

    @classmethod
    def from_shared(cls, shared: RNN, input_shape, num_outputs) -> "UnrolledRNN":
        """The unshared twin of `shared`: its weights copied into every step (for tests and demos)."""
        cell = next(k for k, (seq, _) in CELLS.items() if type(shared.rnn) is seq)
        twin = cls(input_shape, num_outputs, cell=cell, hidden=shared.rnn.hidden_size)
        with torch.no_grad():
            for step in twin.cells:
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(step, name).copy_(getattr(shared.rnn, f"{name}_l0"))
            twin.fc.load_state_dict(shared.fc.state_dict())
        return twin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with float32(x):
            seq = to_sequence(x).float()
            h = seq.new_zeros(seq.shape[0], self.hidden)
            state = (h, h) if self.cell == "lstm" else h
            for t, step in enumerate(self.cells):
                state = step(seq[:, t], state)
        return self.fc(state[0] if self.cell == "lstm" else state)

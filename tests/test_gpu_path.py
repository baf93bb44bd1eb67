"""The CUDA path, proven on the CPU: each finding of issue 25 reproduced by a CPU stand-in (CPU
bfloat16 autocast for CUDA's, patched CUDA calls for a GPU count or a second GPU, the meta device and
FakeTensorMode for tensors made on the wrong device). docs/gpu.md lists them; scripts/gpu_check.py
is what a machine with a GPU runs."""

import math
from contextlib import contextmanager

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from helpers.steps import MODELS, SLOW_MODELS, build, train_steps
from helpers.syncs import SyncCounter

from sharebench.data.augment import make_augment
from sharebench.errors import UserError
from sharebench.models.cnn import DenseMap
from sharebench.models.layers import LocallyConnected1d, LocallyConnected2d
from sharebench.models.rnn import RNN, UnrolledRNN
from sharebench.train import loop as loop_module
from sharebench.train import state as state_module
from sharebench.train.divergence import NonFiniteWatch
from sharebench.train.state import LoopState, TrainingState

EVERY_MODEL = [pytest.param(m, marks=pytest.mark.slow) if m in SLOW_MODELS else m for m in MODELS]


@contextmanager
def cpu_amp(monkeypatch):
    """trainer.amp as CUDA runs it (bfloat16 autocast around forward and loss, backward outside),
    on the CPU: the loop's autocast factory made to answer for the CPU too."""
    monkeypatch.setattr(loop_module, "autocast_for", lambda device, amp: lambda: torch.autocast("cpu", torch.bfloat16))
    yield


# ---- AMP: the custom autograd Function, every model, recurrent layers ---------------------------


@pytest.mark.parametrize("layer", ["2d", "1d"])
def test_locally_connected_backward_under_bf16_autocast(layer):
    torch.manual_seed(0)
    if layer == "2d":
        lc, x = LocallyConnected2d(2, 3, (6, 6), 3, padding=1), torch.randn(4, 2, 6, 6, requires_grad=True)
    else:
        lc, x = LocallyConnected1d(2, 3, 10, 3, padding=1), torch.randn(4, 2, 10, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = lc(x)
    assert y.dtype == torch.bfloat16  # the forward did run under autocast
    y.float().square().sum().backward()  # outside autocast, as the loop does: crashed before custom_bwd
    assert x.grad.dtype == lc.weight.grad.dtype == torch.float32
    # the same gradients as in float32, to bfloat16's precision
    exact = [t.detach().clone().requires_grad_() for t in (x, lc.weight, lc.bias)]
    fn = F.conv2d if layer == "2d" else F.conv1d  # not the layer under test: an independent reference
    del fn
    lc32 = type(lc)(2, 3, lc.input_size, lc.kernel_size, padding=lc.padding)
    lc32.load_state_dict(lc.state_dict())
    x32 = exact[0]
    lc32(x32).square().sum().backward()
    torch.testing.assert_close(lc.weight.grad, lc32.weight.grad, rtol=0.05, atol=0.05)
    torch.testing.assert_close(x.grad, x32.grad, rtol=0.05, atol=0.05)


@pytest.mark.parametrize("name", EVERY_MODEL)
def test_every_model_trains_a_few_steps_under_bf16_autocast(name, monkeypatch):
    with cpu_amp(monkeypatch):
        result, rows, model = train_steps(name)
    assert result.status == "completed" and result.steps == 3
    assert math.isfinite(rows[-1]["train_loss"]) and math.isfinite(rows[-1]["val_loss"])
    assert all(p.dtype == torch.float32 for p in model.parameters())  # autocast casts copies, never weights


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("net", [RNN, UnrolledRNN])
def test_recurrences_run_in_float32_under_autocast(cell, net):
    """CUDA's autocast would run cuDNN's RNN in float16 even when bfloat16 is asked for; CPU autocast
    runs nn.RNN in bfloat16 and fails on nn.LSTM. Both nets keep their recurrence in float32."""
    model = net((1, 10), 3, cell=cell, hidden=8)
    inner = model.rnn if net is RNN else model.cells[-1]
    seen = []
    inner.register_forward_hook(lambda m, args, out: seen.append(out[0] if isinstance(out, tuple) else out))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(torch.randn(4, 1, 10))
    out.float().sum().backward()
    assert seen and all(t.dtype == torch.float32 for t in seen)


# ---- no host sync in the step body, and no tensor on the wrong device ---------------------------


@pytest.mark.parametrize("name", EVERY_MODEL)
def test_step_body_never_synchronises(name):
    """A few steps of every model with augment.translate=1: nothing in sharebench's step body reads a
    value back or copies Python data to the device (both wait for the GPU on CUDA)."""
    with SyncCounter() as counter:
        result, rows, _ = train_steps(name)
    assert result.steps == 3 and rows
    assert counter.unplanned == []


def test_the_sync_counter_sees_a_sync():
    """The counter is not blind: a host read in the step body is caught, with its place."""
    with SyncCounter() as counter:
        make_augment(1, False, 0.0, 0, torch.device("cpu"))  # made outside the step body: not counted
        from sharebench.data import augment as augment_module

        augment_module.shift(torch.zeros(2, 1, 4), torch.zeros(2, 1, dtype=torch.long), [0.5])
    assert counter.unplanned and "augment.py" in counter.unplanned[0]


@pytest.mark.parametrize("name", [m for m in MODELS if m not in SLOW_MODELS])
def test_every_model_steps_on_the_meta_device(name):
    """Forward, backward and an optimizer step with the model and batch on `meta`: a tensor the step
    makes on the CPU (torch.arange(n) without device=) would meet a meta tensor and fail."""
    cfg, splits, model = build(name)
    model = model.to("meta")
    x = torch.empty(4, *splits.input_shape, device="meta")
    y = torch.empty(4, dtype=torch.long, device="meta")
    targets, penalty = getattr(model, "targets", None), getattr(model, "penalty", None)
    out = model(x)
    loss = F.cross_entropy(out.float(), targets(y) if targets else y)
    extra = penalty() if penalty else None
    (loss + extra if extra is not None else loss).backward()
    torch.optim.Adam(model.parameters()).step()
    assert out.device.type == "meta" and all(p.grad is None or p.grad.device.type == "meta" for p in model.parameters())


def test_augmentation_makes_its_tensors_on_the_batch_device(monkeypatch):
    """FakeTensorMode with a CUDA device: the augmentation's tensors meet a (fake) CUDA batch; one made
    on the CPU would raise a device mismatch. (FakeTensorMode needs no GPU; it cannot pin memory.)"""
    from torch._subclasses.fake_tensor import FakeTensorMode

    monkeypatch.setattr(torch.Tensor, "pin_memory", lambda t: t)

    with FakeTensorMode():
        augment = make_augment(2, True, [0.1], 0, torch.device("cuda"))
        x = torch.empty(8, 1, 6, 6, device="cuda")
        out = augment(x)
    assert out.device.type == "cuda" and out.shape == x.shape


# ---- resume across devices and GPU counts ------------------------------------------------------


def test_augmentation_generator_is_on_the_cpu_whatever_the_device():
    """A run on CUDA keeps a generator state that a CPU machine can restore (no CUDA here: made
    before, a CUDA generator could not even be built)."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():  # its fill lives on the device: a fake CUDA tensor here
        augment = make_augment(1, True, 0.0, 5, torch.device("cuda"))
    assert augment.generator.device.type == "cpu"
    cpu = make_augment(1, True, 0.0, 5, torch.device("cpu"))
    assert torch.equal(augment.generator.get_state(), cpu.generator.get_state())


def _state(augment_gen: torch.Tensor | None, rng: dict | None = None) -> TrainingState:
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return TrainingState(
        loop=LoopState(),
        model=model.state_dict(),
        optimizer=optimizer.state_dict(),
        scheduler=None,
        order_gen=torch.Generator().get_state(),
        augment_gen=augment_gen,
        rng=rng or state_module.rng_states(),
    )


def test_resume_with_a_generator_state_from_another_device_type():
    """A CUDA generator's state is 16 bytes (seed and offset); restoring it into a CPU generator
    raised. It now reseeds from it, deterministically."""
    cuda_state = torch.arange(16, dtype=torch.uint8)
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    draws = []
    for _ in range(2):
        gen = torch.Generator().manual_seed(0)
        _state(cuda_state).restore(optimizer, None, torch.Generator(), gen)
        draws.append(torch.randint(0, 1000, (5,), generator=gen))
    assert torch.equal(draws[0], draws[1])
    fresh = torch.randint(0, 1000, (5,), generator=torch.Generator().manual_seed(0))
    assert not torch.equal(draws[0], fresh)


class FakeCuda:
    """torch.cuda as a machine with `count` GPUs would answer, each with its own RNG state."""

    def __init__(self, monkeypatch, count: int):
        self.count, self.set = count, []
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: self.count)
        monkeypatch.setattr(torch.cuda, "get_rng_state", lambda device="cuda": self._state(device))
        monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: [self._state(i) for i in range(self.count)])
        monkeypatch.setattr(torch.cuda, "set_rng_state", self._set)
        monkeypatch.setattr(
            torch.cuda, "set_rng_state_all", lambda states: [self._set(s, i) for i, s in enumerate(states)]
        )

    @staticmethod
    def _index(device) -> int:
        device = torch.device("cuda", device) if isinstance(device, int) else torch.device(device)
        return device.index or 0

    def _state(self, device) -> torch.Tensor:
        return torch.full((16,), self._index(device), dtype=torch.uint8)

    def _set(self, state, device="cuda"):
        index = self._index(device)
        if index >= self.count:
            raise IndexError(f"CUDA device {index} does not exist: {self.count} visible")  # what CUDA says, in short
        self.set.append((index, int(state[0])))


def test_cuda_rng_state_of_the_run_gpu_only(monkeypatch):
    """Saved on a 4-GPU workstation, resumed on a 1-GPU SLURM node: only the run's GPU's state travels."""
    workstation = FakeCuda(monkeypatch, 4)
    states = state_module.rng_states(torch.device("cuda:0"))
    assert torch.equal(states["cuda"], torch.zeros(16, dtype=torch.uint8))
    workstation.count = 1
    state_module.restore_rng(states, torch.device("cuda:0"))
    assert workstation.set == [(0, 0)]
    workstation.count, workstation.set = 2, []
    older = {**states, "cuda": torch.cuda.get_rng_state_all()}  # as checkpoints held it before: every GPU's
    state_module.restore_rng(older, torch.device("cuda:1"))
    assert workstation.set == [(1, 1)]  # the run's own GPU's state, not GPU 0's


# ---- a second GPU: its own stream, no context on GPU 0 -----------------------------------------


def test_divergence_event_is_recorded_on_the_run_gpu(monkeypatch):
    recorded = []

    class Event:
        def record(self, stream=None):
            recorded.append(stream)

        def query(self):
            return True

    monkeypatch.setattr(torch.cuda, "Event", Event)
    monkeypatch.setattr(torch.cuda, "current_stream", lambda device=None: ("stream of", str(device)))
    real_zeros = torch.zeros
    monkeypatch.setattr(torch, "zeros", lambda *a, pin_memory=False, **k: real_zeros(*a, **k))  # no pinned memory here
    watch = NonFiniteWatch(torch.device("cuda:1"))
    losses = [torch.tensor(1.0)] * watch.every
    watch.tripped(losses)
    assert recorded == [("stream of", "cuda:1")]
    assert watch.tripped(losses + [torch.tensor(float("nan"))] * watch.every) is False  # in flight…
    assert watch.tripped(losses + [torch.tensor(float("nan"))] * watch.every) is True  # …then seen


def test_cuda_1_is_made_current_and_checked(monkeypatch):
    from sharebench.train.devices import pick_device

    made_current = []
    FakeCuda(monkeypatch, 2)
    monkeypatch.setattr(torch.cuda, "set_device", made_current.append)
    assert pick_device("cuda:1") == torch.device("cuda:1")
    assert made_current == [torch.device("cuda:1")]  # else pinned memory and events open a context on GPU 0
    with pytest.raises(UserError, match="2 GPU"):
        pick_device("cuda:2")


# ---- the clock waits for the device ------------------------------------------------------------


def test_clock_waits_for_the_queued_work(monkeypatch):
    events = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: events.append(("sync", device)))
    real = loop_module.time.perf_counter
    monkeypatch.setattr(loop_module.time, "perf_counter", lambda: events.append("clock") or real())
    loop_module.device_clock(torch.device("cuda:1"))()
    assert events == [("sync", torch.device("cuda:1")), "clock"]


def test_loop_reads_the_device_clock_at_every_flush_and_snapshot(monkeypatch):
    reads = []

    def device_clock(device):
        def clock():
            reads.append(device)
            return loop_module.time.perf_counter()

        return clock

    monkeypatch.setattr(loop_module, "device_clock", device_clock)
    result, rows, _ = train_steps("mlp", "trainer.max_steps=6", "trainer.eval_every=2")
    assert len(rows) == 3 and len(reads) == 3 and result.train_seconds > 0


# ---- one precision for every arm --------------------------------------------------------------


def tf32_conv(x, weight, *args):
    """A convolution as a GPU runs it with TF32: float32 operands rounded to 10 mantissa bits."""

    def round_tf32(t):
        if t.dtype != torch.float32:
            return t
        bits = t.view(torch.int32)
        return ((bits + 0x1000) & ~0x1FFF).view(torch.float32)

    return F.conv2d(round_tf32(x), round_tf32(weight), *args)


def test_dense_from_conv_copies_the_weights_exactly_even_through_a_tf32_conv(monkeypatch):
    from sharebench.models import cnn

    torch.manual_seed(6)
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1)
    monkeypatch.setitem(cnn.CONV_FN, 2, tf32_conv)
    dense = DenseMap.from_conv(conv, (5, 6))
    weights = set(conv.weight.detach().flatten().tolist()) | {0.0}
    assert set(dense.weight.detach().flatten().tolist()) <= weights  # every entry a copy, none rounded
    monkeypatch.undo()
    x = torch.randn(2, 2, 5, 6, dtype=torch.float64)
    torch.testing.assert_close(dense.double()(x), conv.double()(x), rtol=1e-12, atol=1e-12)


def test_precision_policy_is_set_once_and_recorded():
    from sharebench.train.devices import set_precision

    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = (
        True  # PyTorch's CUDA defaults: TF32 convs
    )
    record = set_precision(torch.device("cpu"), amp=True)
    assert torch.backends.cudnn.allow_tf32 is False and torch.backends.cuda.matmul.allow_tf32 is False
    assert record == {"precision": "float32", "tf32": False, "deterministic_algorithms": False}  # amp: CUDA only


# ---- memory: refused before training -----------------------------------------------------------


def test_untie_to_dense_at_32x32_is_counted_without_being_built():
    from sharebench.train.memory import check_fits, largest_parameter_count

    cfg, splits, _ = build("untie_cnn", "model.scheme.untie_to=dense", "model.scheme.untie_at=100")
    with torch.device("meta"):
        from sharebench import models

        net = models.build(cfg.model, (3, 32, 32), 10)
    count = largest_parameter_count(net)
    assert count == (3 * 1024) * (16 * 1024) + 16 * 1024 + (16 * 1024) * (32 * 1024) + 32 * 1024 + 10 * 32 * 1024 + 10
    assert count > 500_000_000  # the 537M map the issue found
    with pytest.raises(UserError, match="untie_to=local"):
        check_fits(torch.device("cpu"), count * 1000, 0)
    check_fits(torch.device("cpu"), 1000, 1000)  # a small run passes


def test_a_run_that_cannot_fit_is_refused_before_anything_is_written(tmp_path):
    from helpers.configs import make_cfg

    from sharebench.run import experiment

    cfg = make_cfg(*TOO_BIG)
    with pytest.raises(UserError, match="needs at least .*model.scheme.untie_to=local"):
        experiment.run(cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()


TOO_BIG = (
    "model=untie_cnn",
    "model.scheme.untie_to=dense",
    "dataset=synthetic",
    "dataset.shape=[3,128,128]",  # its dense twin: ~150G parameters, more than any machine here holds
    "dataset.train_size=20",
    "dataset.val_size=0",
    "dataset.test_size=0",
    "trainer.max_steps=1",
    "device=cpu",
)


@pytest.mark.slow
def test_a_run_that_cannot_fit_is_refused_in_one_line_before_training(tmp_path):
    from helpers.commands import sharebench

    done = sharebench("run", *TOO_BIG, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "sharebench: error: this run needs at least" in done.stderr
    assert "model.scheme.untie_to=local" in done.stderr
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("summary.json"))

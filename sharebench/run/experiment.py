"""run(cfg) in three steps, a plain function, no Hydra inside: assemble (config → device, data, model,
optimizer, augmentation; the model built once), train (the loop, each evaluation recorded), record
(recording.py: the summary, the files, the figures).

assemble(cfg) is also the Python face's (sharebench.assemble): a run's parts, for training another way.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig
from tqdm.contrib.logging import logging_redirect_tqdm

from sharebench import data, models
from sharebench.checks.values import check_config
from sharebench.data.augment import make_augment
from sharebench.models.diagnostics import sharing_diagnostics
from sharebench.models.position_maps import position_map_metrics
from sharebench.records.checkpoints import Checkpoint
from sharebench.run.recording import Recording
from sharebench.train.devices import pick_device, set_precision
from sharebench.train.feature_cache import with_cached_features
from sharebench.train.loop import FitResult, fit, planned_steps
from sharebench.train.memory import check_fits, largest_parameter_count
from sharebench.train.optimizers import build_optimizer
from sharebench.train.shifted_eval import require_positions, shifted_accuracy
from sharebench.train.state import TrainingState


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


@dataclass
class Parts:
    """What a run trains, made as run() makes it: `fit()` trains them through the run's loop, or train
    them your own way. The model is initialised from cfg.seed; data and model sit on the device."""

    cfg: DictConfig
    device: torch.device
    precision: dict  # what set_precision chose (float32, tf32, …): the run's summary records it
    splits: data.Splits  # train/val/test tensors on the device
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer  # over the trainable parameters only
    augment: Callable | None  # training batch → augmented batch (augment.translate/flip), or None

    def fit(self, on_evaluation=None, on_steps=None, **options) -> FitResult:
        """Train with the run's loop (train/loop.py fit; `options`: should_stop, resume, …), without
        writing anything: `on_evaluation(row)` and `on_steps(rows)` receive what a run records."""
        return fit(
            self.model,
            self.splits,
            self.optimizer,
            self.cfg.trainer,
            self.device,
            self.cfg.seed,
            on_evaluation or (lambda row: None),
            on_steps or (lambda rows: None),
            augment=self.augment,
            **options,
        )


def assemble(cfg: DictConfig) -> Parts:
    """Check the config's values, then make a run's parts: device, data, model (built once, from the
    seed), optimizer, augmentation. What cannot fit the device is refused before it moves there."""
    check_config(cfg)
    device = pick_device(cfg.device)
    precision = set_precision(device, cfg.trainer.amp)  # before anything computes: cuBLAS reads it at start
    splits = data.load(cfg.dataset)
    shifts, augment = cfg.get("eval") or {}, cfg.get("augment") or {}
    require_positions(splits.input_shape, shifts.get("shifts"), augment.get("translate", 0))
    seed_everything(cfg.seed)
    model = models.build(cfg.model, splits.input_shape, splits.num_outputs)
    # on the CPU its weights are a quarter of the floor estimate: a model that cannot train there, or
    # grows past the device when it unties, is refused before the data or the model move
    check_fits(device, largest_parameter_count(model), splits.elements())
    splits, model = splits.to(device), model.to(device)
    # the trainable parameters only: a frozen backbone (resnet_transfer) trains its head alone, and the
    # loop continues a run with an optimizer over exactly these (its checkpoint must load into it)
    optimizer = build_optimizer(cfg.optim, [p for p in model.parameters() if p.requires_grad])
    translate, flip = augment.get("translate", 0), augment.get("flip", False)
    return Parts(
        cfg, device, precision, splits, model, optimizer, make_augment(translate, flip, splits.fill, cfg.seed, device)
    )


def train(parts: Parts, recording: Recording, should_stop, training: TrainingState | None) -> FitResult | None:
    """The run's loop over the parts, each evaluation (with its shifted accuracies and the model's
    sharing diagnostics) recorded; None after a hard Ctrl-C (the run ends interrupted)."""
    cfg, model, splits = parts.cfg, parts.model, parts.splits
    shifts = cfg.get("eval") or {}
    total_steps = planned_steps(len(splits.train[0]), cfg.trainer)

    def on_evaluation(row: dict) -> None:
        axes = shifts.get("shift_axes", "both")
        row.update(
            shifted_accuracy(
                model, splits, shifts.get("shifts") or [], axes, cfg.trainer.eval_batch_size, amp=cfg.trainer.amp
            )
        )
        row.update(sharing_diagnostics(model))  # how alike the kernels of unshared layers are
        row.update(position_map_metrics(model))  # where each layer sits: locality, sharing, width
        recording.add_evaluation(row, total_steps)

    try:
        # a frozen backbone's features are computed once: then only the head trains, on them
        trained, data_in = with_cached_features(model, splits, cfg)
        with logging_redirect_tqdm():  # log lines print above the progress bar instead of through it
            return fit(
                trained,
                data_in,
                parts.optimizer,
                cfg.trainer,
                parts.device,
                cfg.seed,
                on_evaluation,
                recording.recorder.add_steps,
                augment=parts.augment,
                should_stop=should_stop,
                resume=training,
                on_checkpoint=recording.checkpoint,
            )
    except KeyboardInterrupt:
        return None
    except Exception:  # the job wrapper records the failure in summary.json
        recording.recorder.close()
        raise


def run(
    cfg: DictConfig,
    run_dir: str | Path,
    choices: dict | None = None,
    should_stop=lambda: False,
    resume: Checkpoint | None = None,
) -> dict:
    """Train one configuration and write its run directory; returns the summary record. Three steps:
    assemble the parts, train them, record the outcome (recording.py).

    `should_stop()` turning true ends the run as `interrupted` with a checkpoint.pt; `resume` (a loaded
    checkpoint) continues such a run."""
    parts = assemble(cfg)
    recording = Recording.open(parts, Path(run_dir), choices or {}, resume)
    result = train(parts, recording, should_stop, recording.training)
    summary = recording.finish(parts.model, result)
    if result is None:  # a hard KeyboardInterrupt, not a requested stop: pass it on
        raise KeyboardInterrupt
    return summary

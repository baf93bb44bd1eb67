"""run(cfg): data → model → accounting → training → records. A plain function, no Hydra inside.

assemble(cfg) makes the parts of a run — device, data, model, optimizer, augmentation — as run() makes
them, for training another way (sharebench.assemble; the benchmarks and tests that drive the loop).
"""

import logging
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from tqdm.contrib.logging import logging_redirect_tqdm

from sharebench import __version__, data, models
from sharebench.accounting import account
from sharebench.checks.values import check_config
from sharebench.configs import flatten
from sharebench.data.augment import make_augment
from sharebench.models.diagnostics import sharing_diagnostics
from sharebench.models.position_maps import position_map_metrics
from sharebench.records.checkpoints import (
    INITIAL_MODEL_FILE,
    Checkpoint,
    remove_checkpoint,
    save_checkpoint,
    save_model,
)
from sharebench.records.columns import summary_entries
from sharebench.records.provenance import environment
from sharebench.records.run_dir import RunRecorder, read_csv
from sharebench.records.sinks import build_sinks
from sharebench.run.resume_plan import resume_key
from sharebench.terminal import say
from sharebench.train.devices import pick_device, set_precision
from sharebench.train.feature_cache import with_cached_features
from sharebench.train.loop import FitResult, fit, planned_steps
from sharebench.train.memory import check_fits, largest_parameter_count
from sharebench.train.optimizers import build_optimizer
from sharebench.train.shifted_eval import require_positions, shifted_accuracy
from sharebench.train.state import TrainingState
from sharebench.train.threads import set_threads

log = logging.getLogger("sharebench")  # the terminal (one short line per evaluation) and the log file
detail = logging.getLogger("sharebench.detail")  # the log file only (conf/hydra/job_logging/)


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


def run(
    cfg: DictConfig,
    run_dir: str | Path,
    choices: dict | None = None,
    should_stop=lambda: False,
    resume: Checkpoint | None = None,
) -> dict:
    """Train one configuration and write its run directory; returns the summary record.

    `should_stop()` turning true ends the run as `interrupted` with a checkpoint.pt; `resume` (a loaded
    checkpoint) continues such a run."""
    choices = choices or {}
    run_dir = Path(run_dir)
    parts = assemble(cfg)
    device, splits, model = parts.device, parts.splits, parts.model
    table, totals = account(model, splits.input_shape)  # effective counts, MACs: one forward

    config = flatten(OmegaConf.to_container(cfg, resolve=True))  # logger=mlflow logs it as params
    recorder = RunRecorder(
        run_dir, sinks=build_sinks(cfg.get("logger"), run_dir, config, resume.metrics if resume else None)
    )
    # a resumed run keeps its records up to the checkpoint; a new one starts from empty files
    training = TrainingState.from_dict(resume.training) if resume else None
    recorder.restore(resume.metrics if resume else [], training.loop.step if training else 0)
    recorder.write_params(table)
    names = {
        "model": choices.get("model") or cfg.model.get("_target_", "?").rsplit(".", 1)[-1],
        "dataset": choices.get("dataset") or cfg.dataset.get("_target_", "?").rsplit(".", 2)[-2],
        "optim": choices.get("optim") or cfg.optim.get("_target_", "?").rsplit(".", 1)[-1],
    }
    summary = {
        **names,
        "seed": cfg.seed,
        "status": "running",
        **totals,
        "task": splits.task,
        "input_shape": list(splits.input_shape),
        **{f"{k}_size": v for k, v in splits.sizes().items()},
        "device": str(device),
        **parts.precision,
        "sharebench_version": __version__,
        **environment(),
        "run_dir": str(run_dir),
        "resumed_from_step": training.loop.step if training else None,
    }
    summary["threads"], summary["threads_reason"] = set_threads(  # torch's intra-op threads: train/threads.py
        cfg.trainer.get("threads", "auto"), totals["macs_per_example"], cfg.trainer.batch_size, device
    )
    if cfg.trainer.get("save_initial_model", False) and training is None:  # a resumed run wrote it at its start
        summary["initial_model_file"] = str(save_model(model, run_dir, INITIAL_MODEL_FILE))
    recorder.write_summary(summary)
    detail.info(
        "%s on %s: %s parameters, %s train / %s val / %s test examples, input %s, device %s",
        names["model"],
        names["dataset"],
        f"{summary['params_total']:,}",
        *splits.sizes().values(),
        "×".join(map(str, splits.input_shape)),
        device,
    )

    shifts = cfg.get("eval") or {}
    total_steps = planned_steps(len(splits.train[0]), cfg.trainer)

    def on_evaluation(row: dict) -> None:
        row.update(
            shifted_accuracy(
                model,
                splits,
                shifts.get("shifts") or [],
                shifts.get("shift_axes", "both"),
                cfg.trainer.eval_batch_size,
                amp=cfg.trainer.amp,
            )
        )
        row.update(sharing_diagnostics(model))  # how alike the kernels of unshared layers are
        row.update(position_map_metrics(model))  # where each layer sits: locality, sharing, width
        recorder.add_evaluation(row)
        detail.info(
            "step %d (epoch %.2f): train loss %.4f | val loss %.4f acc %.4f | test loss %.4f acc %.4f",
            row["step"],
            row["epoch"],
            row["train_loss"],
            row["val_loss"],
            row["val_acc"],
            row["test_loss"],
            row["test_acc"],
        )
        log.info(evaluation_line(row, total_steps))  # the terminal's one line per evaluation

    started = time.perf_counter()
    key = resume_key(cfg)

    def wall_seconds() -> float:
        return round(time.perf_counter() - started + (resume.wall_seconds if resume else 0.0), 3)

    def on_checkpoint(state: TrainingState) -> None:  # every trainer.checkpoint_every seconds
        recorder.flush()  # logger=mlflow: MLflow holds every evaluation this checkpoint holds
        save_checkpoint(run_dir, Checkpoint(state.as_dict(), recorder.metrics, key, wall_seconds()))

    try:
        # a frozen backbone's features are computed once: then only the head trains, on them
        trained, data_in = with_cached_features(model, splits, cfg)
        with logging_redirect_tqdm():  # log lines print above the progress bar instead of through it
            result = fit(
                trained,
                data_in,
                parts.optimizer,
                cfg.trainer,
                device,
                cfg.seed,
                on_evaluation,
                recorder.add_steps,
                augment=parts.augment,
                should_stop=should_stop,
                resume=training,
                on_checkpoint=on_checkpoint,
            )
        summary["status"] = result.status
        if result.status != "interrupted" and cfg.trainer.get("save_model", True):
            summary["model_file"] = str(save_model(model, run_dir))
    except KeyboardInterrupt:
        summary["status"] = "interrupted"
        result = None
    except Exception:  # the job wrapper records the failure in summary.json
        recorder.close()
        raise
    if getattr(model, "untied", False):  # untie_at: the step from which it trained unshared
        summary["untied_at_step"] = model.untie_at
    last = recorder.metrics[-1] if recorder.metrics else {}
    summary.update(
        {
            "steps": result.steps if result else last.get("step", 0),
            "epochs": result.epochs if result else last.get("epoch", 0),
            **summary_entries(recorder.metrics),  # final_<column>, best_<column>
            "train_seconds": round(result.train_seconds, 3) if result else math.nan,
            "wall_seconds": wall_seconds(),
            "samples_per_second": round(result.samples_seen / result.train_seconds, 1)
            if result and result.train_seconds > 0
            else math.nan,
        }
    )
    if result and result.state is not None:  # interrupted between two steps: keep how to go on
        recorder.flush()
        save_checkpoint(run_dir, Checkpoint(result.state.as_dict(), recorder.metrics, key, summary["wall_seconds"]))
    elif result:
        remove_checkpoint(run_dir)
    recorder.write_summary(summary)
    if cfg.trainer.plots and recorder.metrics and summary["status"] != "interrupted":
        steps = read_csv(run_dir / "steps.csv") if (run_dir / "steps.csv").exists() else []
        from sharebench.records.run_plots import plot_run

        plot_run(
            recorder.metrics,
            steps,
            run_dir / "plots",
            f"{names['model']} on {names['dataset']}",
            marks={"untied": summary["untied_at_step"]} if summary.get("untied_at_step") else None,
        )
    recorder.close()  # after the plots: logger=mlflow sends them with the records
    say(format_summary(summary, cfg))
    if result is None:  # a hard KeyboardInterrupt, not a requested stop: pass it on
        raise KeyboardInterrupt
    return summary


def _shown_path(path: str) -> str:
    """A run dir as the person typed their way to it: relative to where they are, when it is below."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def evaluation_line(row: dict, total_steps: int) -> str:
    """One evaluation in at most 80 columns: progress, training loss, validation and test score."""
    parts = [f"step {row['step']:,}/{total_steps:,}", f"train loss {row['train_loss']:.4g}"]
    for split in ("val", "test"):  # a split the dataset lacks (val_size=0) is left out
        acc, loss = row.get(f"{split}_acc", math.nan), row.get(f"{split}_loss", math.nan)
        if math.isfinite(acc):
            parts.append(f"{split} acc {100 * acc:.2f}%")
        elif math.isfinite(loss):
            parts.append(f"{split} loss {loss:.4g}")
    return " · ".join(parts)[:80]


def format_summary(s: dict, cfg: DictConfig | None = None) -> str:
    """The few lines a person reads at the end of a run."""

    def pct(v):
        return "—" if v is None or not math.isfinite(v) else f"{100 * v:.2f}%"

    def num(v, fmt):
        return "—" if v is None or not math.isfinite(v) else format(v, fmt)

    lines = [
        f"── sharebench: {s['model']} on {s['dataset']} · seed {s['seed']} · {s['status']} ──",
        f"  parameters  {s['params_total']:,} (trainable {s['params_trainable']:,}, frozen {s['params_frozen']:,})",
    ]
    if "params_effective" in s:
        lines.append(
            f"  if unshared {s['params_effective']:,} (sharing ×{s['sharing_factor']:,.2f}), "
            f"{s['macs_per_example']:,} MACs per example"
        )
    if s["task"] == "classification":
        lines.append(
            f"  accuracy    test {pct(s['final_test_acc'])} · val {pct(s['final_val_acc'])} "
            f"· best val {pct(s['best_val_acc'])}"
        )
        shifted = [(k.rsplit("shift", 1)[1], v) for k, v in s.items() if k.startswith("final_test_acc_shift")]
        if shifted:  # eval.shifts
            lines.append("  shifted     " + " · ".join(f"{k} px {pct(v)}" for k, v in shifted))
    lines += [
        f"  loss        test {num(s['final_test_loss'], '.4f')} · val {num(s['final_val_loss'], '.4f')} "
        f"· train {num(s['final_train_loss'], '.4f')}",
        f"  time        {num(s['train_seconds'], '.1f')} s training, {s['steps']:,} steps, "
        f"{num(s['samples_per_second'], ',.0f')} samples/s on {s['device']}",
        f"  files       {_shown_path(s['run_dir'])}",
    ]
    if s["status"] == "diverged":
        lr = OmegaConf.select(cfg, "optim.lr") if cfg is not None else None
        lines.append(
            f"  diverged    the loss became NaN or inf: try a lower optim.lr"
            f"{f' (now {lr:g})' if isinstance(lr, (int, float)) else ''} or trainer.grad_clip=1.0"
        )
    return "\n".join(lines)

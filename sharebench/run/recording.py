"""A run's records as it goes — the record step of experiment.run: the summary (made here, in one
place: what the run is at its start, how it ended at its end), the recorder's files and sinks, the
checkpoints and the run's clock, the per-run figures, and the lines the terminal shows."""

import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from sharebench.accounting import account
from sharebench.configs import flatten
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
from sharebench.train.state import TrainingState
from sharebench.train.threads import set_threads
from sharebench.version import __version__

log = logging.getLogger("sharebench")  # the terminal (one short line per evaluation) and the log file
detail = logging.getLogger("sharebench.detail")  # the log file only (conf/hydra/job_logging/)


@dataclass
class Recording:
    """One run's records, opened by open() before training and closed by finish() after it."""

    run_dir: Path
    cfg: DictConfig
    recorder: RunRecorder
    summary: dict
    training: TrainingState | None  # where a resumed run continues from; None for a new run
    resumed_seconds: float = 0.0  # the wall seconds of the run before it was resumed
    key: dict = field(default_factory=dict)  # the config a checkpoint must match to be continued
    started: float = field(default_factory=time.perf_counter)

    @classmethod
    def open(cls, parts, run_dir: Path, choices: dict, resume: Checkpoint | None) -> "Recording":
        """Account the model, set the threads, write params.csv and the summary (status running)."""
        cfg, splits, model = parts.cfg, parts.splits, parts.model
        table, totals = account(model, splits.input_shape)  # effective counts, MACs: one forward
        config = flatten(OmegaConf.to_container(cfg, resolve=True))  # logger=mlflow logs it as params
        sinks = build_sinks(cfg.get("logger"), run_dir, config, resume.metrics if resume else None)
        recorder = RunRecorder(run_dir, sinks=sinks)
        # a resumed run keeps its records up to the checkpoint; a new one starts from empty files
        training = TrainingState.from_dict(resume.training) if resume else None
        recorder.restore(resume.metrics if resume else [], training.loop.step if training else 0)
        recorder.write_params(table)
        summary = start_summary(parts, _names(cfg, choices), totals, run_dir, training)
        if cfg.trainer.get("save_initial_model", False) and training is None:  # a resumed run wrote it at its start
            summary["initial_model_file"] = str(save_model(model, run_dir, INITIAL_MODEL_FILE))
        recorder.write_summary(summary)
        detail.info(
            "%s on %s: %s parameters, %s train / %s val / %s test examples, input %s, device %s",
            summary["model"],
            summary["dataset"],
            f"{summary['params_total']:,}",
            *splits.sizes().values(),
            "×".join(map(str, splits.input_shape)),
            parts.device,
        )
        seconds = resume.wall_seconds if resume else 0.0
        return cls(run_dir, cfg, recorder, summary, training, seconds, resume_key(cfg))

    def wall_seconds(self) -> float:
        return round(time.perf_counter() - self.started + self.resumed_seconds, 3)

    def add_evaluation(self, row: dict, total_steps: int) -> None:
        self.recorder.add_evaluation(row)
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

    def checkpoint(self, state: TrainingState) -> None:  # every trainer.checkpoint_every seconds
        self.recorder.flush()  # logger=mlflow: MLflow holds every evaluation this checkpoint holds
        save_checkpoint(self.run_dir, Checkpoint(state.as_dict(), self.recorder.metrics, self.key, self.wall_seconds()))

    def finish(self, model, result) -> dict:
        """The run's end written: model.pt, the summary's outcome, the checkpoint kept (a stop) or
        removed, the per-run figures; `result` is fit's FitResult, or None after a hard Ctrl-C."""
        try:
            summary = self.summary
            if result and result.status != "interrupted" and self.cfg.trainer.get("save_model", True):
                summary["model_file"] = str(save_model(model, self.run_dir))
            if getattr(model, "untied", False):  # untie_at: the step from which it trained unshared
                summary["untied_at_step"] = model.untie_at
            summary.update(end_summary(result, self.recorder.metrics, self.wall_seconds()))
            if result and result.state is not None:  # interrupted between two steps: keep how to go on
                self.recorder.flush()
                state = Checkpoint(result.state.as_dict(), self.recorder.metrics, self.key, summary["wall_seconds"])
                save_checkpoint(self.run_dir, state)
            elif result:
                remove_checkpoint(self.run_dir)
            self.recorder.write_summary(summary)
            if self.cfg.trainer.plots and self.recorder.metrics and summary["status"] != "interrupted":
                self._plot()
        finally:
            self.recorder.close()  # after the plots: logger=mlflow sends them with the records
        say(format_summary(summary, self.cfg))
        return summary

    def _plot(self) -> None:
        from sharebench.records.run_plots import plot_run

        steps_file = self.run_dir / "steps.csv"
        untied = self.summary.get("untied_at_step")
        plot_run(
            self.recorder.metrics,
            read_csv(steps_file) if steps_file.exists() else [],
            self.run_dir / "plots",
            f"{self.summary['model']} on {self.summary['dataset']}",
            marks={"untied": untied} if untied else None,
        )


def _names(cfg: DictConfig, choices: dict) -> dict:
    """The option names a run is known by: Hydra's choices, else its targets' names."""
    return {
        "model": choices.get("model") or cfg.model.get("_target_", "?").rsplit(".", 1)[-1],
        "dataset": choices.get("dataset") or cfg.dataset.get("_target_", "?").rsplit(".", 2)[-2],
        "optim": choices.get("optim") or cfg.optim.get("_target_", "?").rsplit(".", 1)[-1],
    }


def start_summary(parts, names: dict, totals: dict, run_dir: Path, training: TrainingState | None) -> dict:
    """What the run is, written before it trains (status running); set_threads applies the threads."""
    cfg, splits = parts.cfg, parts.splits
    threads, reason = set_threads(  # torch's intra-op threads: train/threads.py
        cfg.trainer.get("threads", "auto"), totals["macs_per_example"], cfg.trainer.batch_size, parts.device
    )
    return {
        **names,
        "seed": cfg.seed,
        "status": "running",
        **totals,
        "task": splits.task,
        "input_shape": list(splits.input_shape),
        **{f"{k}_size": v for k, v in splits.sizes().items()},
        "device": str(parts.device),
        **parts.precision,
        "sharebench_version": __version__,
        **environment(),
        "run_dir": str(run_dir),
        "resumed_from_step": training.loop.step if training else None,
        "threads": threads,
        "threads_reason": reason,
    }


def end_summary(result, metrics: list[dict], wall_seconds: float) -> dict:
    """How the run ended: its status, steps, final and best values, and its times."""
    last = metrics[-1] if metrics else {}
    return {
        "status": result.status if result else "interrupted",
        "steps": result.steps if result else last.get("step", 0),
        "epochs": result.epochs if result else last.get("epoch", 0),
        **summary_entries(metrics),  # final_<column>, best_<column>
        "train_seconds": round(result.train_seconds, 3) if result else math.nan,
        "wall_seconds": wall_seconds,
        "samples_per_second": round(result.samples_seen / result.train_seconds, 1)
        if result and result.train_seconds > 0
        else math.nan,
    }


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

"""Hydra callback for logger=mlflow: a sweep (-m) is one parent MLflow run with each job nested under it.

Before the jobs start, the parent run is made and its id written to <sweep dir>/mlflow_sweep.json,
where every job finds it (records/mlflow_sink.py), in this process or another (joblib, submitit).
When the sweep ends — after the comparison callback has written <sweep dir>/comparison/ (Hydra ends
callbacks in reverse order, so this one is listed before it in conf/config.yaml) — the comparison's
files become the parent's artifacts and the parent ends FINISHED, or FAILED when a job failed.
Does nothing, and imports nothing, with any other logger.
"""

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sharebench.errors import UserError
from sharebench.records.run_dir import read_summary

log = logging.getLogger("sharebench")


def _uses_mlflow(config: DictConfig) -> bool:
    return str(OmegaConf.select(config, "logger._target_", default="") or "").endswith(".MlflowSink")


def sweep_params(config: DictConfig) -> tuple[dict, list[str]]:
    """The sweep's overrides as params ({"model": "shared_cnn,mlp", "seed": "0,1", …}), with an
    experiment's own hydra.sweeper.params, and the keys that vary (they name the jobs' runs)."""
    from sharebench.configs import parse_overrides

    overrides = parse_overrides([str(o) for o in OmegaConf.select(config, "hydra.overrides.task", default=[]) or []])
    params = {o.key_or_group: o.get_value_string() for o in overrides if not o.is_delete()}
    swept = [o.key_or_group for o in overrides if o.is_sweep_override()]
    for key, value in (OmegaConf.select(config, "hydra.sweeper.params", default=None) or {}).items():
        params.setdefault(str(key), str(value))
        swept.append(str(key))
    return params, list(dict.fromkeys(swept))


class MlflowSweepCallback(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        if not _uses_mlflow(config):
            return
        from sharebench.records.mlflow_sink import start_sweep

        try:
            start_sweep(
                Path(config.hydra.sweep.dir),
                config.logger.tracking_uri,
                config.logger.experiment,
                *sweep_params(config),
            )
        except UserError:
            raise
        except Exception as err:  # each job then logs as a run of its own, or warns once itself
            log.warning("sharebench: no MLflow parent run for this sweep (%s: %s)", type(err).__name__, err)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if not _uses_mlflow(config):
            return
        from sharebench.records.mlflow_sink import end_sweep

        sweep_dir = Path(config.hydra.sweep.dir)
        statuses = [(read_summary(p.parent) or {}).get("status") for p in sweep_dir.rglob("summary.json")]
        try:
            end_sweep(sweep_dir, [sweep_dir / "comparison"], failed="failed" in statuses)
        except Exception as err:  # the sweep's records are safe on disk; the tracker only lacks a copy
            log.warning("sharebench: the sweep's comparison did not reach MLflow (%s: %s)", type(err).__name__, err)

"""`resume=…` inside a job: what resuming means for the run dir Hydra gave it (resume_args.py chose it).

A completed run is skipped, an interrupted one continues from checkpoint.pt, anything else (failed,
diverged, killed) starts over. A run continues only with the same config, up to the keys that change
no number (configs.FREE_KEYS); config_sha names that config in summary.json.
"""

import hashlib
import json
from pathlib import Path

from omegaconf import OmegaConf

from sharebench.configs import flatten, is_free
from sharebench.errors import UserError
from sharebench.records.checkpoints import Checkpoint, load_checkpoint
from sharebench.records.run_dir import read_summary

RECORDS = ("metrics.csv", "steps.csv", "summary.json", "checkpoint.pt")


def resume_key(cfg) -> dict:
    """The config as a flat dict of the keys that must match for a run to be continued."""
    flat = flatten(OmegaConf.to_container(cfg, resolve=True))
    return {k: v for k, v in flat.items() if not is_free(k)}


def config_sha(cfg) -> str:
    return hashlib.sha1(json.dumps(resume_key(cfg), sort_keys=True, default=str).encode()).hexdigest()[:12]


def plan(run_dir: Path, cfg) -> tuple[str, dict | Checkpoint | None]:
    """('skip', summary) | ('continue', checkpoint) | ('fresh', None) for a job resuming in run_dir."""
    summary = read_summary(run_dir)
    if summary and summary.get("status") == "completed":
        if summary.get("config_sha") not in (None, config_sha(cfg)):
            raise UserError(
                f"{run_dir} holds a completed run of a different config: re-run the sweep with "
                f"its original overrides, or choose a new hydra.sweep.dir / hydra.run.dir"
            )
        return "skip", summary
    state = load_checkpoint(run_dir)
    if state is not None:
        saved, now = state.config, resume_key(cfg)
        for key in sorted(set(saved) | set(now)):
            if saved.get(key, "<absent>") != now.get(key, "<absent>"):
                raise UserError(
                    f"cannot resume {run_dir}: it was run with {key}={saved.get(key, '<absent>')!r}, "
                    f"now {key}={now.get(key, '<absent>')!r}; resume with the same overrides "
                    f"(resume=<run dir> re-uses them) or start a new run"
                )
        return "continue", state
    for name in RECORDS:  # failed, diverged or killed without a checkpoint: start over, cleanly
        (run_dir / name).unlink(missing_ok=True)
    return "fresh", None

"""The Hydra application behind `sharebench run`: compose the config, hand it to experiment.run."""
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sharebench.errors import EXIT_USER_ERROR, UserError


@hydra.main(version_base="1.3", config_path="pkg://sharebench.conf", config_name="config")
def main(cfg: DictConfig) -> dict | None:
    hydra_cfg = HydraConfig.get()
    from sharebench.experiment import run  # torch is imported only when a run really starts

    try:
        summary = run(cfg, run_dir=hydra_cfg.runtime.output_dir, choices=dict(hydra_cfg.runtime.choices))
        return summary.get(cfg.objective) if cfg.get("objective") else summary  # sweepers (optuna) optimise one number
    except UserError as err:
        print(f"sharebench: error: {err}", file=sys.stderr)
        if hydra_cfg.mode.name == "MULTIRUN":
            return None  # the failed run is recorded in its directory; the sweep goes on
        raise SystemExit(EXIT_USER_ERROR) from None

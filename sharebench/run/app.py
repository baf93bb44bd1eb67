"""The Hydra application behind `sharebench run`: compose the config, hand it to job.run_job."""

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sharebench.configs import CONFIG_MODULE, CONFIG_NAME


def _register_sweepers() -> None:
    """hydra/sweeper=until_decided and optuna: Hydra scans the hydra_plugins folders on disk, which an
    editable install (pip install -e) does not put there; its public register() finds them either way."""
    from hydra.core.plugins import Plugins

    from hydra_plugins.sharebench_optuna.optuna_sweeper import OptunaSweeper
    from hydra_plugins.sharebench_until_decided.until_decided import UntilDecidedSweeper

    Plugins.instance().register(UntilDecidedSweeper)
    Plugins.instance().register(OptunaSweeper)


_register_sweepers()


@hydra.main(version_base="1.3", config_path=f"pkg://{CONFIG_MODULE}", config_name=CONFIG_NAME)
def main(cfg: DictConfig) -> dict | None:
    hydra_cfg = HydraConfig.get()
    from sharebench.run.job import run_job  # torch is imported only when a run really starts

    # .hydra/ as Hydra would write it (config.yaml sets output_subdir null): the job writes it once its
    # checks have passed, so that a refused command changes nothing in the run dir
    files = {"config.yaml": cfg, "hydra.yaml": {"hydra": hydra_cfg}, "overrides.yaml": hydra_cfg.overrides.task}
    multirun = hydra_cfg.mode.name == "MULTIRUN"
    summary = run_job(
        cfg,
        hydra_cfg.runtime.output_dir,
        dict(hydra_cfg.runtime.choices),
        multirun=multirun,
        hydra_files=files if hydra_cfg.output_subdir is None else None,
        sweep_dir=hydra_cfg.sweep.dir if multirun else None,  # a stopped sweep names it, to continue it
    )
    if summary and cfg.get("objective"):  # a search sweeper (optuna) optimises one number
        return summary.get(cfg.objective)
    return summary

"""The directory Hydra is about to make for the results must be writable — said before Hydra starts,
in one line, instead of its traceback, and with nothing half-made (run/job.py handles a disk that
fills or turns read-only later)."""

from pathlib import Path

from sharebench.errors import UserError
from sharebench.records.disk import unwritable


def check_results_dir(run) -> None:
    """Raise UserError when the run (or sweep) directory that `run` (configs.RunArgs) leads to cannot
    be written."""
    if run.only_prints or run.flags.cfg:
        return
    key = "hydra.sweep.dir" if run.multirun else "hydra.run.dir"
    given = run.given(key)
    target = Path(str(given)) if given is not None else Path(_default_dir(run.config_name, key))
    problem = unwritable(target)
    if problem:
        raise UserError(
            f"cannot write results in {target.absolute()}: {problem}: choose a writable directory with "
            f"{key}=<dir>, or run from one (the default is relative to where you are)"
        )


def _default_dir(config_name: str, key: str) -> str:
    """The fixed part of the shipped directory pattern (results/runs/${now:…} → results/runs), read
    from the primary config's file: no experiment preset moves it, and no second compose is needed."""
    from importlib import resources

    from omegaconf import OmegaConf

    from sharebench.configs import CONFIG_MODULE

    try:
        text = resources.files(CONFIG_MODULE).joinpath(f"{config_name}.yaml").read_text()
        hydra = OmegaConf.to_container(OmegaConf.create(text), resolve=False)["hydra"]
        pattern = str(hydra[key.split(".")[1]]["dir"])
    except Exception:  # a config of the user's own: Hydra reports on its directory itself
        return "."
    return pattern.split("${", 1)[0] or "."

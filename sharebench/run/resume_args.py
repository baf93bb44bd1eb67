"""`resume=…` before Hydra starts: which directory should Hydra run in? (No torch.)

`resume=<run dir>` re-uses that run's saved overrides and directory; `resume=<sweep dir>` (with or
without -m) the sweep's, from its multirun.yaml, and continues it as `resume=true` would (completed
jobs skipped); `resume=true` alone finds the latest run dir (or sweep dir, with -m) made with the same
overrides, or starts a new one when there is none; an explicit hydra.run.dir/hydra.sweep.dir is used
as given. Without resume, pointing Hydra at a directory that already holds results is refused, so
nothing is overwritten by accident. resume_plan.py then decides, per job, what resuming means.
"""

import sys
from pathlib import Path

from omegaconf import ListConfig, OmegaConf

from sharebench.configs import CONFIG_NAME, compose, is_free, parse_overrides, run_flags
from sharebench.errors import UserError


def quote(path: Path) -> str:
    """A path as an override value: quoted for Hydra when it holds more than letters, digits and /._-."""
    text = str(path)
    return text if all(c.isalnum() or c in "/._-" for c in text) else "'" + text.replace("'", "\\'") + "'"


def _without_resume(overrides) -> list[str]:
    return [o for o in overrides if not o.split("=", 1)[0].lstrip("+~") == "resume"]


def _holds_runs(path: Path) -> bool:
    return path.is_dir() and next(path.rglob("summary.json"), None) is not None


def _pattern_root(pattern: str) -> Path:
    """results/runs/${now:…}/… → results/runs: where runs of the default naming live."""
    return Path(pattern.split("${", 1)[0] or ".")


def _numbers_only(overrides) -> list[str]:
    """The overrides that change numbers: runs that differ only in FREE_KEYS (progress bar, device, …)
    are the same run."""
    return sorted(o for o in overrides if not is_free(o.split("=", 1)[0]))


def _latest_match(root: Path, marker: str, overrides: list[str], multirun: bool) -> Path | None:
    want = _numbers_only(overrides)
    best = None
    for path in root.glob(marker) if root.is_dir() else []:
        try:
            saved = OmegaConf.load(path)
            saved = [str(o) for o in (saved.hydra.overrides.task if multirun else saved)]
        except Exception:  # a corrupted record is not the run we are looking for
            continue
        if _numbers_only(saved) == want:
            home = path.parent if multirun else path.parent.parent
            if best is None or home.stat().st_mtime > best.stat().st_mtime:
                best = home
    return best


def resolve_args(args: list[str]) -> list[str]:
    """Rewrite `sharebench run` arguments so Hydra lands in the directory to resume (see module doc)."""
    flags = run_flags(args)
    overrides = list(flags.overrides)
    given = {o.split("=", 1)[0]: o.split("=", 1)[1] for o in overrides if "=" in o}
    value = given.get("resume", "false").strip().lower()
    dir_key = "hydra.sweep.dir" if flags.multirun else "hydra.run.dir"
    if value in ("false", "null", "none", "no", "0", ""):
        if dir_key in given and _holds_runs(Path(given[dir_key].strip("'\""))):
            raise UserError(
                f"{dir_key}={given[dir_key]} already holds runs: add resume=true to continue them "
                f"(completed runs are skipped), or choose a new directory"
            )
        return args
    options = [a for a in args if a not in overrides]  # flags first, then overrides: argparse wants one run
    rest = _without_resume(overrides)
    if value not in ("true", "yes", "1"):  # resume=<run dir> or resume=<sweep dir>
        return _resume_dir(given["resume"], flags.multirun, options, rest)
    if dir_key in given:
        return args
    found = _find_previous(flags, overrides)
    if found is None:
        print(
            f"sharebench: no earlier {'sweep' if flags.multirun else 'run'} with these overrides: starting a new one",
            file=sys.stderr,
        )
        return args
    print(f"sharebench: resuming {found}", file=sys.stderr)
    return [*options, *overrides, f"{dir_key}={quote(found.resolve())}"]


def _resume_dir(text: str, multirun: bool, options: list[str], rest: list[str]) -> list[str]:
    """resume=<dir>: the overrides that made the run (or the sweep), those given now in their place,
    and the directory itself, for Hydra to land in."""
    path = Path(text.strip("'\"")).expanduser()
    if (path / "multirun.yaml").is_file():
        task, hydra = _saved_sweep(path, text)
        hydra = [o for o in hydra if o.split("=", 1)[0] not in ("hydra.sweep.dir", "hydra.mode")]  # set below, by -m
        flags = options if multirun else ["-m", *options]
        return [*flags, *_given_win(task + hydra, rest), "resume=true", f"hydra.sweep.dir={quote(path.resolve())}"]
    if multirun:
        raise UserError(
            f"resume={text}: no sweep there (no multirun.yaml): drop -m to continue one run; to resume a sweep, "
            f"give its directory: -m resume=<sweep dir>"
        )
    saved = path / ".hydra" / "overrides.yaml"
    if not saved.is_file():
        raise UserError(
            f"resume={text}: no sharebench run there (no .hydra/overrides.yaml, no multirun.yaml): give a run "
            f"or sweep directory made by `sharebench run`, or resume=true"
        )
    try:
        previous = OmegaConf.load(saved)
        if not isinstance(previous, ListConfig):
            raise ValueError("not a list of overrides")
        previous = [str(o) for o in previous]
    except Exception:
        raise UserError(f"resume={text}: its .hydra/overrides.yaml is unreadable: start a new run") from None
    return [*options, *_given_win(previous, rest), "resume=true", f"hydra.run.dir={quote(path.resolve())}"]


def _saved_sweep(path: Path, text: str) -> tuple[list[str], list[str]]:
    """The task overrides and the hydra ones (launcher, sweeper, …) a sweep was started with."""
    try:
        saved = OmegaConf.load(path / "multirun.yaml").hydra.overrides
        task, hydra = list(saved.task), list(saved.hydra)
    except Exception:
        raise UserError(f"resume={text}: its multirun.yaml is unreadable: start a new sweep") from None
    return [str(o) for o in task], [str(o) for o in hydra]


def _given_win(saved: list[str], given: list[str]) -> list[str]:
    """The saved overrides (resume=… left out) with the keys given now replaced by their new values."""
    keys = {o.split("=", 1)[0] for o in given if "=" in o}
    return [*(o for o in _without_resume(saved) if o.split("=", 1)[0] not in keys), *given]


def continue_command(run_dir: Path | None = None, sweep_dir: str | None = None) -> str:
    """The command that continues a stopped run, or with `sweep_dir` its whole sweep."""
    if sweep_dir is not None:
        return f"sharebench run -m resume={quote(Path(sweep_dir).absolute())}"
    return f"sharebench run resume={quote(Path(run_dir))}"


def _find_previous(flags, overrides: list[str]) -> Path | None:
    try:  # the directory pattern, from a config without the sweep's lists (compose cannot take them)
        plain = [
            o.input_line
            for o in parse_overrides(overrides)
            if not o.is_sweep_override() and not o.input_line.startswith("hydra")
        ]
        cfg = compose(plain, flags.config_name or CONFIG_NAME, with_hydra=True)
        key = "sweep" if flags.multirun else "run"
        pattern = OmegaConf.to_container(cfg.hydra[key], resolve=False)["dir"]
    except Exception:  # a config that does not compose is reported by the checks that follow
        return None
    marker = "**/multirun.yaml" if flags.multirun else "**/.hydra/overrides.yaml"
    return _latest_match(_pattern_root(pattern), marker, overrides, flags.multirun)

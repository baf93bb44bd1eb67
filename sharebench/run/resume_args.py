"""`resume=…` before Hydra starts: which directory should Hydra run in? (No torch.)

`resume=<run dir>` re-uses that run's saved overrides and directory; `resume=true` alone finds the
latest run dir (or sweep dir, with -m) made with the same overrides, or starts a new one when there
is none; an explicit hydra.run.dir/hydra.sweep.dir is used as given. Without resume, pointing Hydra
at a directory that already holds results is refused, so nothing is overwritten by accident.
resume_plan.py then decides, per job, what resuming means.
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
    if value not in ("true", "yes", "1"):  # resume=<run dir>
        run_dir = Path(given["resume"].strip("'\"")).expanduser()
        saved = run_dir / ".hydra" / "overrides.yaml"
        if flags.multirun:
            raise UserError(
                "resume=<dir> continues one run; to resume a sweep use "
                "-m <the same overrides> resume=true hydra.sweep.dir=<sweep dir>"
            )
        if not saved.is_file():
            raise UserError(
                f"resume={given['resume']}: no sharebench run there (no .hydra/overrides.yaml): "
                f"give a run directory made by `sharebench run`, or resume=true"
            )
        try:
            previous = OmegaConf.load(saved)
            if not isinstance(previous, ListConfig):
                raise ValueError("not a list of overrides")
            previous = [str(o) for o in previous]
        except Exception:
            raise UserError(
                f"resume={given['resume']}: its .hydra/overrides.yaml is unreadable: start a new run"
            ) from None
        keys = {o.split("=", 1)[0] for o in rest if "=" in o}
        kept = [o for o in _without_resume(previous) if o.split("=", 1)[0] not in keys]
        return [*options, *kept, *rest, "resume=true", f"hydra.run.dir={quote(run_dir.resolve())}"]
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

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

from sharebench.configs import RunArgs, is_free, parse_overrides
from sharebench.errors import UserError


def quote(path: Path) -> str:
    """A path as an override value: quoted for Hydra when it holds more than letters, digits and /._-."""
    text = str(path)
    return text if all(c.isalnum() or c in "/._-" for c in text) else "'" + text.replace("'", "\\'") + "'"


def _without_resume(overrides) -> list[str]:
    """Parsed overrides as text, resume=… left out."""
    return [o.input_line for o in overrides if o.key_or_group != "resume"]


def _holds_runs(path: Path) -> bool:
    return path.is_dir() and next(path.rglob("summary.json"), None) is not None


def _pattern_root(pattern: str) -> Path:
    """results/runs/${now:…}/… → results/runs: where runs of the default naming live."""
    return Path(pattern.split("${", 1)[0] or ".")


def _numbers_only(overrides: list[str]) -> list[str]:
    """The overrides that change numbers: runs that differ only in FREE_KEYS (progress bar, device, …)
    are the same run."""
    return sorted(o.input_line for o in parse_overrides(overrides) if not is_free(o.key_or_group))


def _latest_match(root: Path, marker: str, overrides: list[str], multirun: bool) -> Path | None:
    want = _numbers_only(overrides)
    best = None
    for path in root.glob(marker) if root.is_dir() else []:
        try:
            saved = OmegaConf.load(path)
            saved = _numbers_only([str(o) for o in (saved.hydra.overrides.task if multirun else saved)])
        except Exception:  # a corrupted record is not the run we are looking for
            continue
        if saved == want:
            home = path.parent if multirun else path.parent.parent
            if best is None or home.stat().st_mtime > best.stat().st_mtime:
                best = home
    return best


OFF = ("false", "none", "no", "0", "")  # resume=false, =null, … (Hydra reads false as False, null as None)
LATEST = ("true", "yes", "1")


def resolve_args(run: RunArgs) -> RunArgs:
    """The `sharebench run` arguments, rewritten so Hydra lands in the directory to resume (module doc)."""
    value = run.given("resume")
    word = str(value).strip().lower()
    dir_key = "hydra.sweep.dir" if run.multirun else "hydra.run.dir"
    given_dir = run.given(dir_key)
    if word in OFF:
        if given_dir is not None and _holds_runs(Path(str(given_dir))):
            raise UserError(
                f"{dir_key}={given_dir} already holds runs: add resume=true to continue them "
                f"(completed runs are skipped), or choose a new directory"
            )
        return run
    if word not in LATEST:  # resume=<run dir> or resume=<sweep dir>
        return _resume_dir(run, str(value))
    if given_dir is not None:
        return run
    found = _find_previous(run)
    if found is None:
        print(
            f"sharebench: no earlier {'sweep' if run.multirun else 'run'} with these overrides: starting a new one",
            file=sys.stderr,
        )
        return run
    print(f"sharebench: resuming {found}", file=sys.stderr)
    return run.with_overrides([*(o.input_line for o in run.overrides), f"{dir_key}={quote(found.resolve())}"])


def _resume_dir(run: RunArgs, text: str) -> RunArgs:
    """resume=<dir>: the overrides that made the run (or the sweep), those given now in their place,
    and the directory itself, for Hydra to land in."""
    path = Path(text).expanduser()
    rest = run.overrides
    if (path / "multirun.yaml").is_file():
        task, hydra = _saved_sweep(path, text)
        hydra = [o for o in hydra if o.key_or_group not in ("hydra.sweep.dir", "hydra.mode")]  # set below, by -m
        kept = _given_win(task + hydra, rest)
        return run.with_overrides([*kept, "resume=true", f"hydra.sweep.dir={quote(path.resolve())}"], multirun=True)
    if run.multirun:
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
        previous = parse_overrides([str(o) for o in previous])
    except Exception:
        raise UserError(f"resume={text}: its .hydra/overrides.yaml is unreadable: start a new run") from None
    return run.with_overrides([*_given_win(previous, rest), "resume=true", f"hydra.run.dir={quote(path.resolve())}"])


def _saved_sweep(path: Path, text: str) -> tuple[list, list]:
    """The task overrides and the hydra ones (launcher, sweeper, …) a sweep was started with, parsed."""
    try:
        saved = OmegaConf.load(path / "multirun.yaml").hydra.overrides
        return parse_overrides([str(o) for o in saved.task]), parse_overrides([str(o) for o in saved.hydra])
    except Exception:
        raise UserError(f"resume={text}: its multirun.yaml is unreadable: start a new sweep") from None


def _given_win(saved: list, given: list) -> list[str]:
    """The saved overrides with the keys given now replaced by their new values (both parsed; resume=…
    left out of both), as text."""
    keys = {o.key_or_group for o in given if not o.is_delete()}
    return _without_resume([*(o for o in saved if o.key_or_group not in keys), *given])


def continue_command(run_dir: Path | None = None, sweep_dir: str | None = None) -> str:
    """The command that continues a stopped run, or with `sweep_dir` its whole sweep."""
    if sweep_dir is not None:
        return f"sharebench run -m resume={quote(Path(sweep_dir).absolute())}"
    return f"sharebench run resume={quote(Path(run_dir))}"


def _find_previous(run: RunArgs) -> Path | None:
    try:  # the directory pattern, from the config Hydra starts with
        key = "sweep" if run.multirun else "run"
        pattern = OmegaConf.to_container(run.hydra_node()[key], resolve=False)["dir"]
    except Exception:  # a config that does not compose is reported by the checks that follow
        return None
    marker = "**/multirun.yaml" if run.multirun else "**/.hydra/overrides.yaml"
    return _latest_match(_pattern_root(pattern), marker, [o.input_line for o in run.overrides], run.multirun)

"""Check `sharebench run` arguments before Hydra starts any job, so a typo costs one clear line.

What Hydra builds itself (callbacks, sweeper, launcher, logging) is checked first (hydra_targets.py;
hydra/sweeper=optuna's keys and search space: optuna_sweep.py); then every job a sweep would run
(configs.sweep_jobs; each value once for a large sweep) is composed (configs.SweepComposer: each
distinct choice of config groups read from files once), its values
checked (values.py), and each distinct configuration, seed aside, built once (dry_build.py), so a
1,000-seed sweep builds one model; nothing is written. Imports Hydra; torch only for the dry build.
"""

import difflib
import json
import re

from hydra.errors import HydraException, MissingConfigException
from omegaconf import OmegaConf
from omegaconf.errors import InterpolationKeyError, OmegaConfBaseException

from sharebench.checks.dry_build import check_device, dry_build
from sharebench.checks.hydra_targets import check_hydra_targets
from sharebench.checks.optuna_sweep import check_optuna_sweep, old_plugin_in_the_way
from sharebench.checks.values import check_config, check_seed
from sharebench.configs import (
    BUILT_GROUPS,
    GROUPS,
    MAX_CHECKED_JOBS,
    RunArgs,
    Setting,
    SweepComposer,
    available_options,
    compose,
    flatten,
    parse_overrides,
    sweep_jobs,
)
from sharebench.errors import UserError

INSTALL_HINT = {
    "launcher": 'pip install -e ".[launchers]"',
    "sweeper": 'pip install -e ".[launchers]"',
}


def check_run_args(run: RunArgs) -> None:
    """Raise UserError if the overrides of `run` cannot compose into a valid config."""
    if run.only_prints or run.own_configs:
        return  # Hydra prints, or the user brings their own configs: Hydra itself reports on them
    jobs = sweep_jobs(run.overrides, run.multirun, limit=MAX_CHECKED_JOBS, config_name=run.config_name)
    first = _with_hydra(jobs[0], run.config_name)
    if first is not None:  # what Hydra builds itself, before it starts: callbacks, sweeper, launcher, logging
        check_hydra_targets(first.hydra)
        sweeps = [o for o in run.overrides if run.multirun and o.is_sweep_override()]
        intervals = [o.input_line for o in sweeps if o.is_interval_sweep()]
        if intervals:
            _check_search_sweeper(first.hydra, intervals[0])
        check_optuna_sweep(first, sweeps)
    composer = SweepComposer(run.config_name)  # each distinct choice of config groups composed once
    built: set[str] = set()  # configurations already built: a sweep over seeds builds one
    checked: set[tuple] = set()  # jobs checked, their seed left out
    other_seeds = []  # the seeds of jobs otherwise equal to one checked: only the seed's own rule
    launcher = any(o.key_or_group.startswith(("hydra/launcher", "hydra.launcher")) for o in run.overrides)
    for job in jobs:
        without_seed = tuple(s.line for s in job if s.key != "seed")
        if without_seed in checked:
            other_seeds += [s.line for s in job if s.key == "seed"]
            continue
        checked.add(without_seed)
        cfg = _checked_config(job, composer)
        if run.flags.cfg:  # --cfg only prints the config: no need to build anything
            continue
        config = OmegaConf.to_container(cfg)
        config.pop("seed", None)  # a random seed cannot make a configuration buildable or not
        key = json.dumps(config, sort_keys=True, default=str)
        if key in built:
            continue
        built.add(key)
        _dry_build(cfg, job)
        if not launcher:
            check_device(cfg)  # the basic launcher runs the jobs on this very machine
    for seed in parse_overrides(other_seeds):  # one parse for all: a 1,000-seed sweep checks in a second
        check_seed(seed.value())
    if run.multirun:  # after the jobs' own checks, which name typos better
        _check_sweep_base(run)


def _checked_config(job: list[Setting], composer: SweepComposer):
    """The job's config, its values and added keys checked (no torch)."""
    try:
        cfg = composer([s.line for s in job])
        _resolvable(cfg)
    except (HydraException, OmegaConfBaseException, ValueError, TypeError) as err:
        raise UserError(explain(err, job)) from None
    check_config(cfg)
    _check_added_keys(cfg, job, composer)
    return cfg


def _resolvable(cfg) -> None:
    """An interpolation that names no key (seed=${oops}) fails here, not in the run; a resolver only
    Hydra's app registers (${hydra:…}) is left to it."""
    try:
        OmegaConf.to_container(cfg, resolve=True)
    except InterpolationKeyError:
        raise
    except OmegaConfBaseException:
        pass


def _dry_build(cfg, job: list[Setting]) -> None:
    """dry_build, with the spectrum named when it is what set a key the model does not take."""
    try:
        dry_build(cfg)
    except UserError as err:
        values = {s.key: s.value for s in job}
        spectrum = values.get("spectrum")
        if spectrum and str(err).startswith("unknown key 'model."):
            raise UserError(
                f"spectrum={spectrum} sets options of a ConvNet, which model={values.get('model', 'this model')} "
                f"is not: pick a ConvNet model (shared_cnn, mnist1d_cnn, local_cnn, …) or drop spectrum="
            ) from None
        raise


def _check_added_keys(cfg, job: list[Setting], composer: SweepComposer) -> None:
    """A `+key=…` that nothing reads would be ignored in silence; the built groups (model, dataset,
    optim) are checked against their constructors by dry_build, the rest against the shipped keys."""
    if not any(s.added for s in job):
        return  # only a `+key` adds keys
    plain = [s.line for s in job if not s.added and s.value is not None and "." not in s.key]
    baseline = flatten(OmegaConf.to_container(composer(plain))).keys()
    for key in sorted(flatten(OmegaConf.to_container(cfg)).keys() - baseline):
        if key.split(".", 1)[0] not in BUILT_GROUPS:
            raise UserError(
                f"unknown key '{key}': nothing reads it (remove +{key}=…); `sharebench run --cfg job` prints every key"
            )


def _check_sweep_base(run: RunArgs) -> None:
    """Hydra's multirun first composes the config with the swept values left out (so with default
    choices): a key that only a swept choice has fails there even though every job would be fine.
    That composition's hydra node is the one the launcher batches read next (run.hydra_node)."""
    try:
        run.hydra_node()
    except (HydraException, OmegaConfBaseException) as err:
        for o in (o for o in run.overrides if not o.is_sweep_override()):
            key = o.get_key_element()
            if not key.startswith(("+", "~")) and re.search(rf"\b{re.escape(key)}\b", str(err.__cause__ or err)):
                raise UserError(
                    f"{o.input_line} is not a key of the config Hydra composes before "
                    f"sweeping (the defaults with the swept values left out): write "
                    f"++{o.input_line} to set it in every job"
                ) from None
        raise UserError(f"the config Hydra composes before sweeping does not compose: {explain(err, [])}") from None


def _with_hydra(job: list[Setting], config_name: str):
    """The config with the `hydra` node Hydra starts with; None when the config does not compose (the
    per-job checks explain why)."""
    try:
        return compose([s.line for s in job], config_name, with_hydra=True)
    except (HydraException, OmegaConfBaseException, ValueError, TypeError):
        return None


def _check_search_sweeper(hydra, interval: str) -> None:
    """interval(…) needs a sweeper that searches (optuna); Hydra's basic sweeper only lists values."""
    if "BasicSweeper" in str(OmegaConf.select(hydra, "sweeper._target_")):
        raise UserError(
            f"{interval} needs a search sweeper: add hydra/sweeper=optuna "
            '(pip install -e ".[optuna]") or list values, e.g. optim.lr=0.001,0.01,0.1'
        )


def explain(err: Exception, job: list[Setting]) -> str:
    """Turn Hydra's multi-line composition errors into one line that names the fix."""
    text, cause = str(err), err.__cause__
    while cause is not None:  # Hydra wraps the informative error; read the whole chain
        text, cause = f"{text}\n{cause}", cause.__cause__
    if fix := old_plugin_in_the_way(text):
        return fix
    missing = re.search(r"Could not (?:find|load) '([\w/]+)/([^']+)'", text)
    if isinstance(err, MissingConfigException) or missing:
        if missing:
            group, name = missing.group(1), missing.group(2)
            options = getattr(err, "options", None) or _group_options(group)
            kind = group.split("/")[-1]
            if group.startswith("hydra/") and kind in INSTALL_HINT and not options:
                return f"unknown {group} '{name}': install the optional plugins with {INSTALL_HINT[kind]}"
            if group.startswith("hydra/") and kind in INSTALL_HINT:
                return (
                    f"unknown {group} '{name}': choose one of {', '.join(options)} "
                    f"or install the optional plugins with {INSTALL_HINT[kind]}"
                )
            hint = _closest(name, options)
            return (
                f"unknown {kind} '{name}'{hint}: choose one of {', '.join(options)} "
                f"(e.g. {group}={options[0] if options else '…'}; `sharebench list` shows all)"
            )
    if isinstance(err, (ValueError, TypeError)):  # Hydra's own type errors, e.g. model=0 or model=[1]
        for s in job:
            group, value = s.key, s.value
            if group in _all_groups() and value not in _group_options(group):
                return (
                    f"{s.line} is not valid: {group} takes the name of one option, one of "
                    f"{', '.join(_group_options(group))} (e.g. {group}={_group_options(group)[0]})"
                )
    interpolation = re.search(r"Interpolation key '([^']+)' not found.*?full_key: ([\w.]+)", text, re.S)
    if interpolation:
        name, key = interpolation.groups()
        return f"${{{name}}} names no key of the config (read for {key}): give a value, or a key that exists"
    chosen = re.search(r"Multiple values for ([\w/]+)\.", text)
    if chosen:
        group = chosen.group(1)
        return (
            f"+{group}=… adds a {group} to a config that already has one: write {group}=… (without the +) to choose it"
        )
    struct = re.search(r"Key '([^']+)' is not in struct.*?full_key: ([\w.]+)", text, re.S)
    if struct:
        full_key = struct.group(2)
        return (
            f"unknown key '{full_key}'{_closest_key(full_key, job)}; "
            f"`sharebench run --cfg job` prints every key (use +{full_key}=… only to add a new one)"
        )
    return " ".join(text.split()).split(" Config search path")[0]


def _all_groups() -> list[str]:
    return list(GROUPS)


def _group_options(group: str) -> list[str]:
    return available_options().get(group, [])


def _closest(name: str, options: list[str]) -> str:
    near = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean {near[0]}?)" if near else ""


def _closest_key(full_key: str, job: list[Setting]) -> str:
    parent, _, leaf = full_key.rpartition(".")
    try:
        cfg = compose([s.line for s in job if s.key != full_key])
        node = OmegaConf.select(cfg, parent) if parent else cfg
        keys = [str(k) for k in node.keys()]
    except Exception:  # the suggestion is a courtesy; the error itself is already known
        return ""
    near = difflib.get_close_matches(leaf, keys, n=1)
    return f" (did you mean {parent + '.' if parent else ''}{near[0]}?)" if near else ""

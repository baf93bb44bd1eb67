"""What the shipped config tree holds: its config groups, their options, one sweep expansion, and what
the options declare about sharing (each model's and spectrum point's twin, and whether a point is a
baseline: the keys of its `sharing` node, model.sharing once composed).

The tree lives in conf/ at the top of the repository and ships as the package `sharebench.conf`
(see conf/__init__.py). Every composition of it — by the CLI, the checks, resume, the tests and the
scripts — goes through `compose`, and Hydra's private helpers (its argument parser, its locator) are
reached only through this module (each pinned by tests/test_hydra_pins.py). Hydra is imported only inside the functions that use it, so
`sharebench list`, `plot` and `--help` stay instant; nothing here imports torch.
"""

import itertools
import math
from importlib import resources
from typing import NamedTuple

CONFIG_MODULE = "sharebench.conf"  # the one name of the shipped config tree
CONFIG_NAME = "config"
GROUPS = ("model", "spectrum", "dataset", "optim", "trainer", "logger", "experiment")
BUILT_GROUPS = ("model", "dataset", "optim")  # groups whose `_target_` is constructed with their keys
# keys that change no number: a run may continue, and resume=true finds it, with other values for them
FREE_KEYS = (
    "resume",
    "device",
    "dataset.root",
    "logger",
    "trainer.progress",
    "trainer.plots",
    "trainer.save_model",
    "trainer.save_initial_model",
    "trainer.threads",
    "trainer.checkpoint_every",
)
MAX_CHECKED_JOBS = 16  # above this, the checks compose each swept value once instead of every product
# Hydra's own plugins live in its private package: their names, as a config's `_target_` gives them
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
BASIC_LAUNCHER = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"
PLUGIN_HOMES = ("hydra_plugins.", "hydra._internal.core_plugins.")  # where Hydra accepts a plugin from


def available_options() -> dict[str, list[str]]:
    """Option names per config group, read from the shipped tree (no Hydra, no torch)."""
    root = resources.files(CONFIG_MODULE)
    return {
        group: sorted(p.name[:-5] for p in root.joinpath(group).iterdir() if p.name.endswith(".yaml"))
        for group in GROUPS
    }


def compose(overrides=(), config_name: str = CONFIG_NAME, with_hydra: bool = False):
    """The shipped config with these overrides, composed as `sharebench run` would compose it, without
    running a job. with_hydra=True keeps the `hydra` node (runtime choices, sweeper params, run dir)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        return hydra_compose(config_name, overrides=list(overrides), return_hydra_config=with_hydra)


def new_run_dir(cfg) -> str:
    """The run dir Hydra's app would make for a config composed with_hydra: its hydra.run.dir, with
    the resolvers Hydra registers for a job (`${now:…}`) in place."""
    from hydra.core.utils import setup_globals

    setup_globals()
    return str(cfg.hydra.run.dir)


class SweepComposer:
    """`compose` for the many jobs of one sweep, each distinct configuration composed once: Hydra's
    slow part (reading the option files and merging the defaults list) runs once per distinct choice of
    config groups, and each job's value overrides (seed=3, optim.lr=0.1, +key=…, ~key) are then applied
    to a copy by Hydra's own override code, as Hydra applies them after the defaults. Equal, job by
    job, to compose() (tests/test_sweep_checks.py)."""

    def __init__(self, config_name: str = CONFIG_NAME):
        self.config_name = config_name
        self._composed: dict[tuple, object] = {}

    def __call__(self, overrides):
        import copy

        from hydra._internal.config_loader_impl import ConfigLoaderImpl

        parsed = parse_overrides(list(overrides))
        values = [o for o in parsed if not _shapes_composition(o)]
        structure = tuple(o.input_line for o in parsed if _shapes_composition(o))
        if structure not in self._composed:
            self._composed[structure] = compose(structure, self.config_name)
        cfg = copy.deepcopy(self._composed[structure])
        ConfigLoaderImpl._apply_overrides_to_config(values, cfg)
        return cfg


def _shapes_composition(override) -> bool:
    """A config group choice (model=…, hydra/launcher=…) or a hydra.* key: what Hydra composes from
    files, as opposed to a value set on the composed config."""
    key = override.key_or_group.lstrip("+~")
    return "/" in key or key in GROUPS or key.split(".", 1)[0] == "hydra" or override.package is not None


class RunArgs:
    """`sharebench run` arguments read once, by Hydra's own readers: `.flags` (Hydra's argument parser:
    .multirun, .cfg, .help, …) and `.overrides` (Hydra's parsed Override objects, in order). The cli
    makes one and hands it to resume, the checks and the launcher batches; `.argv` is what Hydra gets.
    A malformed override or an unknown flag is a UserError (one line) here, before anything else."""

    def __init__(self, args):
        from hydra._internal.utils import get_args_parser

        from sharebench.errors import UserError

        parser = get_args_parser()
        parser.error = lambda message: _refuse_flag(message)  # argparse would print its usage and exit
        self.argv = list(args)
        self.flags = parser.parse_args(self.argv)
        self.multirun = bool(self.flags.multirun)
        self.config_name = self.flags.config_name or CONFIG_NAME
        try:
            self.overrides = parse_overrides(self.flags.overrides)
        except Exception as err:  # HydraException, with Hydra's grammar's own words
            from sharebench.errors import one_line

            raise UserError(f"cannot parse the overrides: {one_line(err)}") from None
        self._hydra = None

    @property
    def options(self) -> list[str]:
        """The flags as given (-m, --cfg job, …), without the overrides."""
        return [a for a in self.argv if a not in self.flags.overrides]

    @property
    def only_prints(self) -> bool:
        """--help, --hydra-help, --info, --shell-completion: Hydra prints and runs nothing."""
        f = self.flags
        return bool(f.help or f.hydra_help or f.info or f.shell_completion)

    @property
    def own_configs(self) -> bool:
        """--config-dir, --config-path, --experimental-rerun: configs not the shipped tree's (Hydra reports)."""
        return bool(self.flags.config_dir or self.flags.config_path or self.flags.experimental_rerun)

    def given(self, key: str):
        """The value the last override of `key` sets (Hydra's reading: quotes gone, true → True), or None."""
        found = [o for o in self.overrides if o.key_or_group == key and not o.is_delete()]
        return found[-1].value() if found else None

    def with_overrides(self, overrides: list[str], multirun: bool | None = None) -> "RunArgs":
        """The same flags (with -m added when `multirun`) and these overrides, read again."""
        options = self.options
        if multirun and not self.multirun:
            options = ["-m", *options]
        return RunArgs([*options, *overrides])

    def hydra_node(self):
        """The `hydra` node of the config composed from the overrides that are not swept (what Hydra
        starts a sweep with): its sweeper, launcher, callbacks and directories. Composed once."""
        if self._hydra is None:
            fixed = [o.input_line for o in self.overrides if not o.is_sweep_override()]
            self._hydra = compose(fixed, self.config_name, with_hydra=True).hydra
        return self._hydra


def _refuse_flag(message: str):
    """argparse's complaint as one line: an override after a flag is left unread by Hydra's parser."""
    from sharebench.errors import UserError

    unread = message.removeprefix("unrecognized arguments: ").split()
    if message.startswith("unrecognized arguments") and not any(a.startswith("-") for a in unread):
        raise UserError(
            f"{' '.join(unread)}: overrides after a flag are not read: give the flags first "
            f"(e.g. sharebench run -m model=mlp seed=0,1)"
        )
    raise UserError(f"{message}: see `sharebench run --help` (overrides are KEY=VALUE, without dashes)")


def parse_overrides(overrides: list[str]) -> list:
    """Hydra's parsed overrides (sweeps, keys, values); raises HydraException on a malformed one."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_overrides(list(overrides))


def target_policy():
    """This Hydra's instantiate policy check, `(target, name, key) -> None` that raises on a refused
    `_target_` — private, and absent from a plain Hydra (then None: nothing to ask)."""
    try:
        from hydra._internal.target_policy import _authorize_target_name
    except ImportError:
        return None
    return _authorize_target_name


def locate(path: str):
    """The object a `_target_` names; raises if it cannot be imported (Hydra's get_object would also log
    the error, in many lines)."""
    from hydra._internal.utils import _locate

    return _locate(path)


def is_free(key: str) -> bool:
    """Whether an override's key (or a key under it) is one of FREE_KEYS."""
    key = key.lstrip("+~")
    return any(key == f or key.startswith(f + ".") for f in FREE_KEYS)


def flatten(node, prefix: str = "") -> dict:
    """A nested dict as one level of dotted keys ({"a": {"b": 1}} → {"a.b": 1}); an empty dict stays a value."""
    if not isinstance(node, dict) or not node:
        return {prefix[:-1]: node} if prefix else {}
    out = {}
    for key, value in node.items():
        out.update(flatten(value, f"{prefix}{key}."))
    return out


class Setting(NamedTuple):
    """One override of one job of a sweep, as Hydra reads it: its key (key_or_group: no +, ~ or
    @package), its value as text (None for ~key), whether it adds a key (+, ++), and the line itself."""

    key: str
    value: str | None
    added: bool
    line: str


def expand_sweep(
    overrides: list[str], multirun: bool, limit: int | None = None, config_name: str = CONFIG_NAME
) -> list[list[str]]:
    """The overrides of every job a command would run, as text (sweep_jobs)."""
    jobs = sweep_jobs(parse_overrides(overrides), multirun, limit, config_name)
    return [[s.line for s in job] for job in jobs]


def sweep_jobs(overrides: list, multirun: bool, limit: int | None = None, config_name: str = CONFIG_NAME):
    """The Settings of every job a command would run, from Hydra's parsed overrides: with -m each comma
    list, range() and choice() — and an experiment's own hydra.sweeper.params — becomes its values, in
    Hydra's order. When the product exceeds `limit`, each value appears in one job instead (enough to
    check every value). glob()/interval() need the sweeper: left out."""
    axes = _axes(overrides, multirun)
    if multirun:  # an experiment's own sweep, e.g. experiment=sharing_mnist1d: its sweeper params
        try:
            first = [axis[0].line for axis in axes]
            params = compose(first, config_name, with_hydra=True).hydra.sweeper.get("params") or {}
        except Exception:  # a config that does not compose is explained by the checks
            params = {}
        keys = {o.key_or_group for o in overrides}
        axes += _axes(parse_overrides([f"{k}={v}" for k, v in params.items() if k not in keys]), multirun)
    if limit is None or math.prod(len(a) for a in axes) <= limit:
        return [list(p) for p in itertools.product(*axes)] or [[]]
    first = [a[0] for a in axes]
    return [first] + [first[:i] + [v] + first[i + 1 :] for i, a in enumerate(axes) for v in a[1:]]


def _axes(parsed, multirun: bool) -> list[list[Setting]]:
    """Per override, the Settings it takes: its values, when it is a sweep of a multirun."""
    from hydra.core.override_parser.types import Glob, IntervalSweep

    from sharebench.errors import UserError

    out = []
    for o in parsed:
        added = o.is_add() or o.is_force_add()
        if not (multirun and o.is_sweep_override()):
            value = None if o.is_delete() else o.get_value_string()  # as written
            out.append([Setting(o.key_or_group, value, added, o.input_line)])
        elif not isinstance(o.value(), (Glob, IntervalSweep)):  # only the sweeper itself expands those
            try:
                values = list(o.sweep_string_iterator())
            except Exception:  # e.g. seed=range(0,3),5: Hydra takes a list of values or one range()
                raise UserError(
                    f"cannot expand the sweep {o.input_line}: a comma list holds plain values only "
                    f"(write a range() alone, or list every value)"
                ) from None
            if not values:
                raise UserError(f"the sweep {o.input_line} lists no value: range(a,b) stops before b")
            out.append([Setting(o.key_or_group, v, added, f"{o.get_key_element()}={v}") for v in values])
    return out


# ---- what the options declare about sharing: their `sharing` keys (no Hydra, no torch) ----------

# group → where a run's config records the twin of its choice of that group
TWIN_KEYS = {"model": "model.sharing.twin", "spectrum": "model.sharing.spectrum_twin"}
BASELINE_KEY = "model.sharing.spectrum_baseline"  # a spectrum point drawn beside the line, not on it


def _option(group: str, name: str) -> dict:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where installed: `plot` starts sooner
    text = resources.files(CONFIG_MODULE).joinpath(group, f"{name}.yaml").read_text()
    return yaml.load(text, Loader=loader) or {}


def declared(group: str, name: str, key: str):
    """`sharing.<key>` of an option as composed, read from the files: its own value, else its base's
    (the first option of its own group in its defaults list: local_cnn's is shared_cnn); None if none
    says. A spectrum point has no base; a model's spectrum point sets spectrum_* keys, never `twin`."""
    node = _option(group, name)
    sharing = node.get("sharing") or {}
    if key in sharing:
        return sharing[key]
    base = next((e for e in node.get("defaults") or [] if isinstance(e, str) and e != "_self_"), None)
    return declared(group, base, key) if base else None


def twins() -> dict[str, dict[str, str]]:
    """{group: {option: its unshared twin}} for the `model` and `spectrum` groups, as today's option
    files declare them (`sharing.twin`, `sharing.spectrum_twin`): for the checks of a sweep before it
    runs, and for records made before their configs held these keys (compare reads a run's own)."""
    options = available_options()
    found = {"model": {}, "spectrum": {}}
    for group, key in (("model", "twin"), ("spectrum", "spectrum_twin")):
        for option in options[group]:
            if (twin := declared(group, option, key)) and twin != option:
                found[group][option] = twin
    return found


def spectrum_baselines() -> set[str]:
    """The spectrum points declared `sharing.spectrum_baseline: true` in today's files: beside the line,
    not between its ends (for records made before their configs held the key)."""
    return {p for p in available_options()["spectrum"] if declared("spectrum", p, "spectrum_baseline")}

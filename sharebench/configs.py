"""What the shipped config tree holds: its config groups, their options, and one sweep expansion.

The tree lives in conf/ at the top of the repository and ships as the package `sharebench.conf`
(see conf/__init__.py). Hydra is imported only inside the functions that compose, so `sharebench
list`, `plot` and `--help` stay instant; nothing here imports torch.
"""

import itertools
from importlib import resources

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


def available_options() -> dict[str, list[str]]:
    """Option names per config group, read from the shipped tree (no Hydra, no torch)."""
    root = resources.files(CONFIG_MODULE)
    return {
        group: sorted(p.name[:-5] for p in root.joinpath(group).iterdir() if p.name.endswith(".yaml"))
        for group in GROUPS
    }


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


def expand_sweep(
    overrides: list[str], multirun: bool, limit: int | None = None, config_name: str = CONFIG_NAME
) -> list[list[str]]:
    """The overrides of every job a command would run: with -m each comma list, range() and choice() —
    and an experiment's own hydra.sweeper.params — becomes its values, in Hydra's order. When the
    product exceeds `limit`, each value appears in one job instead (enough to check every value).
    Call inside Hydra's initialize_config_module. glob()/interval() need the sweeper: left as given."""
    from hydra import compose
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()

    def choices(parsed) -> list[list[str]]:
        out = []
        for o in parsed:
            if multirun and o.is_sweep_override():
                try:
                    out.append([f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()])
                except Exception:  # glob()/interval(): only the sweeper itself can expand them
                    continue
            else:
                out.append([o.input_line])
        return out

    given = choices(parser.parse_overrides(overrides))
    if multirun:  # an experiment's own sweep, e.g. experiment=sharing_mnist1d: its sweeper params
        first = [c[0] for c in given]
        try:
            params = compose(config_name, overrides=first, return_hydra_config=True).hydra.sweeper.get("params") or {}
        except Exception:  # a config that does not compose is explained by the checks
            params = {}
        keys = {o.split("=", 1)[0].lstrip("+~") for c in given for o in c}
        given += choices(parser.parse_overrides([f"{k}={v}" for k, v in params.items() if k not in keys]))
    total = 1
    for c in given:
        total *= len(c)
    if limit is None or total <= limit:
        return [list(p) for p in itertools.product(*given)] or [[]]
    first = [c[0] for c in given]
    return [first] + [first[:i] + [v] + first[i + 1 :] for i, c in enumerate(given) for v in c[1:]]

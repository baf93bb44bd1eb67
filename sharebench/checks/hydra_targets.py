"""What Hydra builds itself, before any job: its callbacks, sweeper and launcher (`_target_`), and the
handlers and factories of its logging config (`class`, `()`), checked before Hydra starts.

Hydra refuses a `_target_` its instantiate policy blocks, and fails on one it cannot import or call —
in a traceback, exit 1, after it has made the run dir (logging). Here each is one line, exit 2, with
nothing written, worded as for the run's own targets (dry_build.py). A sweeper or launcher is one of
Hydra's plugins: a class under `hydra_plugins.` (or Hydra's own core plugins), which Hydra trusts.
No torch.
"""

from omegaconf import OmegaConf

from sharebench.checks.dry_build import authorize, located
from sharebench.configs import PLUGIN_HOMES, flatten, locate
from sharebench.errors import UserError

BUILT = ("callbacks", "sweeper", "launcher")  # hydra.<node>: Hydra's instantiate builds their `_target_`s
LOGGING = ("job_logging", "hydra_logging")  # logging.config.dictConfig, under the same policy


def check_hydra_targets(hydra) -> None:
    """Raise UserError for the first name under the `hydra` node (of a config composed with_hydra)
    that Hydra would refuse, or could not import or call."""
    tree = OmegaConf.to_container(hydra, resolve=False)
    for node in BUILT + LOGGING:
        names = ("_target_",) if node in BUILT else ("class", "()")
        for key, name in flatten(tree.get(node) or {}, f"hydra.{node}.").items():
            if key.rsplit(".", 1)[-1] in names and isinstance(name, str):
                _check(key, name, node)


def _check(key: str, name: str, node: str) -> None:
    if key == f"hydra.{node}._target_" and node in ("sweeper", "launcher"):
        _check_plugin(key, name, node)
        return
    authorize(key, name)  # before importing it: a refused name is never imported
    located(key, name, f"remove it (Hydra builds hydra.{node} before any job)")


def _check_plugin(key: str, name: str, kind: str) -> None:
    """The sweeper or launcher must be one of Hydra's plugins of that kind; anything else is refused
    (in the policy's words, when the policy refuses it) without being imported."""
    if name.startswith(PLUGIN_HOMES) and _is_plugin(name, kind):
        return
    authorize(key, name)
    example = {"launcher": "joblib", "sweeper": "optuna"}[kind]
    raise UserError(
        f"{key}={name} is not a Hydra {kind}: choose one with hydra/{kind}=NAME (e.g. hydra/{kind}={example}; "
        f"plugins are classes under hydra_plugins.)"
    )


def _is_plugin(name: str, kind: str) -> bool:
    from hydra.plugins.launcher import Launcher
    from hydra.plugins.sweeper import Sweeper

    try:
        found = locate(name)
    except Exception:
        return False
    return isinstance(found, type) and issubclass(found, {"launcher": Launcher, "sweeper": Sweeper}[kind])

"""Errors a user can cause and fix; the CLI shows them as one line and exits with code 2.

The bottom of the house: every room may import this module, and it imports none of them.
"""


class UserError(Exception):
    """A bad override, unknown option, missing dataset or impossible shape: the message names the fix."""


EXIT_USER_ERROR = 2
EXIT_FAILED = 1


def user_error_in(err: BaseException) -> UserError | None:
    """The UserError behind `err`, if any: Hydra's instantiate wraps what a constructor raises."""
    while err is not None:
        if isinstance(err, UserError):
            return err
        err = err.__cause__
    return None


def one_line(err: BaseException | str, limit: int = 300) -> str:
    """An error message on one line (Hydra's and torch's span several), cut at `limit` characters."""
    return " ".join(str(err).split())[:limit]


def refused_target(key: str, target) -> UserError:
    """The one line for a `_target_` that Hydra's instantiate policy (its blocklist) will not build."""
    return UserError(
        f"{key}={target} is refused: Hydra's instantiate blocklist does not let a config build it (it could "
        f"change files or run code); choose a shipped option (`sharebench list`), and if it came from a run's "
        f".hydra/overrides.yaml or a sweep's multirun.yaml (resume=<dir>), that file was edited: restore it or "
        f"start a new run"
    )


def is_policy_refusal(err: BaseException) -> bool:
    """Whether Hydra's InstantiationException is its target policy refusing a `_target_`."""
    text = str(err)
    return type(err).__name__ == "InstantiationException" and (
        "blocklisted" in text or "cannot be selected by declarative" in text
    )


def instantiate(cfg, **kwargs):
    """Hydra's instantiate, except that a UserError a constructor raised comes out as itself, not
    wrapped in Hydra's InstantiationException (whose message is a multi-line traceback summary), and
    a `_target_` Hydra's policy refuses is one UserError line."""
    from hydra.utils import instantiate as hydra_instantiate

    try:
        return hydra_instantiate(cfg, **kwargs)
    except Exception as err:
        if user_error_in(err) is not None:
            raise user_error_in(err) from None
        if is_policy_refusal(err):
            key = cfg._get_full_key(None) if hasattr(cfg, "_get_full_key") else ""
            raise refused_target(f"{key}._target_" if key else "_target_", cfg.get("_target_")) from None
        raise


class OptionError(UserError, ValueError):
    """A value the code that owns the option cannot use (a constructor, a layer): one line naming the
    fix. Also a ValueError, for code that builds the layer directly, outside a config."""


def invalid(key: str, value, want: str, example: str) -> OptionError:
    """The one wording of a bad value: `model.pool='x' is not valid: it must be … (for example …)`."""
    return OptionError(f"{key}={value!r} is not valid: it must be {want} (for example {key}={example})")

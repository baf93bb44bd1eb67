"""A ConvNet layer's sharing scheme: the options of each `model.layer`, one small node (`model.scheme`),
checked here and nowhere else. No torch: the command line and the checks read it too.

  conv     untie_at t, untie_to local|dense (d'Ascoli et al. 2019); match_params_of (widen.py)
  local    tie_strength λ (soft positional tying); share_every N (dynamic sharing, Pogodin et al. 2021)
  lowrank  rank K, combining (lowrank.py checks them against the input's dimensions)
  tiled    tile (tiled.py checks it)
  dense    lasso_strength λ, lasso_beta β (β-LASSO, Neyshabur 2020)

An option of another layer is refused unless it is at its default: `spectrum=local` on top of
`model=lowrank_cnn` keeps rank 2 (the default, so ignored), but `model.scheme.tie_strength=0.1` on a
conv names the layer it needs. What each option does to training: models/cnn.py.
"""

import math
import re
from dataclasses import dataclass, fields

from sharebench.errors import OptionError


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _integer(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class Conv:
    untie_at: int | None = None  # the optimizer step after which each conv becomes its untie_to twin
    untie_to: str = "local"  # local | dense
    match_params_of: str | None = None  # widen until the unique parameter count matches this layer's

    def __post_init__(self):
        if self.untie_at is not None and (not _integer(self.untie_at) or self.untie_at < 1):
            raise OptionError(
                f"model.scheme.untie_at={self.untie_at!r} is not valid: use a step >= 1, or null for never"
            )
        if self.untie_to not in ("local", "dense"):
            raise OptionError(f"model.scheme.untie_to={self.untie_to!r} is not valid: use local or dense")
        others = [k for k in SCHEMES if k != "conv"]
        if self.match_params_of is not None and self.match_params_of not in others:
            raise OptionError(
                f"model.scheme.match_params_of={self.match_params_of!r} is not valid: use {' | '.join(others)}, or null"
            )


@dataclass(frozen=True)
class Local:
    tie_strength: float = 0.0  # λ of λ·Σ_p ‖w_p − w̄‖²
    share_every: int = 0  # set the kernels to their mean over positions every N steps; 0: never

    def __post_init__(self):
        if not _number(self.tie_strength) or self.tie_strength < 0:
            raise OptionError(
                f"model.scheme.tie_strength={self.tie_strength!r} is not valid: use a number >= 0, e.g. 0.001"
            )
        if not _integer(self.share_every) or self.share_every < 0:
            raise OptionError(
                f"model.scheme.share_every={self.share_every!r} is not valid: use steps >= 1, or 0 for never"
            )


@dataclass(frozen=True)
class LowRank:
    rank: int = 2
    combining: str = "full"


@dataclass(frozen=True)
class Tiled:
    tile: int | list[int] = 2


@dataclass(frozen=True)
class Dense:
    lasso_strength: float = 0.0  # λ of λ·Σ|w|; 0: off
    lasso_beta: float = 0.0  # after every step, |w| < β·λ is set to 0

    def __post_init__(self):
        for option in ("lasso_strength", "lasso_beta"):
            value = getattr(self, option)
            if not _number(value) or value < 0:
                raise OptionError(
                    f"model.scheme.{option}={value!r} is not valid: use a number >= 0 (0: off), e.g. 0.0001"
                )


DESCRIPTION = "sharing"  # a model config's node that describes it (twin, baseline: configs.py), not passed to it

# model.layer → its scheme; the order is the spectrum's, shared → unshared
SCHEMES = {"conv": Conv, "lowrank": LowRank, "tiled": Tiled, "local": Local, "dense": Dense}
OWNER = {f.name: layer for layer, cls in SCHEMES.items() for f in fields(cls)}  # option → its layer


def scheme_for(layer: str, options: dict | None):
    """The scheme of `layer` from the node `model.scheme` (a dict; None: every default), each option
    checked; an OptionError naming the fix for an unknown option, or another layer's set off its default."""
    if layer not in SCHEMES:
        raise OptionError(f"model.layer={layer!r} is not valid: use {', '.join(SCHEMES)}")
    own = {}
    for option, value in (options or {}).items():
        owner = OWNER.get(option)
        if owner is None:
            raise OptionError(
                f"model.scheme.{option} is no layer's option: use one of {', '.join(OWNER)} (models: docs/models.md)"
            )
        if owner == layer:
            own[option] = value
        elif value != getattr(SCHEMES[owner](), option):
            raise OptionError(
                f"model.scheme.{option}={value} needs model.layer={owner} (got {layer}): set "
                f"model.layer={owner}, or leave {option} at its default"
            )
    return SCHEMES[layer](**own)


def option(config: dict, name: str):
    """A scheme option as a run recorded it (its flattened config): model.scheme.<name>, or model.<name>
    in a record made before model.scheme, or else its default."""
    for key in (f"model.scheme.{name}", f"model.{name}"):
        if key in config:
            return config[key]
    return getattr(SCHEMES[OWNER[name]](), name)


_LEGACY = re.compile(rf"^([+~]*)model\.({'|'.join(OWNER)})(?=[=]|$)")


def current_overrides(overrides: list[str]) -> list[str]:
    """Overrides with the keys of before model.scheme (`model.tile=4`, `++model.tie_strength=0.1`, as
    published commands and older runs' records type them) written as today's (`model.scheme.tile=4`)."""
    return [_LEGACY.sub(r"\1model.scheme.\2", o) for o in overrides]

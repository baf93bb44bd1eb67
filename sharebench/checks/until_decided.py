"""Check a `hydra/sweeper=until_decided` sweep before Hydra starts: the seed axis, at least two arms, a
pair to decide, and the sweeper's keys (run/until_decided.py says each refusal in one line)."""

from omegaconf import OmegaConf

from sharebench.configs import compose, parse_overrides
from sharebench.errors import UserError


def check_until_decided(overrides: list[str], config_name: str) -> None:
    """Nothing for any other sweeper; a UserError for a sweep the until_decided sweeper would refuse."""
    from sharebench.run.until_decided import KEYS, NAME, SWEEPER, arm_pairs, make_design, make_plan

    parsed = parse_overrides(overrides)
    fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
    hydra = compose(fixed, config_name, with_hydra=True).hydra
    if OmegaConf.select(hydra, "sweeper._target_") != SWEEPER:
        return
    keys = OmegaConf.to_container(hydra.sweeper, resolve=True)
    keys.pop("_target_")
    params = keys.pop("params", None) or {}
    task = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
    plan = make_plan(parse_overrides([*(f"{k}={v}" for k, v in params.items()), *task]))
    unknown = sorted(set(keys) - set(KEYS))
    if unknown:
        raise UserError(f"hydra.sweeper.{unknown[0]} is not a key of {NAME}; its keys: {', '.join(KEYS)}")
    design = make_design(plan, **keys)
    arm_pairs(plan, design.baseline)

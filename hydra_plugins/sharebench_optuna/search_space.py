"""Hydra's sweep syntax as Optuna distributions: interval(a,b) → a float range (int(interval(…)): an
int one; tag(log, …): on a log scale), range(a,b[,step]) → its ints, choice(…) or a,b,c → categories;
an override that sweeps nothing is passed to every trial as it is."""

from hydra.core.override_parser.types import IntervalSweep, Override, Transformer


def search_space(overrides: list[Override]) -> tuple[dict, dict[str, str]]:
    """(key → Optuna distribution, key → override line for every trial); a later override of a key
    replaces an earlier one (the command line's over the sweeper's params)."""
    space, fixed = {}, {}
    for o in overrides:
        key = o.get_key_element()
        space.pop(key, None), fixed.pop(key, None)
        if o.is_sweep_override():
            space[key] = distribution(o)
        else:
            fixed[key] = o.input_line
    return space, fixed


def distribution(o: Override):
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    value = o.value()
    if o.is_interval_sweep():
        assert isinstance(value, IntervalSweep)
        log = "log" in value.tags
        if isinstance(value.start, int) and isinstance(value.end, int):
            return IntDistribution(value.start, value.end, log=log)
        return FloatDistribution(value.start, value.end, log=log)
    values = list(o.sweep_iterator(transformer=Transformer.encode))
    if not values:
        raise ValueError(f"{o.input_line} lists no value to search")
    if o.is_range_sweep() and not value.shuffle and all(isinstance(v, int) for v in values):
        return IntDistribution(min(values), max(values), step=abs(value.step))  # range()'s end is left out
    return CategoricalDistribution(values)

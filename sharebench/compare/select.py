"""Selectors: text that picks groups of runs, as `--baseline model=local_cnn` and the keys of a
paper's reference numbers do.

A selector is comma-separated terms. `key=value` matches runs whose `key` (a dotted config key, or
its last part when that is unambiguous: `shuffle_seq` for `dataset.shuffle_seq`) has that value;
a bare `value` matches a config group choice (`local_cnn` for model=local_cnn). A group label as
sharebench prints it (`mnist1d_cnn, shuffle_seq=True`) is therefore a selector of its own group.
Values compare as numbers when both are numbers (1e-2 = 0.01), else as text ignoring case
(false = False). No torch, no Hydra.
"""

import re

from sharebench.compare.run_record import Run
from sharebench.compare.runs import Comparison, format_value
from sharebench.configs import GROUPS

SPLIT = re.compile(r",\s*(?![^\[\]{}]*[\]}])")  # commas outside [...] and {...}


def parse(text: str) -> list[tuple[str | None, str]]:
    """[(key or None, value)] of a selector."""
    terms = []
    for part in SPLIT.split(str(text).strip()):
        key, sep, value = part.partition("=")
        if part.strip():
            terms.append((key.strip(), value.strip()) if sep else (None, part.strip()))
    return terms


def same(a, b: str) -> bool:
    text = format_value(a)
    try:
        return float(text) == float(b)
    except ValueError:
        return text.lower() == str(b).lower()


def resolve(key: str, keys: list[str]) -> str | None:
    """The one key of `keys` that is `key` or ends in `.key`; None when none or several do."""
    if key in keys:
        return key
    found = [k for k in keys if k.rsplit(".", 1)[-1] == key]
    return found[0] if len(found) == 1 else None


def run_matches(run: Run, terms: list[tuple[str | None, str]], keys: list[str]) -> bool:
    """Whether a run fits every term; keys resolve against `keys` first, then the run's own config."""
    for key, value in terms:
        if key is None:
            choices = [run.choices.get(g, run.value(g)) for g in GROUPS] + [run.value(k) for k in keys]
            if not any(same(c, value) for c in choices if c is not None):
                return False
            continue
        full = resolve(key, keys) or resolve(key, list(run.config)) or key
        if not same(run.value(full), value):
            return False
    return True


def groups_matching(cmp: Comparison, text: str) -> list[str]:
    """Group labels whose runs fit the selector (a group is judged by its first run that has a record)."""
    terms = parse(text)
    out = []
    for label in cmp.groups:
        runs = [r for r in cmp.members(label, completed_only=False) if r.known]
        if runs and terms and run_matches(runs[0], terms, cmp.keys):
            out.append(label)
    return out

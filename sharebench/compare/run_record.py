"""One run dir read from its files: summary.json, .hydra/ (overrides, config, group choices) and
metrics.csv, into a Run; whatever is missing or broken becomes its status and note, never an error.
No torch, no Hydra.
"""

import json
from dataclasses import dataclass, field
from functools import cached_property
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sharebench.configs import flatten

UNFINISHED = "unfinished"  # .hydra/ but no summary.json: killed before it wrote one, or still starting
CORRUPT = "corrupt"  # summary.json that cannot be parsed
MISSING = "missing"  # a numbered job dir absent from its sweep
# every file a run is read from, relative to its dir (the index keys a run by their stamps)
FILES = ("summary.json", ".hydra/overrides.yaml", ".hydra/config.yaml", ".hydra/hydra.yaml", "metrics.csv")
# libyaml's parser (PyYAML's C binding) where it is built in: ~10x faster than the pure-Python one,
# which was 85% of `sharebench plot`'s time on 2,000 runs (three YAML files a run)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Run:
    dir: Path
    status: str
    summary: dict = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)
    choices: dict = field(default_factory=dict)  # config group → option (from .hydra/hydra.yaml)
    config: dict = field(default_factory=dict)  # flattened .hydra/config.yaml, dotted keys
    # metrics.csv as column → values; as a DataFrame, .metrics (built on demand: a frame per run was
    # most of a second `plot` of 10,000 runs)
    metric_columns: dict[str, np.ndarray] | None = None
    note: str = ""

    @cached_property
    def metrics(self) -> pd.DataFrame | None:
        return None if self.metric_columns is None else pd.DataFrame(self.metric_columns)

    @property
    def known(self) -> bool:
        """Whether anything says what this run was (a dir deleted or never started says nothing)."""
        return bool(self.overrides or self.config or self.summary or self.choices)

    def value(self, key: str):
        """What this run used for `key`: a group choice, a config value, an override or a summary field."""
        for source in (self.choices, self.config, self.summary):
            if key in source:
                return source[key]
        return override_dict(self.overrides).get(key)


def override_dict(overrides: list[str]) -> dict[str, str]:
    out = {}
    for text in overrides:
        key, sep, value = str(text).partition("=")
        if sep:
            out[key.lstrip("+~")] = value
    return out


def read_yaml_text(text: str):
    return yaml.load(text, Loader=SAFE_LOADER)


def _read_yaml(path: Path):
    try:
        return read_yaml_text(path.read_text())
    except (OSError, yaml.YAMLError):
        return None


def read_choices(path: Path) -> dict:
    """hydra.runtime.choices of .hydra/hydra.yaml, without Hydra's own groups. The file is large and
    only this mapping is needed: it is parsed whole (libyaml) but only that mapping is built into Python."""
    try:
        loader = SAFE_LOADER(path.read_text())
    except OSError:
        return {}
    try:
        node = loader.get_single_node()
        for key in ("hydra", "runtime", "choices"):
            if not isinstance(node, yaml.MappingNode):
                return {}
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
        choices = loader.construct_document(node) if isinstance(node, yaml.MappingNode) else {}
    except yaml.YAMLError:
        return {}
    finally:
        loader.dispose()
    return {k: v for k, v in choices.items() if not str(k).startswith("hydra/")}


def read_metrics(path: Path) -> tuple[dict[str, np.ndarray] | None, str]:
    """metrics.csv as numbers, column → values; a last line cut short by a kill is dropped and noted."""
    try:
        text = path.read_text()
    except OSError:
        return None, "no metrics.csv"
    note = ""
    if text and not text.endswith("\n"):
        text, note = text[: text.rfind("\n") + 1], "metrics.csv: last line cut short, dropped"
    try:
        df = pd.read_csv(StringIO(text), on_bad_lines="skip")
    except (pd.errors.EmptyDataError, pd.errors.ParserError):
        return None, "metrics.csv unreadable"
    if "step" not in df:
        return None, note
    if not all(pd.api.types.is_numeric_dtype(t) for t in df.dtypes):  # a written file is numbers already
        df = df.apply(pd.to_numeric, errors="coerce")
    if df["step"].isna().any():
        df = df.dropna(subset=["step"])
    return {str(c): df[c].to_numpy() for c in df.columns}, note


def load_run(run_dir: Path) -> Run:
    """Read one run dir; whatever is missing or broken becomes its status and note, never an error."""
    if not run_dir.exists():
        return Run(run_dir, MISSING, note="job dir missing from its sweep (deleted?)")
    notes = []
    summary_path = run_dir / "summary.json"
    summary, status = {}, UNFINISHED
    if summary_path.exists():
        try:
            summary = json.loads(summary_path.read_text())
            status = str(summary.get("status", UNFINISHED))
        except (OSError, ValueError):
            status = CORRUPT
            notes.append("summary.json cannot be parsed")
    else:
        notes.append("no summary.json")
    hydra_dir = run_dir / ".hydra"
    overrides = _read_yaml(hydra_dir / "overrides.yaml") or []
    config = _read_yaml(hydra_dir / "config.yaml") or {}
    choices = read_choices(hydra_dir / "hydra.yaml")
    metrics, note = read_metrics(run_dir / "metrics.csv")
    if note:
        notes.append(note)
    if summary.get("error"):
        notes.append(str(summary["error"]))
    return Run(
        run_dir, status, summary, [str(o) for o in overrides], choices, flatten(config), metrics, "; ".join(notes)
    )

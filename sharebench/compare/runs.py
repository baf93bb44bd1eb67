"""Reading runs, from files only: find run dirs, read them (run_record.py, through run_index.py), and
group them.

A run dir is any directory holding `.hydra/` or `summary.json`. Runs are grouped by the overrides
whose values differ between them (seed excluded); every run is kept with its status, never dropped
(statistics.py summarises the groups). No torch, no Hydra.
"""

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from sharebench.compare.run_index import read_runs
from sharebench.compare.run_record import Run, override_dict
from sharebench.compare.sequential import DESIGN_FILE
from sharebench.configs import FREE_KEYS, GROUPS
from sharebench.errors import UserError

SHIFT_KEY = re.compile(r"^(?:final_)?test_(acc|loss)_shift(.+)$")
# overrides that repeat an experiment, or change how it runs rather than what it computes
NOT_AXES = {"seed", *FREE_KEYS}  # a repeat of the experiment, or a key that changes no number
NO_RECORD = "(no record)"  # the group of runs that left nothing to say what they were


def find_run_dirs(paths: list[str | Path]) -> list[Path]:
    """Every run dir under the given paths (a path may itself be a run dir), sorted, without repeats."""
    found: set[Path] = set()
    for p in map(Path, paths):
        if not p.exists():
            raise UserError(f"{p} does not exist: give a run dir or a sweep dir (e.g. results/multirun/…)")
        if not p.is_dir():
            raise UserError(f"{p} is not a directory: give a run dir or a sweep dir (e.g. results/multirun/…)")
        for root, dirs, files in os.walk(p, onerror=lambda err: None):  # a dir deleted meanwhile is skipped
            if ".hydra" in dirs or "summary.json" in files:
                found.add(Path(root).resolve())
                dirs[:] = []  # a run dir holds no further runs
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    found |= _sweep_job_dirs(found)
    if not found:
        raise UserError(
            f"no runs found under {', '.join(map(str, paths))}: a run dir holds .hydra/ or "
            "summary.json (make some with `sharebench run`)"
        )
    return sorted(found, key=_natural_key)


def _sweep_job_dirs(found: set[Path]) -> set[Path]:
    """Job dirs 0…N of a sweep (it has multirun.yaml) that hold no run yet, or that are gone: a job
    never started or killed early, or a dir deleted by hand, is reported instead of silently missing."""
    extra = set()
    for sweep in {d.parent for d in found if (d.parent / "multirun.yaml").exists()}:
        if (sweep / DESIGN_FILE).exists():  # seeds until decided leaves the jobs of decided arms out by design
            continue
        try:
            jobs = {int(d.name) for d in sweep.iterdir() if d.name.isdigit() and d.is_dir()}
        except OSError:  # the sweep dir went away while we read it
            jobs = set()
        jobs |= {int(d.name) for d in found if d.parent == sweep and d.name.isdigit()}
        if jobs:
            extra |= {sweep / str(n) for n in range(max(jobs) + 1)}
    return extra


def _natural_key(path: Path):
    """Sweep job dirs 0, 1, …, 10 in numeric order."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path))]


def axis_keys(runs: list[Run]) -> list[str]:
    """Overrides whose values differ between runs (seed and hydra.* excluded), in first-seen order."""
    keys: list[str] = []
    for run in runs:
        for key in override_dict(run.overrides):
            if key not in keys and key not in NOT_AXES and not key.startswith("hydra"):
                keys.append(key)
    if not any(r.overrides for r in runs):  # runs without Hydra's record: fall back on their identity
        keys = ["model", "dataset", "optim"]
    known = [r for r in runs if r.known]
    return [k for k in keys if len({format_value(r.value(k)) for r in known}) > 1]


def format_value(value) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


def group_label(values: dict[str, str]) -> str:
    """Short and unambiguous: a group choice shows its option (mlp), a value its leaf key (lr=0.1);
    a key the run left at null (max_steps when it ran by epochs) is left out, not shown as `max_steps=`."""
    if not values:
        return "all runs"
    leaves = [k.rsplit(".", 1)[-1] for k in values]
    names = leaves if len(set(leaves)) == len(leaves) else list(values)
    return (
        ", ".join(
            v if "." not in k and k in GROUPS else f"{name}={v}"
            for (k, v), name in zip(values.items(), names)
            if v != ""
        )
        or "all runs"
    )


@dataclass
class Comparison:
    runs: list[Run]
    keys: list[str]  # the grouping keys
    labels: list[str]  # group label of each run
    groups: list[str]  # group labels in order of first appearance
    metric: str  # the headline metric, e.g. test_acc

    def members(self, label: str, completed_only=True) -> list[Run]:
        return [
            r
            for r, lab in zip(self.runs, self.labels)
            if lab == label and (not completed_only or r.status == "completed")
        ]


def compare(
    paths: list[str | Path], by: list[str] | None = None, metric: str = "test_acc", index: bool = False
) -> Comparison:
    """The runs under `paths`, grouped; with `index`, through the index kept beside each given dir
    (run_index.py: what `plot` and `report` use; off for readers of a committed folder of records)."""
    runs = read_runs(find_run_dirs(paths), paths if index else [])
    keys = list(by) if by else axis_keys(runs)
    labels = [group_label({k: format_value(r.value(k)) for k in keys}) if r.known else NO_RECORD for r in runs]
    groups = sorted(dict.fromkeys(labels), key=lambda g: g == NO_RECORD)  # runs without a record last
    return Comparison(runs, keys, labels, groups, metric)


def shift_keys(runs: list[Run]) -> list[str]:
    """summary.json keys of accuracy under test shifts, e.g. test_acc_shift3, when any run has them."""
    keys = {k for r in runs for k in r.summary if SHIFT_KEY.match(k)}
    return sorted(keys, key=lambda k: _natural_key(Path(k)))

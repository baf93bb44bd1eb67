"""What the compared runs have in common, for the report: the settings every run shares (from
.hydra/config.yaml), the ones that differ beyond the grouping keys, and the data sizes, versions,
git commit and device each run recorded in summary.json. A comparison is only as fair as what
its runs shared; this is where a reader checks it. No torch, no Hydra.
"""

from sharebench.compare.runs import NOT_AXES, Comparison, format_value

# config keys that say how a run was executed or where files live, not what it computed
HIDDEN = {*NOT_AXES, "device", "dataset.root", "dataset.subset_seed", "trainer.save_model", "logger._target_"}
SECTIONS = ("model", "dataset", "optim", "trainer", "augment", "eval")
# summary.json fields that describe the data and the environment rather than the result
RECORDED = (
    "task",
    "input_shape",
    "train_size",
    "val_size",
    "test_size",
    "steps",
    "device",
    "cpu_model",
    "cpu_count",
    "threads",
    "git_commit",
)


def _values(cmp: Comparison, get) -> dict[str, list[str]]:
    """{key: distinct values over the runs with a record}, keys in first-seen order."""
    out: dict[str, list[str]] = {}
    for run in (r for r in cmp.runs if r.known):
        for key, value in get(run).items():
            text = "null" if value is None else format_value(value)
            if text not in out.setdefault(key, []):
                out[key].append(text)
    return out


def _config(run) -> dict:
    return {k: v for k, v in run.config.items() if k not in HIDDEN and not k.startswith(("paper.", "hydra."))}


def shared_settings(cmp: Comparison) -> list[tuple[str, str]]:
    """(key, value) of every config setting all runs share, model first, then data, optimizer, trainer."""
    found = _values(cmp, _config)
    same = [(k, v[0]) for k, v in found.items() if len(v) == 1 and _complete(cmp, k)]
    order = lambda kv: SECTIONS.index(kv[0].split(".")[0]) if kv[0].split(".")[0] in SECTIONS else len(SECTIONS)  # noqa: E731
    return sorted(same, key=order)


def _complete(cmp: Comparison, key: str) -> bool:
    """Whether every run with a config has `key` (a key only some models have is not shared)."""
    return all(key in r.config for r in cmp.runs if r.config)


def other_differences(cmp: Comparison) -> list[tuple[str, str]]:
    """(key, "a, b") of settings that differ between runs but are not grouping keys: what comes
    with a grouping key (model.layer with model) or what a reader should know was not held fixed."""
    found = _values(cmp, _config)
    partial = [k for k in found if len(found[k]) == 1 and not _complete(cmp, k)]
    return [(k, ", ".join(v)) for k, v in found.items() if (len(v) > 1 or k in partial) and k not in cmp.keys]


def recorded(cmp: Comparison) -> list[tuple[str, str]]:
    """(field, value or "a, b") of data sizes, steps, device, commit and every *_version in summary.json."""
    found = _values(cmp, lambda r: {k: v for k, v in r.summary.items() if k in RECORDED or k.endswith("_version")})
    order = [k for k in RECORDED if k in found] + sorted(k for k in found if k.endswith("_version"))
    return [(k, found[k][0] if len(found[k]) == 1 else "differs: " + ", ".join(found[k])) for k in order]


def machine(cmp: Comparison) -> str:
    """One line naming the machine the runs recorded: CPU model, its cores and the threads each run
    used ("AMD EPYC, 2 cores; 1 thread per run"); every value when the runs differ; "" when unrecorded."""
    found = _values(cmp, lambda r: {k: r.summary[k] for k in ("cpu_model", "cpu_count", "threads") if k in r.summary})
    text = {k: " or ".join(v) for k, v in found.items()}
    parts = [text.get("cpu_model", "")]
    if "cpu_count" in text:
        parts.append(f"{text['cpu_count']} cores")
    line = ", ".join(p for p in parts if p)
    if "threads" in text:
        line += f"{'; ' if line else ''}{text['threads']} thread{'s' * (text['threads'] != '1')} per run"
    return line

"""The per-sweep index: what `sharebench plot` read from each run dir, kept beside the runs so that a
second plot of an unchanged sweep reads one file instead of thousands.

`<dir>/.sharebench-index.npz` for each directory given to `plot` that is not itself a run dir: a JSON
record per run dir (summary, overrides, group choices, flattened config, status, note, the columns of
metrics.csv) and one array of metrics.csv's numbers. A run is taken from it only while every file it
was read from has the (mtime_ns, size, inode) recorded, so a resumed, still running or edited run is
read again (an atomic rewrite is a new inode, however coarse the filesystem's clock). It is a cache:
a missing, old, corrupt or unwritable index means the runs are read from their files, and the output
is the same. NPZ loaded without pickle, so an index someone hands you runs no code. No torch, no Hydra.
"""

import json
import os
from pathlib import Path

import numpy as np

from sharebench.compare.run_record import FILES, Run, load_run
from sharebench.records.atomic import atomic_path

INDEX_NAME = ".sharebench-index.npz"
FORMAT = 1  # bump when what a record holds, or how load_run reads a file, changes
DTYPES = {"int64", "float64", "bool"}  # what metrics.csv's columns read as; each exact as a float64


def read_runs(run_dirs: list[Path], roots: list[str | Path]) -> list[Run]:
    """Each run dir as a Run, from the index of the root it lies under where its files are unchanged,
    else read from its files; then each index rewritten if anything in it changed. A root that is
    itself a run dir keeps no index; with no roots, every run is read from its files."""
    roots = [Path(p).resolve() for p in roots if not _is_run_dir(Path(p))]
    indexes = {root: _load(root / INDEX_NAME) for root in dict.fromkeys(roots)}
    fresh = {root: {} for root in indexes}  # what each index will hold: the runs found under it now
    changed = set()
    runs: dict[Path, Run] = {}
    todo = []
    for run_dir in run_dirs:
        stamps = file_stamps(run_dir)  # before reading: a file changed meanwhile is read again next time
        root = next((r for r in roots if run_dir.is_relative_to(r)), None)
        key = run_dir.relative_to(root).as_posix() if root else None
        entry = indexes[root].get(key) if root else None
        run = _decode(run_dir, entry, stamps) if entry else None
        if run is None:
            todo.append((run_dir, root, key, stamps))
        else:
            runs[run_dir] = run
            fresh[root][key] = entry
    for run_dir, root, key, stamps in todo:  # one after another: two processes were not faster on 2 cores
        runs[run_dir] = run = load_run(run_dir)
        entry = _encode(run, stamps) if root and stamps else None
        if entry:
            fresh[root][key] = entry
            changed.add(root)
    for root, entries in fresh.items():
        if root in changed or entries.keys() != indexes[root].keys():  # a run read again, added or gone
            _save(root / INDEX_NAME, entries)
    return [runs[d] for d in run_dirs]


def _is_run_dir(path: Path) -> bool:
    return (path / ".hydra").is_dir() or (path / "summary.json").exists()


def file_stamps(run_dir: Path) -> list | None:
    """(mtime_ns, size, inode) of each file a run is read from, None for a file that is absent; None for a
    run dir that cannot be looked into (gone, or not readable), which is then never indexed."""
    stamps = []
    for name in FILES:
        try:
            st = os.stat(run_dir / name)
        except (FileNotFoundError, NotADirectoryError):
            stamps.append(None)
            continue
        except OSError:
            return None
        stamps.append([st.st_mtime_ns, st.st_size, st.st_ino])
    return stamps if run_dir.is_dir() else None


def _plain(value) -> bool:
    """Whether JSON gives `value` back exactly (a YAML date, set or non-string key would not)."""
    if value is None or type(value) in (str, bool, int, float):
        return True
    if type(value) is list:
        return all(_plain(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    return False


def _encode(run: Run, stamps: list) -> dict | None:
    """A run as an index entry (its metrics as a float64 array under "values"), or None when it
    cannot be kept exactly: then it is read from its files every time."""
    record = {
        "status": run.status,
        "summary": run.summary,
        "overrides": run.overrides,
        "choices": run.choices,
        "config": run.config,
        "note": run.note,
    }
    if not _plain(record):
        return None
    entry = {"stamps": stamps, **record, "metrics": None}
    columns = run.metric_columns
    if columns is not None:
        dtypes = [a.dtype.name for a in columns.values()]
        if not set(dtypes) <= DTYPES or len({len(a) for a in columns.values()}) > 1:
            return None
        rows = len(next(iter(columns.values()), ()))
        values = np.array([a.astype(np.float64) for a in columns.values()]).reshape(len(columns), rows)
        for a, v in zip(columns.values(), values):
            if a.dtype.name == "int64" and not np.array_equal(v.astype(np.int64), a):
                return None  # an integer too large for a float64
        entry["metrics"] = {"columns": list(columns), "dtypes": dtypes, "rows": rows}
        entry["values"] = values
    return entry


def _decode(run_dir: Path, entry: dict, stamps: list | None) -> Run | None:
    """The Run an index entry holds, or None when its files changed since (or the entry is malformed)."""
    try:
        if stamps is None or entry["stamps"] != stamps:
            return None
        metrics = None
        if entry["metrics"] is not None:
            spec, values = entry["metrics"], entry["values"]
            if values.shape != (len(spec["columns"]), spec["rows"]) or not set(spec["dtypes"]) <= DTYPES:
                return None
            metrics = {str(c): values[i].astype(t) for i, (c, t) in enumerate(zip(spec["columns"], spec["dtypes"]))}
        return Run(
            run_dir,
            str(entry["status"]),
            dict(entry["summary"]),
            [str(o) for o in entry["overrides"]],
            dict(entry["choices"]),
            dict(entry["config"]),
            metrics,
            str(entry["note"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _load(path: Path) -> dict:
    """The entries of an index file, or none when it is absent, of another format, or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(npz["meta"].tobytes())
            values = npz["values"]
        if meta.get("format") != FORMAT:
            return {}
        entries = meta["runs"]
        for entry in entries.values():
            if entry["metrics"] is not None:
                start, size = entry.pop("offset"), entry["metrics"]["rows"] * len(entry["metrics"]["columns"])
                if not 0 <= start <= start + size <= len(values):
                    return {}
                entry["values"] = values[start : start + size].reshape(len(entry["metrics"]["columns"]), -1)
        return entries
    except Exception:  # a cache: whatever is wrong with it (truncated, hand-edited, foreign) means re-read
        return {}


def _save(path: Path, entries: dict) -> None:
    """Write the index atomically; where the sweep is not writable, plot goes on without one."""
    runs, blocks, offset = {}, [], 0
    for key, entry in entries.items():
        runs[key] = {k: v for k, v in entry.items() if k != "values"}
        if entry["metrics"] is not None:
            runs[key]["offset"] = offset
            blocks.append(entry["values"].ravel())
            offset += blocks[-1].size
    meta = json.dumps({"format": FORMAT, "runs": runs}, separators=(",", ":")).encode()
    values = np.concatenate(blocks) if blocks else np.zeros(0)
    try:
        with atomic_path(path, suffix=".npz") as tmp:
            np.savez(tmp, meta=np.frombuffer(meta, dtype=np.uint8), values=values)
    except OSError:
        pass  # a read-only sweep, a full disk: the index is only a cache

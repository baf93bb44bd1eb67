"""The per-sweep index `sharebench plot` keeps beside a sweep: a plot read from it writes the same
bytes as one read from the run dirs; a changed run is read again; a corrupt, foreign or unwritable
index never breaks a plot or changes what it writes."""

import io
import json
import os
import zipfile

import numpy as np
import pandas as pd
import pytest
from helpers.mounts import read_only_view
from helpers.runs import make_run

import sharebench.compare.run_index as run_index
from sharebench.compare.comparison_files import write_comparison
from sharebench.compare.run_index import INDEX_NAME, read_runs
from sharebench.compare.run_record import load_run
from sharebench.compare.runs import compare, find_run_dirs

EVALS = ((10, 2.0, 0.25), (20, 1.5, 0.5), (30, 1.0, 0.75))


def make_sweep(root):
    """Four runs: two twin models, two seeds, three evaluations each, and a job that wrote no summary."""
    root.mkdir()
    (root / "multirun.yaml").write_text("{}\n")
    for i, (model, seed) in enumerate([("shared_cnn", 0), ("shared_cnn", 1), ("local_cnn", 0), ("local_cnn", 1)]):
        make_run(root, str(i), model, seed, 0.5 + 0.1 * i, evals=EVALS, extra={"optim.lr": 0.01})
    (root / "4" / ".hydra").mkdir(parents=True)  # still starting: .hydra/ only
    return root


def plot(sweep, out):
    write_comparison([str(sweep)], out=out, formats=("png",))
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.fixture
def file_reads(monkeypatch):
    """The run dirs read from their files (not from the index), in order."""
    reads = []

    def counting(run_dir):
        reads.append(run_dir.name)
        return load_run(run_dir)

    monkeypatch.setattr(run_index, "load_run", counting)
    return reads


def test_a_plot_from_the_index_writes_the_same_files_and_reads_no_run(tmp_path, file_reads):
    sweep = make_sweep(tmp_path / "sweep")
    first = plot(sweep, tmp_path / "first")
    assert (sweep / INDEX_NAME).is_file()
    assert sorted(file_reads) == ["0", "1", "2", "3", "4"]
    stamp = (sweep / INDEX_NAME).stat().st_mtime_ns
    file_reads.clear()
    assert plot(sweep, tmp_path / "second") == first
    assert file_reads == []
    assert (sweep / INDEX_NAME).stat().st_mtime_ns == stamp  # unchanged sweep: the index is not rewritten
    assert {"comparison.csv", "runs.csv", "paired.csv"} <= set(first)


def assert_same_runs(got, expected):
    for a, b in zip(got, expected, strict=True):
        for name in ("dir", "status", "summary", "overrides", "choices", "config", "note"):
            assert getattr(a, name) == getattr(b, name)
        if b.metrics is None:
            assert a.metrics is None and a.metric_columns is None
        else:
            pd.testing.assert_frame_equal(a.metrics, b.metrics, check_exact=True)
            assert [v.dtype for v in a.metric_columns.values()] == [v.dtype for v in b.metric_columns.values()]


def test_each_run_from_the_index_equals_the_run_read_from_its_files(tmp_path, file_reads):
    sweep = make_sweep(tmp_path / "sweep")
    dirs = find_run_dirs([sweep])
    read_runs(dirs, [sweep])
    file_reads.clear()
    assert_same_runs(read_runs(dirs, [sweep]), list(map(load_run, dirs)))
    assert file_reads == []
    assert load_run(dirs[-1]).status == "unfinished"


def test_a_run_whose_summary_changed_is_read_again(tmp_path, file_reads):
    sweep = make_sweep(tmp_path / "sweep")
    dirs = find_run_dirs([sweep])
    read_runs(dirs, [sweep])
    summary = sweep / "2" / "summary.json"
    record = json.loads(summary.read_text())
    summary.write_text(json.dumps({**record, "final_test_acc": 0.123}))
    later = summary.stat().st_mtime_ns + 10**9  # a later write, however coarse the filesystem's clock
    os.utime(summary, ns=(later, later))
    file_reads.clear()
    runs = read_runs(dirs, [sweep])
    assert file_reads == ["2"]
    assert runs[2].summary["final_test_acc"] == 0.123
    file_reads.clear()
    assert read_runs(dirs, [sweep])[2].summary["final_test_acc"] == 0.123 and file_reads == []


def test_a_run_that_gets_its_summary_and_a_run_removed_are_seen(tmp_path, file_reads):
    sweep = make_sweep(tmp_path / "sweep")
    read_runs(find_run_dirs([sweep]), [sweep])
    (sweep / "4" / "summary.json").write_text(json.dumps({"status": "failed", "error": "boom"}))
    for name in ("summary.json", "metrics.csv"):
        (sweep / "1" / name).unlink()
    file_reads.clear()
    runs = read_runs(find_run_dirs([sweep]), [sweep])
    assert sorted(file_reads) == ["1", "4"]
    assert runs[4].status == "failed" and "boom" in runs[4].note
    assert runs[1].status == "unfinished" and runs[1].metrics is None


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def meta(obj) -> np.ndarray:
    return np.frombuffer(json.dumps(obj).encode(), dtype=np.uint8)


def foreign_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("meta.npy", b"not an array")
    return buffer.getvalue()


CORRUPT = {
    "garbage": lambda good: b"\x00garbage" * 100,
    "empty": lambda good: b"",
    "cut short": lambda good: good[: len(good) // 2],
    "another format": lambda good: npz_bytes(meta=meta({"format": 0, "runs": {}}), values=np.zeros(0)),
    "offsets past the end": lambda good: npz_bytes(
        meta=meta(
            {
                "format": run_index.FORMAT,
                "runs": {
                    "0": {"stamps": [], "metrics": {"columns": ["step"], "dtypes": ["int64"], "rows": 9}, "offset": 5}
                },
            }
        ),
        values=np.zeros(3),
    ),
    "pickled objects": lambda good: npz_bytes(meta=np.array([{"format": 1}], dtype=object), values=np.zeros(1)),
    "a zip of something else": lambda good: foreign_zip(),
}


@pytest.mark.parametrize("damage", CORRUPT, ids=list(CORRUPT))
def test_a_corrupt_index_is_ignored_and_rewritten(tmp_path, file_reads, damage, capsys):
    sweep = make_sweep(tmp_path / "sweep")
    dirs = find_run_dirs([sweep])
    read_runs(dirs, [sweep])
    index = sweep / INDEX_NAME
    index.write_bytes(CORRUPT[damage](index.read_bytes()))
    file_reads.clear()
    assert_same_runs(read_runs(dirs, [sweep]), list(map(load_run, dirs)))
    assert sorted(file_reads) == ["0", "1", "2", "3", "4"]
    file_reads.clear()
    read_runs(dirs, [sweep])
    assert file_reads == []  # rewritten whole
    assert capsys.readouterr().err == ""


def test_a_read_only_sweep_plots_the_same_without_an_index(tmp_path, capsys):
    source = make_sweep(tmp_path / "source")
    expected = plot(source, tmp_path / "first")
    (source / INDEX_NAME).unlink()
    view = tmp_path / "view"
    view.mkdir()
    with read_only_view(source, view):
        got = plot(view, tmp_path / "second")
        assert not (view / INDEX_NAME).exists()
        assert not [p for p in view.iterdir() if p.name.startswith(".")]  # no temporary file left either
    assert got.pop("runs.csv") == expected.pop("runs.csv").replace(bytes(source), bytes(view))
    assert got == expected
    assert capsys.readouterr().err == ""


def test_a_run_dir_given_alone_keeps_no_index_inside_it(tmp_path):
    sweep = make_sweep(tmp_path / "sweep")
    runs = read_runs(find_run_dirs([sweep / "0"]), [sweep / "0"])
    assert runs[0].status == "completed"
    assert not (sweep / "0" / INDEX_NAME).exists() and not (sweep / INDEX_NAME).exists()


def test_reading_runs_without_plot_keeps_no_index(tmp_path):
    """compare() alone (e.g. scripts/publish_results.py on committed records) writes nothing."""
    sweep = make_sweep(tmp_path / "sweep")
    assert len(compare([sweep]).runs) == 5
    assert not (sweep / INDEX_NAME).exists()


def test_metrics_are_what_pandas_reads_from_the_csv(tmp_path):
    """Numbers converted only where they are not numbers already, rows without a step dropped, a last
    line cut short by a kill dropped and noted: the frame pandas' own read and conversion give."""
    run = make_run(tmp_path, "0", "shared_cnn", 0, 0.5, evals=EVALS)
    text = "step,train_loss,test_acc\n10,1.0,0.25\nx,2.0,0.5\n30,n/a,0.75\n40,0.5,0.8"
    (run / "metrics.csv").write_text(text)
    got = load_run(run)
    expected = pd.read_csv(io.StringIO(text[: text.rfind("\n") + 1])).apply(pd.to_numeric, errors="coerce")
    expected = expected.dropna(subset=["step"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got.metrics.reset_index(drop=True), expected, check_exact=True)
    assert list(got.metric_columns["step"]) == [10, 30] and "last line cut short" in got.note

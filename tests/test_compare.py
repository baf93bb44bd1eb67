"""`sharebench plot` / `report` on a real 3-model × 3-seed sweep, and on damaged copies of it."""

import shutil
import subprocess
import sys

import pandas as pd
import pytest
from helpers.commands import sharebench
from helpers.configs import TINY

from sharebench.cli import COMPARE_HELP, main

MODELS = ("shared_cnn", "local_cnn", "mlp")
FIGURES = ("test_acc_vs_params", "test_acc_by_group", "curves_loss", "curves_acc")


def run_sweep(cwd, *extra):
    out = sharebench(
        "run",
        "-m",
        f"model={','.join(MODELS)}",
        "seed=0,1,2",
        *TINY,
        "trainer.max_steps=2",
        "trainer.plots=false",
        *extra,
        cwd=cwd,
        env={"OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    (sweep,) = (cwd / "results" / "multirun").glob("*/*")
    return sweep, out


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    return run_sweep(tmp_path_factory.mktemp("sweep"))


def test_sweep_end_prints_the_comparison(sweep):
    path, out = sweep
    assert "sharebench comparison: 9 runs (9 completed) in 3 groups, by model" in out.stdout
    table = pd.read_csv(path / "comparison" / "comparison.csv")
    assert list(table["group"]) == list(MODELS)
    assert (table["n"] == 3).all() and (table["n_runs"] == 3).all()
    assert {
        "final_test_acc_mean",
        "final_test_acc_std",
        "final_test_acc_min",
        "final_test_acc_max",
        "params_total_mean",
        "train_seconds_mean",
        "final_test_loss_mean",
    } <= set(table.columns)
    assert (
        table.set_index("group").loc["shared_cnn", "params_total_mean"]
        < table.set_index("group").loc["local_cnn", "params_total_mean"]
    )


def test_plot_writes_tables_and_figures(sweep, tmp_path):
    path, _ = sweep
    out = sharebench("plot", str(path), "--out", str(tmp_path / "cmp"), "--format", "png", "svg", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    runs = pd.read_csv(tmp_path / "cmp" / "runs.csv")
    assert len(runs) == 9 and (runs["status"] == "completed").all()
    assert sorted(runs["seed"]) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    table = pd.read_csv(tmp_path / "cmp" / "comparison.csv")
    for model in MODELS:  # the mean over seeds is the mean of the runs' own final accuracies
        mine = runs[runs["group"] == model]["final_test_acc"]
        row = table[table["group"] == model].iloc[0]
        assert row["final_test_acc_mean"] == pytest.approx(mine.mean())
        assert row["final_test_acc_std"] == pytest.approx(mine.std(ddof=1))
    for name in FIGURES:
        for fmt in ("png", "svg"):
            assert (tmp_path / "cmp" / f"{name}.{fmt}").stat().st_size > 5_000, (name, fmt)


@pytest.mark.slow  # tens of seconds: .ci/run runs it after the README's test command
def test_replot_is_byte_identical(sweep, tmp_path):
    path, _ = sweep
    out = sharebench("plot", str(path), "--out", str(tmp_path / "a"), "--format", "png", "svg", "pdf", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    # another process, as a user re-plotting: in the test process, text laid out after the other tests'
    # figures could land a millionth of a point away in the SVG (matplotlib's text caches)
    again = sharebench("plot", str(path), "--out", str(tmp_path / "b"), "--format", "png", "svg", "pdf", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    # the figures, plus paired differences, the sharing diagnostics, the locality-sharing map and
    # local_cnn's kernel atlas
    assert len(files) == 3 + 3 * (len(FIGURES) + 4) and files == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert "locality_sharing_map.png" in files
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_damaged_runs_are_reported_not_fatal(sweep, tmp_path):
    path, _ = sweep
    copy = tmp_path / "sweep"
    shutil.copytree(path, copy, ignore=shutil.ignore_patterns("comparison"))
    shutil.rmtree(copy / "4")  # deleted in the middle of the sweep
    (copy / "0" / "summary.json").write_text('{"model": "shared_cn')  # cut short
    (copy / "8" / "summary.json").unlink()  # killed before it wrote a summary
    metrics = (copy / "3" / "metrics.csv").read_text()
    (copy / "3" / "metrics.csv").write_text(metrics[:-5])  # last line cut short
    out = sharebench("plot", str(copy), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "9 runs (6 completed, 1 corrupt, 1 missing, 1 unfinished)" in " ".join(out.stdout.split())  # wrapped at 80
    assert max(len(line) for line in out.stdout.splitlines()[:-1]) <= 80, out.stdout
    runs = pd.read_csv(copy / "comparison" / "runs.csv").set_index("run_dir")
    status = {p.rsplit("/", 1)[-1]: s for p, s in runs["status"].items()}
    assert status == {
        "0": "corrupt",
        "1": "completed",
        "2": "completed",
        "3": "completed",
        "4": "missing",
        "5": "completed",
        "6": "completed",
        "7": "completed",
        "8": "unfinished",
    }
    assert "cut short" in runs.loc[str(copy / "3"), "note"]
    table = pd.read_csv(copy / "comparison" / "comparison.csv").set_index("group")
    assert table.loc["shared_cnn", "n"] == 2 and table.loc["shared_cnn", "other_runs"] == "corrupt: 1"
    assert table.loc["mlp", "n"] == 2 and table.loc["mlp", "other_runs"] == "unfinished: 1"
    assert table.loc["(no record)", "other_runs"] == "missing: 1"
    assert table["n_runs"].sum() == 9, "every run is counted somewhere"


@pytest.mark.parametrize(
    "make, needle",
    [
        (lambda p: p / "nope", "does not exist"),
        (lambda p: p, "no runs found"),
    ],
)
def test_no_runs_is_one_line_and_exit_2(tmp_path, make, needle):
    out = sharebench("plot", str(make(tmp_path)), cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sharebench: error:") and needle in lines[0], out.stderr


def test_unknown_metric_is_one_line(sweep, tmp_path):
    out = sharebench("plot", str(sweep[0]), "--metric", "test_acuracy", "--out", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 2 and "test_acc" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_commands_that_train_nothing_import_neither_torch_nor_hydra(sweep, tmp_path):
    """`--help`, `list`, `params --help` and every comparison command (its help, and on a real sweep's
    files) answer at once: none imports torch or Hydra. Here because it needs a real sweep."""
    plain = tmp_path / "sweep"  # without weights: a kernel atlas (drawn from them) would need torch
    shutil.copytree(sweep[0], plain, ignore=shutil.ignore_patterns("*.pt"))
    commands = [["--help"], ["list"], ["params", "--help"]]
    for name in COMPARE_HELP:
        commands += [[name, "--help"], [name, str(plain), "--out", str(tmp_path / name)]]
    code = (
        "import sys; from sharebench.cli import main\n"
        f"for argv in {commands!r}:\n"
        "    try:\n        code = main(argv)\n    except SystemExit as e:\n        code = e.code\n"
        "    assert code in (0, None), (argv, code)\n"
        "    bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'hydra'))\n"
        "    assert not bad, (argv, bad[:5])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "usage: sharebench params" in out.stdout and "--metric" in out.stdout and "model:" in out.stdout
    for name in COMPARE_HELP:
        assert (tmp_path / name / "comparison.csv").exists(), name


def test_group_by_another_key(sweep, tmp_path):
    assert main(["plot", str(sweep[0]), "--by", "dataset", "--out", str(tmp_path)]) == 0
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert list(table["group"]) == ["synthetic"] and table["n"].tolist() == [9]


def test_resumed_runs_group_with_the_others(sweep, tmp_path):
    copy = tmp_path / "sweep"
    shutil.copytree(sweep[0], copy)
    for job in ("0", "4"):  # what `sharebench run -m … resume=true` leaves in the jobs it ran again
        overrides = copy / job / ".hydra" / "overrides.yaml"
        overrides.write_text(overrides.read_text() + "- resume=true\n- trainer.progress=true\n")
        config = copy / job / ".hydra" / "config.yaml"
        text = config.read_text()
        assert "resume: false" in text and "progress: false" in text
        config.write_text(text.replace("resume: false", "resume: true").replace("progress: false", "progress: true"))
    assert main(["plot", str(copy), "--out", str(tmp_path / "cmp")]) == 0
    table = pd.read_csv(tmp_path / "cmp" / "comparison.csv")
    assert list(table["group"]) == list(MODELS) and (table["n"] == 3).all()


def test_report_has_table_and_figures(sweep, tmp_path):
    out = sharebench("report", str(sweep[0]), "--out", str(tmp_path / "rep"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "| group | n | mean | 95% CI | min – max | params |" in text and "final test accuracy" in text.lower()
    for model in MODELS:
        assert f"| {model} | 3 |" in text
    for name in FIGURES:
        assert f"]({name}.png)" in text and (tmp_path / "rep" / f"{name}.png").exists()
    assert "differs between groups: `model`" in text and "seeds: 0, 1, 2" in text
    assert text.count("| completed |") == 9


def test_optional_axes_appear_when_runs_record_them(sweep, tmp_path):
    """Train fraction, test shifts and effective parameters: used when present, whoever writes them."""
    import json

    import yaml

    copy = tmp_path / "sweep"
    shutil.copytree(sweep[0], copy, ignore=shutil.ignore_patterns("comparison"))
    for job in copy.iterdir():
        if not job.name.isdigit():
            continue
        fraction = (0.5, 1.0)[int(job.name) % 2]
        overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
        (job / ".hydra" / "overrides.yaml").write_text(
            yaml.safe_dump(overrides + [f"dataset.train_fraction={fraction}"])
        )
        config = yaml.safe_load((job / ".hydra" / "config.yaml").read_text())
        config["dataset"]["train_fraction"] = fraction
        (job / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
        summary = json.loads((job / "summary.json").read_text())
        summary.update(
            {f"test_acc_shift{k}": 0.5 - 0.01 * k for k in (0, 2, 4)}, params_effective=2 * summary["params_total"]
        )
        (job / "summary.json").write_text(json.dumps(summary))
    assert main(["plot", str(copy), "--out", str(tmp_path / "cmp")]) == 0
    table = pd.read_csv(tmp_path / "cmp" / "comparison.csv")
    assert "train_fraction=0.5" in table["group"].iloc[0] and len(table) == 6
    assert table["test_acc_shift4_mean"].tolist() == pytest.approx([0.46] * 6)
    assert (table["params_effective_mean"] == 2 * table["params_total_mean"]).all()
    for name in ("test_acc_vs_train_fraction", "test_acc_vs_shift", "test_acc_vs_params"):
        assert (tmp_path / "cmp" / f"{name}.png").stat().st_size > 5_000, name

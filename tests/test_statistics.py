"""Intervals, paired comparisons, the 80-column table and paper verdicts, on hand-made run dirs with
known numbers (no training)."""

import math

import numpy as np
import pandas as pd
import pytest
from helpers.runs import make_run

import sharebench
from sharebench.cli import main
from sharebench.compare.comparison_files import write_comparison
from sharebench.compare.paired import TWINS, paired_table
from sharebench.compare.paper import paper_rows, problem
from sharebench.compare.runs import compare
from sharebench.compare.statistics import comparison_table, interval
from sharebench.compare.tables import format_number, terminal_table

SHARED = [0.80, 0.82, 0.84]
LOCAL = [0.75, 0.78, 0.76]


@pytest.fixture
def twins(tmp_path):
    for seed, (a, b) in enumerate(zip(SHARED, LOCAL)):
        make_run(tmp_path, f"s{seed}", "shared_cnn", seed, a, params=14_442, effective=78_090)
        make_run(tmp_path, f"l{seed}", "local_cnn", seed, b, params=78_090)
    make_run(tmp_path, "l9", "local_cnn", 9, 0.10)  # a seed the shared model never ran: not paired
    return tmp_path


def test_interval_is_students_t_of_the_mean():
    assert interval([0.5, 1.0, 1.6]) == pytest.approx((-0.3348, 2.4015), abs=1e-4)  # scipy.stats.t.interval
    values = [0.71, 0.74, 0.69, 0.80]
    low, high = interval(values)
    assert low < min(values) and high > np.mean(values)
    assert np.mean([low, high]) == pytest.approx(np.mean(values)), "symmetric about the mean"


@pytest.mark.parametrize(
    "values, expected",
    [
        ([0.5, 0.6], (0.55 - 12.7062 * 0.05, 0.55 + 12.7062 * 0.05)),  # n = 2: t(0.975, 1) = 12.706
        ([0.7], (math.nan, math.nan)),
        ([], (math.nan, math.nan)),
        ([0.9, 0.9, 0.9], (0.9, 0.9)),
    ],
)
def test_interval_edge_cases(values, expected):
    assert interval(values) == pytest.approx(expected, nan_ok=True, abs=1e-4)


def test_comparison_csv_has_intervals_only_from_two_seeds(twins):
    table = comparison_table(compare([twins])).set_index("group")
    assert (
        table.loc["shared_cnn", "final_test_acc_ci_low"]
        < np.mean(SHARED)
        < table.loc["shared_cnn", "final_test_acc_ci_high"]
    )
    assert "params_total_ci_low" not in table, "counts are not estimates"
    make_run(twins, "mlp0", "mlp", 0, 0.5)
    cmp = compare([twins])
    table = comparison_table(cmp).set_index("group")
    assert math.isnan(table.loc["mlp", "final_test_acc_ci_low"]) and table.loc["mlp", "n"] == 1
    text = terminal_table(cmp, table.reset_index())
    assert "n<2: no interval" in text and "95% t-interval, n = 1–4" in text


def test_twins_pair_by_seed(twins):
    cmp = compare([twins])
    paired = paired_table(cmp, "final_test_acc")
    assert len(paired) == 1
    row = paired.iloc[0]
    assert (row["a"], row["b"], row["differs_in"], row["n"], row["seeds"]) == (
        "shared_cnn",
        "local_cnn",
        "model",
        3,
        "0 1 2",
    )
    diffs = np.subtract(SHARED, LOCAL)
    assert row["mean_diff"] == pytest.approx(diffs.mean())
    assert row["ci_low"] <= diffs.mean() <= row["ci_high"] and row["a_wins"] == 3 and row["ties"] == 0
    assert row["verdict"] == "A better" and row["p_difference"] < 0.05 and row["family"] == 1


def test_losses_improve_downwards_and_ties_count_half(twins):
    cmp = compare([twins], metric="test_loss")
    row = paired_table(cmp, "final_test_loss").iloc[0]
    assert row["better"] == "lower" and row["a_wins"] == 3  # shared has the lower loss on each seed
    assert row["verdict"] == "A better", "A is better where its loss is lower"
    make_run(twins, "s9", "shared_cnn", 9, 0.10)  # now seed 9 is paired too, and tied
    row = paired_table(compare([twins]), "final_test_acc").iloc[0]
    assert row["n"] == 4 and (row["a_wins"], row["ties"]) == (3, 1)


def test_baseline_pairs_each_group_with_its_match_on_the_other_keys(tmp_path):
    for seed in range(3):
        for model in ("shared_cnn", "local_cnn", "mlp"):
            for shuffle in (False, True):
                acc = {"shared_cnn": 0.8, "local_cnn": 0.7, "mlp": 0.6}[model] - 0.2 * shuffle + 0.01 * seed
                make_run(
                    tmp_path, f"{model}-{shuffle}-{seed}", model, seed, acc, extra={"dataset.shuffle_seq": shuffle}
                )
    cmp = compare([tmp_path])
    paired = paired_table(cmp, "final_test_acc", "model=local_cnn")
    assert sorted(zip(paired["a"], paired["b"])) == sorted(
        [
            ("shared_cnn, shuffle_seq=False", "local_cnn, shuffle_seq=False"),
            ("shared_cnn, shuffle_seq=True", "local_cnn, shuffle_seq=True"),
            ("mlp, shuffle_seq=False", "local_cnn, shuffle_seq=False"),
            ("mlp, shuffle_seq=True", "local_cnn, shuffle_seq=True"),
        ]
    )
    shuffled = paired_table(cmp, "final_test_acc", "shuffle_seq=false")
    assert len(shuffled) == 3 and set(shuffled["differs_in"]) == {"dataset.shuffle_seq"}
    assert shuffled["mean_diff"].tolist() == pytest.approx([-0.2] * 3)
    assert len(paired_table(cmp, "final_test_acc")) == 2, "default: shared_cnn with local_cnn, per shuffle"


@pytest.mark.parametrize(
    "baseline, needle", [("model=locl_cnn", "no group matches"), ("optim.lr=0.1", "KEY one of: model")]
)
def test_bad_baseline_is_one_line(twins, baseline, needle, capsys):
    assert main(["plot", str(twins), "--baseline", baseline, "--out", str(twins / "cmp")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err


def test_no_twins_no_pairs_no_error(tmp_path):
    for seed in range(3):
        make_run(tmp_path, f"a{seed}", "mlp", seed, 0.5)
        make_run(tmp_path, f"b{seed}", "gru", seed, 0.6)
    cmp, table, paired, files = write_comparison([str(tmp_path)], tmp_path / "cmp")
    assert paired.empty and not (tmp_path / "cmp" / "paired.csv").exists()
    assert not (tmp_path / "cmp" / "paired_differences.png").exists()
    assert "paired" not in terminal_table(cmp, table, paired)


def test_twin_table_covers_the_shared_models():
    models = TWINS["model"]
    assert models["shared_cnn"] == "local_cnn" and models["mnist1d_cnn"] == "mnist1d_local_cnn"
    assert models["rnn"] == "unrolled_rnn" and models["ott2020_mnist_cnn"] == "ott2020_mnist_local_cnn"
    assert set(TWINS["spectrum"].values()) == {"local", "dense"} and "dense" not in TWINS["spectrum"]
    # β-LASSO, and the dense net started from a conv, against the plain dense net
    assert TWINS["spectrum"]["dense_blasso"] == TWINS["spectrum"]["dense_from_conv"] == "dense"


def test_paired_csv_and_table_fit_80_columns(twins):
    cmp, table, paired, files = write_comparison([str(twins)], twins / "cmp")
    csv = pd.read_csv(twins / "cmp" / "paired.csv")
    assert list(csv.columns[:5]) == ["a", "b", "differs_in", "metric", "n"] and len(csv) == 1
    text = terminal_table(cmp, table, paired)
    assert "shared_cnn − local_cnn  A better" in text and "3 of 3" in text and "P(A better)" not in text
    assert max(map(len, text.splitlines())) <= 80, text


def test_long_group_labels_wrap_within_80_columns(tmp_path):
    extra = {"trainer.some_really_long_option_name": "a_value_that_is_long_too", "optim.lr": 0.1}
    for seed in range(3):
        make_run(tmp_path, f"a{seed}", "soft_tied_cnn", seed, 0.5, extra=extra)
        make_run(
            tmp_path,
            f"b{seed}",
            "local_cnn",
            seed,
            0.6,
            extra={"trainer.some_really_long_option_name": "another_long_value_here", "optim.lr": 0.2},
        )
    cmp, table, paired, _ = write_comparison([str(tmp_path)], tmp_path / "cmp")
    text = terminal_table(cmp, table, paired)
    assert max(map(len, text.splitlines())) <= 80, text
    assert "a_value_that_is_long_too" in text.replace("\n", " "), "labels wrap, never cut"


def test_counts_print_with_commas():
    assert format_number(33170.0) == "33,170" and format_number(33170.4) == "33,170"
    assert format_number(0.4913) == "0.4913" and format_number(float("nan")) == "—"


def test_defaults_left_at_null_drop_out_of_labels(tmp_path):
    make_run(tmp_path, "a", "shared_cnn", 0, 0.5, extra={"trainer.max_steps": None})
    make_run(tmp_path, "b", "shared_cnn", 0, 0.5, extra={"trainer.max_steps": 200})
    make_run(tmp_path, "c", "local_cnn", 0, 0.5, extra={"trainer.max_steps": None})
    assert compare([tmp_path]).groups == ["shared_cnn", "shared_cnn, max_steps=200", "local_cnn"]


def test_paper_verdicts(twins):
    cmp = compare([twins])
    node = {
        "name": "P",
        "metric": "test_acc",
        "tolerance": 0.02,
        "reference": {"shared_cnn": 0.83, "model=local_cnn": 0.55, "mlp": 0.5},
    }  # local: 0.5975 with seed 9
    rows = {r["reference_key"]: r for r in paper_rows(cmp, node)}
    assert rows["shared_cnn"]["verdict"] == "within tolerance"  # 0.82 measured
    assert rows["model=local_cnn"]["verdict"] == "above" and rows["model=local_cnn"]["n"] == 4
    assert rows["mlp"]["verdict"] == "not run" and rows["mlp"]["group"] == "—"


def test_paper_node_in_points_gives_the_same_verdicts(twins):
    """`unit: points`: reference 83 and tolerance 2 are 0.83 and 0.02, as a node without a unit (the
    records made before it) says them; a loss cannot be in points."""
    cmp = compare([twins])
    node = {"metric": "test_acc", "unit": "points", "tolerance": 2, "reference": {"shared_cnn": 83, "local_cnn": 55}}
    rows = {r["reference_key"]: r for r in paper_rows(cmp, node)}
    assert rows["shared_cnn"]["reference"] == pytest.approx(0.83) and rows["shared_cnn"]["tolerance"] == 0.02
    assert rows["shared_cnn"]["verdict"] == "within tolerance" and rows["local_cnn"]["verdict"] == "above"
    assert "accuracy metric" in problem({**node, "metric": "test_loss"})
    assert "not a unit" in problem({**node, "unit": "percent"}) and problem(node) is None


def test_report_states_what_runs_share_and_the_paper(twins):
    import yaml

    for run in twins.iterdir():
        cfg = yaml.safe_load((run / ".hydra" / "config.yaml").read_text())
        cfg["paper"] = {
            "name": "Some paper, Table 2",
            "metric": "test_acc",
            "tolerance": 0.01,
            "reference": {"shared_cnn": 0.90, "local_cnn": 0.60},
        }
        (run / ".hydra" / "config.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["report", str(twins), "--out", str(twins / "rep")]) == 0
    text = (twins / "rep" / "report.md").read_text()
    assert "| `optim.lr` | `0.01` |" in text and "| `trainer.max_steps` | `30` |" in text
    assert "| `train_size` | 200 |" in text and "| `torch_version` | 2.4.0 |" in text
    assert "| `git_commit` | abc123 |" in text and "| `device` | cpu |" in text
    assert "## Paper vs measured: Some paper, Table 2" in text
    assert "| shared_cnn | shared_cnn | 3 | 90.00 | 82.00 |" in text and "| below |" in text
    assert "| within tolerance |" in text
    assert "| shared_cnn − local_cnn | A better | +5.67 |" in text and "](paired_differences.png)" in text
    assert "95% t-interval, n = 3" in text and "percentile" not in text and "bootstrap" not in text


@pytest.mark.parametrize(
    "flag, value, needle",
    [
        ("--delta", "-0.1", "finite number ≥ 0"),
        ("--delta", "abc", "is not a number"),
        ("--delta", "nan", "finite number ≥ 0"),
        ("--seeds-needed", "0", "cannot be decided"),
        ("--seeds-needed", "x", "give a number > 0"),
        ("--seeds-needed", "-1", "give a number > 0"),
    ],
)
def test_bad_delta_or_difference_is_one_line_and_writes_nothing(twins, flag, value, needle, capsys):
    assert main(["plot", str(twins), flag, value, "--out", str(twins / "cmp")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and flag in err[0], err
    assert not (twins / "cmp").exists()


def test_seeds_needed_from_a_pilot_and_delta_changes_the_verdict(twins, capsys):
    assert main(["plot", str(twins), "--seeds-needed", "1", "--out", str(twins / "cmp")]) == 0
    out = capsys.readouterr().out
    assert "seeds per arm that would decide a true difference of 1.00 points" in out.replace("\n   ", " ")
    row = next(
        line for line in out.splitlines() if line.startswith("shared_cnn − local_cnn") and "A better" not in line
    )
    assert int(row.split()[3]) >= 2, row
    # differences of about 5.7 points: 'equivalent' needs a margin wider than that, and then A is still better
    assert main(["plot", str(twins), "--delta", "20", "--out", str(twins / "cmp2")]) == 0
    paired = pd.read_csv(twins / "cmp2" / "paired.csv")
    assert paired["delta"].tolist() == [0.2] and paired["verdict"].tolist() == ["A better"]


@pytest.mark.parametrize("metric, recorded", [("test_acc", 0.01), ("test_loss", 1.0)])
def test_delta_is_typed_in_points_for_an_accuracy_and_in_a_losss_own_units(twins, metric, recorded, capsys):
    """`--delta 1` on an accuracy is one percentage point (paired.csv keeps the records' fraction, the
    table prints points); on a loss it is 1 of the loss, untouched."""
    out = twins / metric
    assert main(["plot", str(twins), "--metric", metric, "--delta", "1", "--out", str(out)]) == 0
    assert pd.read_csv(out / "paired.csv")["delta"].tolist() == [recorded]
    printed = capsys.readouterr().out.replace("\n   ", " ")
    assert ("within ±1.00 points" if metric == "test_acc" else "within ±1 (TOST)") in printed, printed


def test_api_load_takes_delta_in_points(twins):
    assert sharebench.load(twins, delta=1).paired["delta"].tolist() == [0.01]

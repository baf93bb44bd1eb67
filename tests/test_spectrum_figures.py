"""The spectrum's figures, on run dirs written by hand: one joined curve in sweep order, and the
sharing diagnostics over training."""

import math

import matplotlib
import pytest
from helpers.runs import make_run

from sharebench.compare.runs import compare
from sharebench.compare.spectrum import diagnostics_curves, spectrum_curve

matplotlib.use("Agg")
POINTS = [("conv", 5_000, 0.93), ("lowrank_k4", 17_000, 0.91), ("local", 32_000, 0.88)]


@pytest.fixture()
def spectrum_sweep(tmp_path):
    job = 0
    for name, params, acc in POINTS:
        for seed in range(3):
            run = make_run(
                tmp_path,
                str(job),
                "mnist1d_cnn",
                seed,
                acc + seed / 1000,
                params=params,
                extra={"spectrum": name},
                evals=((100, 1.0, 0.5), (200, 0.8, acc)),
            )
            if name != "conv":  # unshared layers record their diagnostics at each evaluation
                (run / "metrics.csv").write_text(
                    "step,train_loss,test_loss,test_acc,conv1_snr,conv1_neighbor_dist,conv2_snr,conv2_neighbor_dist\n"
                    f"100,1.0,1.0,0.5,0.1,2.0,0.3,4.0\n200,0.8,0.8,{acc},0.2,1.0,0.4,2.0\n"
                )
            job += 1
    return compare([str(tmp_path)])


def test_the_spectrum_is_one_curve_in_sweep_order_with_intervals(spectrum_sweep):
    stem, fig = spectrum_curve(spectrum_sweep, "final_test_acc", 100.0, "test accuracy (%)")
    ax = fig.axes[0]
    curve = ax.get_lines()[0]
    assert list(curve.get_xdata()) == [5_000, 17_000, 32_000]
    assert [round(y, 2) for y in curve.get_ydata()] == [93.1, 91.1, 88.1]
    assert [t.get_text() for t in ax.texts] == ["conv", "lowrank_k4", "local"]
    assert ax.get_xscale() == "log" and "95% t-interval over 3 seeds" in ax.get_title()
    assert len(ax.collections) == 3  # an error bar for every point


def test_no_spectrum_curve_when_other_keys_differ(tmp_path):
    for i, model in enumerate(("shared_cnn", "local_cnn")):
        make_run(tmp_path, str(i), model, 0, 0.9)
    assert spectrum_curve(compare([str(tmp_path)]), "final_test_acc", 100.0, "acc") is None


def test_diagnostics_are_drawn_over_training_as_the_mean_over_layers(spectrum_sweep):
    stem, fig = diagnostics_curves(spectrum_sweep)
    snr, neighbours = fig.axes[:2]
    assert snr.get_yscale() == "log"
    lines = {line.get_label(): line for line in neighbours.get_lines()}
    assert set(lines) == {"lowrank_k4", "local"}  # the conv has nothing unshared to measure
    assert list(lines["local"].get_xdata()) == [100, 200]
    assert list(lines["local"].get_ydata()) == [3.0, 1.5]
    assert all(math.isclose(y, v) for y, v in zip(snr.get_lines()[0].get_ydata(), [0.2, 0.3]))


def test_a_spectrum_sweep_pairs_every_shared_point_with_the_locally_connected_net(spectrum_sweep):
    from sharebench.compare.paired import twin_pairs

    assert sorted(twin_pairs(spectrum_sweep)) == [("conv", "local"), ("lowrank_k4", "local")]

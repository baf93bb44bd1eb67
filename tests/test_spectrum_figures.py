"""The spectrum's figures, on run dirs written by hand: one joined curve in sweep order, and the
sharing diagnostics over training."""

import math
from itertools import combinations

import matplotlib
import pytest
from helpers.runs import make_run

from sharebench.compare import style
from sharebench.compare.runs import compare
from sharebench.compare.spectrum import diagnostics_curves, label_box, spectrum_curve

matplotlib.use("Agg")
POINTS = [("conv", 5_000, 0.93), ("lowrank_k4", 17_000, 0.91), ("local", 32_000, 0.88)]


# the published sharing_spectrum sweep's crowd: nine points at 32.6k, three at 5.2k (accuracies rounded)
CROWD = [
    *(("conv", 5_200, 0.865), ("lowrank_k1", 5_200, 0.865), ("untie_300", 5_200, 0.841)),
    *(("lowrank_k2", 9_300, 0.848), ("tiled_2", 9_300, 0.839), ("lowrank_k4", 17_000, 0.871)),
    *(("wide_conv", 32_600, 0.93), ("lowrank_k8", 32_600, 0.861), ("local", 32_600, 0.795)),
    *(("soft_tied_1e-3", 32_600, 0.722), ("dynamic_1", 32_600, 0.687), ("dynamic_10", 32_600, 0.677)),
    *(("soft_tied_1e-2", 32_600, 0.635), ("soft_tied_1e-1", 32_600, 0.52), ("dynamic_100", 32_600, 0.265)),
    ("dense", 170_000, 0.63),
]
# points a few percent apart in parameters and at one accuracy: columns apart, labels on one another
NEAR = [("conv", 5_200, 0.9), ("lowrank_k8", 32_600, 0.70), ("local", 33_400, 0.70), ("dynamic_1", 34_300, 0.705)]


def _sweep(root, points, seeds=3):
    job = 0
    for name, params, acc in points:
        for seed in range(seeds):
            run = make_run(
                root,
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
    return compare([str(root)])


@pytest.fixture()
def spectrum_sweep(tmp_path):
    return _sweep(tmp_path, POINTS)


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


@pytest.mark.parametrize("points", [CROWD, NEAR], ids=["published", "near"])
def test_point_labels_do_not_overlap(tmp_path, points):
    """Labels of points at one or nearby parameter counts overlapped: as built and as saved (style.save
    lays the figure out again at its dpi), no two label boxes meet, and they are read at page width at
    8 pt or more."""
    cmp = _sweep(tmp_path, points, seeds=2)
    with matplotlib.rc_context(style.DETERMINISTIC):
        _, fig = spectrum_curve(cmp, "final_test_acc", 100.0, "test accuracy (%)")
        ax = fig.axes[0]
        assert sorted(t.get_text() for t in ax.texts) == sorted(p[0] for p in points)
        for dpi in (fig.dpi, style.DPI):
            fig.set_dpi(dpi)
            fig.draw_without_rendering()
            boxes = {t.get_text(): label_box(t, fig.canvas.get_renderer()) for t in ax.texts}
            met = [(a, b) for (a, box), (b, other) in combinations(boxes.items(), 2) if box.overlaps(other)]
            assert not met, met
        texts = ax.texts + ax.get_legend().get_texts()
        assert min(style.page_points(fig, t.get_fontsize()) for t in texts) >= 8
    alone = next(t for t in ax.texts if t.get_text() == "conv" and len(points) == len(NEAR) or t.get_text() == "dense")
    assert alone.xyann[1] == 0 and not alone.arrow_patch.get_visible(), "a label with room stays beside its point"
    moved = [t for t in ax.texts if abs(t.xyann[1]) > 3]
    assert moved and all(t.arrow_patch.get_visible() for t in moved), "a moved label points back to its point"


def test_diagnostics_are_read_at_page_width_and_two_evaluations_are_two_points(tmp_path):
    """The diagnostics' legends were 6 pt at page width and two evaluations were drawn as a line: the
    legend is read at 8 pt or more, and each curve of fewer than 5 evaluations shows its points."""
    for points in (POINTS, CROWD):
        cmp = _sweep(tmp_path / str(len(points)), points, seeds=1)
        with matplotlib.rc_context(style.DETERMINISTIC):
            _, fig = diagnostics_curves(cmp)
            fig.draw_without_rendering()
            texts = fig.legends[0].get_texts()
            assert len(texts) == len(points) - 1  # the conv records none
            assert min(style.page_points(fig, t.get_fontsize()) for t in texts) >= 8
        lines = [line for ax in fig.axes[:2] for line in ax.get_lines()]
        assert lines and all(len(line.get_xdata()) == 2 for line in lines)
        assert all(line.get_marker() not in (None, "None", "") and line.get_markersize() >= 5 for line in lines)
        assert all(line.get_linestyle() == ":" for line in lines), "two points, joined but not drawn as a curve"
        colours = {(line.get_color(), line.get_marker()) for line in fig.axes[0].get_lines()}
        assert len(colours) == len(points) - 1


def _recorded_sweep(root, declared: dict[str, dict]):
    """Spectrum points whose configs record their own model.sharing (as runs made since the key do)."""
    for job, (name, sharing) in enumerate(declared.items()):
        for seed in range(2):
            config = {"model": {"_target_": "m.Net", "sharing": sharing}}
            make_run(
                root, f"{job}-{seed}", "mnist1d_cnn", seed, 0.8 + job / 100, extra={"spectrum": name}, config=config
            )
    return compare([str(root)])


def test_pairs_and_baselines_come_from_what_each_run_recorded(tmp_path):
    from sharebench.compare.paired import twin_pairs

    # the files pair lowrank_k4 with local and draw neither beside the line; these runs recorded otherwise
    cmp = _recorded_sweep(
        tmp_path,
        {
            "lowrank_k4": {"spectrum_twin": "conv", "spectrum_baseline": True},
            "conv": {"spectrum_twin": None, "spectrum_baseline": False},
            "local": {"spectrum_twin": None, "spectrum_baseline": False},
        },
    )
    assert twin_pairs(cmp) == [("lowrank_k4", "conv")]
    _, fig = spectrum_curve(cmp, "final_test_acc", 100.0, "test accuracy (%)")
    assert [t.get_text() for t in fig.axes[0].texts] == ["lowrank_k4", "conv", "local"]
    assert list(fig.axes[0].get_lines()[0].get_xdata()) == [10_000, 10_000]  # conv and local joined, not lowrank_k4


def test_records_made_before_the_keys_pair_as_todays_files_declare(spectrum_sweep):
    from sharebench.compare.paired import twin_of

    run = spectrum_sweep.members("lowrank_k4")[0]
    assert "model.sharing.spectrum_twin" not in run.config and twin_of(run, "spectrum") == "local"

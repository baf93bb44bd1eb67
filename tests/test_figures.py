"""Figures that never fail silently: each case was once seen on a short sweep. Asserted on the
Figure objects (what is drawn), not only on the files."""

import math

import matplotlib
import pytest
from helpers.runs import fraction_sweep, make_run
from matplotlib.container import ErrorbarContainer
from matplotlib.legend import Legend

from sharebench.compare import figures
from sharebench.compare.paired import paired_table
from sharebench.compare.runs import compare
from sharebench.compare.style import MAX_WIDTH

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def close_all():
    yield
    figures.style.plt().close("all")


def _labels(axis, ax, which="x"):
    """Tick labels that are drawn: inside the view and not empty."""
    ax.figure.canvas.draw()
    lo, hi = sorted(ax.get_xlim() if which == "x" else ax.get_ylim())
    return [t.get_text() for t, v in zip(axis.get_ticklabels(), axis.get_ticklocs()) if t.get_text() and lo <= v <= hi]


def _errorbars(ax):
    return [
        c
        for c in ax.containers
        if isinstance(c, ErrorbarContainer) and c.has_yerr or isinstance(c, ErrorbarContainer) and c.has_xerr
    ]


def test_a_single_evaluation_is_a_visible_point(tmp_path):
    for seed in range(3):
        make_run(tmp_path, f"a{seed}", "shared_cnn", seed, 0.5, evals=[(30, 1.0, 0.5)])
        make_run(tmp_path, f"b{seed}", "local_cnn", seed, 0.4, evals=[(30, 1.2, 0.4)])
    _, fig = figures.curves_figure(compare([tmp_path]), "acc")
    drawn = [line for line in fig.axes[0].get_lines() if len(line.get_xdata())]
    assert len(drawn) == 2 and all(line.get_marker() not in (None, "None", "") for line in drawn)


def test_many_evaluations_are_lines_without_markers(tmp_path):
    evals = [(s, 1.0 / s, 0.5) for s in range(1, 60)]
    make_run(tmp_path, "a", "shared_cnn", 0, 0.5, evals=evals)
    _, fig = figures.curves_figure(compare([tmp_path]), "loss")
    assert all(line.get_marker() in (None, "None", "") for line in fig.axes[0].get_lines() if len(line.get_xdata()) > 1)


def test_log_loss_band_stays_above_zero(tmp_path):
    for seed, last in enumerate((0.001, 0.001, 0.2)):  # mean − std < 0 at the last step
        make_run(tmp_path, f"a{seed}", "shared_cnn", seed, 0.5, evals=[(10, 5.0, 0.1), (20, 0.5, 0.3), (30, last, 0.5)])
    _, fig = figures.curves_figure(compare([tmp_path]), "loss")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    bands = [c for c in ax.collections if len(c.get_paths())]
    assert bands and all(p.vertices[:, 1].min() > 0 for c in bands for p in c.get_paths())
    assert ax.get_ylim()[0] > 1e-4, "the axis is not stretched down to a clipped band"


def test_one_seed_has_no_error_bars_and_the_title_says_so(tmp_path):
    make_run(tmp_path, "a", "shared_cnn", 0, 0.5, params=14_442, effective=78_090)
    make_run(tmp_path, "b", "local_cnn", 0, 0.4, params=78_090)
    cmp = compare([tmp_path])
    for _, fig in (figures.accuracy_vs_params(cmp), figures.bars(cmp)):
        ax = fig.axes[0]
        assert "1 seed" in ax.get_title() and "std" not in ax.get_title()
        assert not _errorbars(ax)
    _, fig = figures.curves_figure(cmp, "loss")
    assert "1 seed" in fig.axes[0].get_title() and not fig.axes[0].collections


def test_three_seeds_say_95_ci(tmp_path):
    for seed in range(3):
        make_run(tmp_path, f"a{seed}", "shared_cnn", seed, 0.5 + 0.01 * seed)
        make_run(tmp_path, f"b{seed}", "local_cnn", seed, 0.4 + 0.02 * seed)
    _, fig = figures.accuracy_vs_params(compare([tmp_path]))
    assert "mean ± 95% t-interval over 3 seeds" in fig.axes[0].get_title() and len(_errorbars(fig.axes[0])) == 2


def test_params_axis_has_readable_ticks_and_a_legend_for_hollow_markers(tmp_path):
    for seed in range(3):
        make_run(tmp_path, f"a{seed}", "shared_cnn", seed, 0.8, params=14_442, effective=78_090)
        make_run(tmp_path, f"b{seed}", "local_cnn", seed, 0.8, params=78_090)
    _, fig = figures.accuracy_vs_params(compare([tmp_path]))
    ax = fig.axes[0]
    labels = _labels(ax.xaxis, ax)
    assert len(labels) >= 3 and all(t.endswith("k") for t in labels), labels
    legend = [t.get_text() for t in (ax.get_legend() or fig.legends[0]).get_texts()]
    assert "filled: unique parameters" in legend and "hollow: effective (if unshared)" in legend
    hollow = [line for line in ax.get_lines() if line.get_markerfacecolor() == "none" and len(line.get_xdata())]
    filled = [c.lines[0] for c in ax.containers]
    assert hollow[0].get_zorder() > max(line.get_zorder() for line in filled), "the ring is drawn on top"
    assert hollow[0].get_markersize() > filled[0].get_markersize()


def test_many_groups_colour_by_model_and_keep_the_width(tmp_path):
    models = ["shared_cnn", "local_cnn", "tiled_cnn", "lowrank_cnn", "mlp"]
    for model in models:
        for lr in (0.001, 0.003, 0.01, 0.03):
            make_run(
                tmp_path, f"{model}-{lr}", model, 0, 0.5, extra={"optim.lr": lr}, evals=[(30, 1.0, 0.5), (60, 0.5, 0.6)]
            )
    cmp = compare([tmp_path])
    assert len(cmp.groups) == 20
    _, fig = figures.bars(cmp)
    colors = {tuple(p.get_facecolor()) for p in fig.axes[0].patches}
    assert len(colors) == len(models), "one colour per model, not 20"
    for _, fig in (figures.accuracy_vs_params(cmp), figures.curves_figure(cmp, "loss")):
        assert fig.get_size_inches()[0] <= MAX_WIDTH
        assert fig.legends and isinstance(fig.legends[0], Legend), "a long legend goes outside the axes"
        ax = fig.axes[0]
        markers = {line.get_marker() for line in ax.get_lines() if len(line.get_xdata())}
        assert len(markers) >= 4 or len({line.get_linestyle() for line in ax.get_lines()}) >= 4


def test_unrelated_runs_make_a_capped_figure(tmp_path):
    for i in range(12):
        extra = {f"dataset.option_with_a_long_name_{i % 3}": f"value_{i}_" + "x" * 30, "optim.lr": 0.001 * (i + 1)}
        make_run(tmp_path, f"r{i}", f"model_{i}", 0, 0.5, extra=extra)
    cmp = compare([tmp_path])
    made = figures.build_figures(cmp)
    assert made
    for stem, fig in made:
        assert fig.get_size_inches()[0] <= MAX_WIDTH, stem
    paths = figures.plot_comparison(cmp, tmp_path / "cmp", ["png"])
    from PIL import Image

    for path in paths:
        assert Image.open(path).size[0] <= MAX_WIDTH * 150 + 10, path.name


def test_shift_ticks_are_whole_positions(tmp_path):
    for seed in range(3):
        make_run(
            tmp_path,
            f"a{seed}",
            "shared_cnn",
            seed,
            0.5,
            summary={"test_acc_shift0": 0.5, "test_acc_shift1": 0.45, "test_acc_shift3": 0.4},
        )
    _, fig = figures.accuracy_vs_shift(compare([tmp_path]))
    ax = fig.axes[0]
    labels = _labels(ax.xaxis, ax)
    assert labels and all(float(t.replace("−", "-")).is_integer() for t in labels), labels


def test_forest_plot_has_one_row_per_pair_and_a_zero_line(tmp_path):
    for seed in range(3):
        for model, acc in (("shared_cnn", 0.8), ("local_cnn", 0.7), ("tiled_cnn", 0.75)):
            make_run(tmp_path, f"{model}{seed}", model, seed, acc + 0.01 * seed * (model == "tiled_cnn"))
    cmp = compare([tmp_path])
    _, fig = figures.paired_differences(cmp, paired_table(cmp, "final_test_acc"))
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        "shared_cnn − local_cnn (n=3)\nshared_cnn better",
        "tiled_cnn − local_cnn (n=3)\ntiled_cnn better",
    ]
    band = [p for p in ax.patches if p.get_label().startswith("equivalent")]
    assert len(band) == 1 and band[0].get_x() == pytest.approx(-1.0), "the ±δ band, in points"
    assert "jointly" in ax.get_title(), "two pairs: the verdicts hold jointly, and the title says so"
    assert any(list(line.get_xdata()) == [0, 0] for line in ax.get_lines()), "a vertical line at 0"
    means = [c.lines[0].get_xdata()[0] for c in ax.containers]
    assert means == pytest.approx([10.0, 6.0])
    assert math.isclose(fig.get_size_inches()[0], 6.4) or fig.get_size_inches()[0] <= MAX_WIDTH


def test_hundreds_of_groups_stay_readable(tmp_path):
    """Above MANY_GROUPS the best few keep colours and legend entries and the rest are grey under one
    entry; above MANY_BARS the bar chart shows the best, best first; every title says so."""
    n = figures.MANY_BARS + 10
    accuracy = {g: 0.3 + 0.6 * ((g * 37) % n) / n for g in range(n)}  # distinct, not in sweep order
    for g, acc in accuracy.items():
        make_run(tmp_path, f"r{g}", "shared_cnn", 0, acc, extra={"optim.lr": g + 1}, evals=[(30, 1.0, acc)])
    cmp = compare([tmp_path])
    assert len(cmp.groups) == n > figures.MANY_GROUPS
    best = [f"lr={g + 1}" for g in sorted(accuracy, key=accuracy.get, reverse=True)]
    others = f"the other {n - figures.COLOURED} groups"
    for _, fig in (figures.curves_figure(cmp, "acc"), figures.accuracy_vs_params(cmp)):
        legend = [t.get_text() for t in fig.legends[0].get_texts()] if fig.legends else None
        legend = legend or [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert legend == best[: figures.COLOURED] + [others]
        assert f"the {figures.COLOURED} best of {n} groups by final test accuracy" in fig.axes[0].get_title()
    _, fig = figures.curves_figure(cmp, "acc")
    drawn = [line for line in fig.axes[0].get_lines() if len(line.get_xdata())]
    grey = [line for line in drawn if line.get_color() == figures.OTHER_STYLE["color"]]
    assert len(drawn) == n and len(grey) == n - figures.COLOURED
    assert len({line.get_color() for line in drawn if line not in grey}) == figures.COLOURED  # distinct colours
    _, fig = figures.bars(cmp)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"{g} (n=1)" for g in best[: figures.MANY_BARS]]
    assert f"the {figures.MANY_BARS} best of {n} groups" in ax.get_title()
    assert [round(p.get_width(), 6) for p in ax.patches] == sorted(
        (round(p.get_width(), 6) for p in ax.patches), reverse=True
    )


def _marker_positions(ax):
    """Display (x, y) of every point drawn: filled markers and hollow rings."""
    ax.figure.canvas.draw()
    filled = [c.lines[0] for c in ax.containers]
    rings = [line for line in ax.get_lines() if line.get_markerfacecolor() == "none" and len(line.get_xdata())]
    return [ax.transData.transform(xy) for line in filled + rings for xy in line.get_xydata()]


def test_twelve_groups_at_one_place_are_twelve_colours_and_markers_side_by_side(tmp_path):
    """Ten spectrum points at 32.6k once read as one pale smear: a colour and a marker each, and markers
    that would sit on one another set apart sideways (rings too), each by at least half a marker."""
    for g in range(12):
        for seed in range(2):
            make_run(
                tmp_path,
                f"{g}-{seed}",
                "shared_cnn",
                seed,
                0.8,
                params=32_600,
                effective=78_090 if g % 3 else None,
                extra={"optim.lr": 0.001 * (g + 1)},
            )
    cmp = compare([tmp_path])
    _, fig = figures.accuracy_vs_params(cmp)
    ax = fig.axes[0]
    points = [c.lines[0] for c in ax.containers]
    assert len(points) == 12
    assert len({line.get_color() for line in points}) == 12 and len({line.get_marker() for line in points}) == 12
    marks = _marker_positions(ax)
    half = points[0].get_markersize() * fig.dpi / 72 / 2  # half a filled marker, in pixels
    assert len(marks) == 12 + 8
    for i, (x, y) in enumerate(marks):
        assert all(math.hypot(x - x2, y - y2) >= half for x2, y2 in marks[i + 1 :]), "one marker hides another"
    xs = [line.get_xdata()[0] for line in points]
    assert max(xs) / min(xs) < 1.5, "set apart, not moved to another parameter count"
    lo, hi = ax.get_xlim()
    assert all(lo < x < hi for x, *_ in (line.get_xydata()[0] for line in ax.get_lines() if len(line.get_xdata())))


def test_colours_and_markers_never_repeat_as_a_pair():
    styles = figures.style.group_styles({f"g{i}": {"g": f"g{i}"} for i in range(figures.MANY_GROUPS)})
    pairs = [(s["color"], s["marker"]) for s in styles.values()]
    assert len(set(pairs)) == len(pairs)
    first = list(styles.values())[:12]
    assert len({s["color"] for s in first}) == 12 and len({s["marker"] for s in first}) == 12


def _lam_sweep(tmp_path, hard_loss=lambda seed, lam: 0.3):
    """model.mode soft/hard × model.lam 0, 0.001, 0.1 × 3 seeds; hard tying does not read lam."""
    for mode in ("soft", "hard"):
        for lam in (0, 0.001, 0.1):
            for seed in range(3):
                acc = 0.77 + seed / 100 if mode == "hard" else 0.78 - lam - seed / 100
                summary = {"final_test_loss": hard_loss(seed, lam)} if mode == "hard" else None
                make_run(
                    tmp_path,
                    f"{mode}-{lam}-{seed}",
                    "tied_pair",
                    seed,
                    acc,
                    extra={"model.mode": mode, "model.lam": lam},
                    summary=summary,
                )
    return compare([tmp_path])


def test_a_swept_value_from_zero_across_decades_is_symlog_and_an_arm_that_ignores_it_is_a_band(tmp_path):
    cmp = _lam_sweep(tmp_path)
    _, fig = figures.accuracy_vs_axis(cmp, "model.lam", "model.lam", "test_acc_vs_lam")
    ax = fig.axes[0]
    assert ax.get_xscale() == "symlog"
    assert {"0", "0.001", "0.01", "0.1"} <= set(_labels(ax.xaxis, ax)), _labels(ax.xaxis, ax)
    soft = [line for line in ax.get_lines() if line.get_label() == "soft"][0]
    x0, x1 = (ax.transData.transform((x, 0))[0] for x in soft.get_xdata()[:2])
    assert x1 - x0 > 50, "λ = 0 and λ = 0.001 are two points, not one"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(legend) == ["hard (identical at every model.lam)", "soft"]
    band = [p for p in ax.patches if p.get_alpha() == 0.15]
    assert len(band) == 1
    low, high = figures.interval([77.0, 78.0, 79.0])
    (bx0, by0), (bx1, by1) = band[0].get_path().get_extents(band[0].get_patch_transform()).get_points()
    assert (by0, by1) == pytest.approx((low, high)) and (bx0, bx1) == (0, 1), "the interval, across the axis"
    hard = [line for line in ax.get_lines() if line.get_label().startswith("hard")]
    assert len(hard) == 1 and list(hard[0].get_ydata()) == pytest.approx([78.0, 78.0])
    assert "3 seeds" in ax.get_title()


def test_an_arm_that_ignores_the_value_is_a_band_over_its_distinct_seeds_when_values_hold_different_seeds(tmp_path):
    """A seeds-until-decided sweep adds seeds to some pairs only: hard at λ = 0.1 ran seeds 0–4, at the
    other values 0–2. The seeds they share agree, so hard is one band over seeds 0–4, each seed once."""
    for lam in (0, 0.001, 0.1):
        for seed in range(5 if lam == 0.1 else 3):
            for mode in ("soft", "hard"):
                acc = 0.77 + seed / 100 if mode == "hard" else 0.78 - lam - seed / 100
                extra = {"model.mode": mode, "model.lam": lam}
                make_run(tmp_path, f"{mode}-{lam}-{seed}", "tied_pair", seed, acc, extra=extra)
    _, fig = figures.accuracy_vs_axis(compare([tmp_path]), "model.lam", "model.lam", "test_acc_vs_lam")
    ax = fig.axes[0]
    hard = [line for line in ax.get_lines() if line.get_label().startswith("hard")]
    assert len(hard) == 1 and list(hard[0].get_ydata()) == pytest.approx([79.0, 79.0]), "mean of seeds 0–4"
    band = [p for p in ax.patches if p.get_alpha() == 0.15]
    (_, by0), (_, by1) = band[0].get_path().get_extents(band[0].get_patch_transform()).get_points()
    assert (by0, by1) == pytest.approx(figures.interval([77.0, 78.0, 79.0, 80.0, 81.0]))


def test_an_arm_whose_runs_differ_at_one_value_stays_a_line(tmp_path):
    cmp = _lam_sweep(tmp_path, hard_loss=lambda seed, lam: 0.3 + (seed == 1 and lam == 0.1) * 1e-9)
    _, fig = figures.accuracy_vs_axis(cmp, "model.lam", "model.lam", "test_acc_vs_lam")
    ax = fig.axes[0]
    drawn = sorted(line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_"))
    assert not ax.patches and drawn == ["hard", "soft"]


def test_percentages_read_as_percentages(tmp_path):
    """Sample efficiency: train fractions 1–100% on a log axis read 1%, 10%, 100% (were 10⁰–10²), and
    accuracies 80%."""
    fraction_sweep(tmp_path)
    cmp = compare([tmp_path])
    stem, fig = next(m for m in figures.build_figures(cmp) if m[0] == "test_acc_vs_train_fraction")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    xs = _labels(ax.xaxis, ax)
    assert {"1%", "10%", "100%"} <= set(xs) and all(t.endswith("%") and "^" not in t for t in xs), xs
    ys = _labels(ax.yaxis, ax, "y")
    assert ys and all(t.endswith("%") and float(t[:-1]) % 1 == 0 for t in ys), ys
    assert ax.get_xlabel() == "training-set fraction used, log scale" and ax.get_ylabel() == "test accuracy"
    _, fig = figures.accuracy_vs_params(cmp)
    assert all(t.endswith("%") for t in _labels(fig.axes[0].yaxis, fig.axes[0], "y"))

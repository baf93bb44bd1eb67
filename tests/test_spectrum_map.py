"""The spectrum map (compare/spectrum_map.py), on run dirs written by hand: each group a point at its
measured (locality, sharing), intervals over seeds, coloured by test accuracy, with its path; and
`plot` drawing it (locality_sharing_map) from a tiny real sweep's records."""

import math

import matplotlib
import pytest
from helpers.commands import run_in_process
from helpers.configs import TINY
from helpers.runs import make_run

from sharebench.compare import style
from sharebench.compare.figures import build_figures
from sharebench.compare.runs import compare
from sharebench.compare.spectrum_map import spectrum_map
from sharebench.compare.statistics import interval

matplotlib.use("Agg")
# group: accuracy, per seed s the final (locality, sharing) of conv1 and conv2, and the first evaluation's
GROUPS = {
    "conv": (0.93, lambda s: ((1.0, 1.0), (1.0, 1.0)), ((1.0, 1.0), (1.0, 1.0))),
    "local": (0.88, lambda s: ((1.0, 0.1 + s / 100), (1.0, 0.3 + s / 100)), ((1.0, 0.05), (1.0, 0.15))),
    "dense": (0.80, lambda s: ((0.2, 0.1), (0.4 + s / 50, 0.3)), ((0.1, 0.05), (0.1, 0.05))),
}


@pytest.fixture()
def sweep(tmp_path):
    job = 0
    for name, (acc, final, first) in GROUPS.items():
        for seed in range(3):
            layers = dict(zip(("conv1", "conv2"), final(seed)))
            summary = {
                f"final_{layer}_{axis}": v
                for layer, pair in layers.items()
                for axis, v in zip(("locality", "sharing"), pair)
            }
            summary["final_conv1_ipr_locality"] = 0.9  # the IPR's own measure: not a locality of this map
            run = make_run(tmp_path, str(job), "shared_cnn", seed, acc, extra={"spectrum": name}, summary=summary)
            header = "step,test_acc,conv1_locality,conv1_sharing,conv2_locality,conv2_sharing,conv1_ipr_locality"
            rows = [(100, 0.5, *first[0], *first[1], 0.9), (200, acc, *layers["conv1"], *layers["conv2"], 0.9)]
            (run / "metrics.csv").write_text("\n".join([header, *(",".join(map(str, r)) for r in rows)]) + "\n")
            job += 1
    return compare([str(tmp_path)])


def expected(name: str) -> tuple[list[float], list[float]]:
    """Per seed, the mean over the two layers of locality and of sharing."""
    final = GROUPS[name][1]
    per_seed = [final(s) for s in range(3)]
    return [(a[0] + b[0]) / 2 for a, b in per_seed], [(a[1] + b[1]) / 2 for a, b in per_seed]


def test_each_group_sits_at_its_mean_locality_and_sharing(sweep):
    fig = spectrum_map(sweep)
    ax = fig.axes[0]
    assert "locality" in ax.get_xlabel() and "sharing" in ax.get_ylabel()
    offsets = ax.collections[-1].get_offsets()
    for (x, y), name in zip(offsets, GROUPS):
        locality, sharing = expected(name)
        assert x == pytest.approx(sum(locality) / 3) and y == pytest.approx(sum(sharing) / 3), name
    assert [tuple(o) for o in offsets][0] == (1.0, 1.0)  # the convolution
    assert offsets[2][0] < 0.5  # dense: its IPR column left out of its locality
    assert {t.get_text() for t in ax.texts} == set(GROUPS)
    assert style.shown([3, 3, 3]) in ax.get_title()  # what the error bars are, over 3 seeds


def test_colour_is_the_groups_test_accuracy(sweep):
    fig = spectrum_map(sweep)
    ax, colorbar = fig.axes
    faces = ax.collections[-1].get_facecolors()
    viridis = matplotlib.colormaps["viridis"]
    assert tuple(faces[0]) == pytest.approx(viridis(1.0))  # conv: the best accuracy, the top of the scale
    assert tuple(faces[2]) == pytest.approx(viridis(0.0))  # dense: the worst, the bottom
    low, high = 80.0, 93.0  # dense's and conv's accuracy, in %
    assert tuple(faces[1]) == pytest.approx(viridis((88.0 - low) / (high - low)))
    assert colorbar.get_ylabel() == "final test accuracy (%)" and colorbar.get_ylim() == pytest.approx((low, high))


def test_intervals_over_seeds_on_both_axes(sweep):
    ax = spectrum_map(sweep).axes[0]
    bars = {name: container for name, container in zip(GROUPS, ax.containers)}
    locality, sharing = expected("dense")
    xbar, ybar = bars["dense"].lines[2]
    (x_low, _), (x_high, _) = xbar.get_segments()[0]
    assert (x_low, x_high) == pytest.approx(interval(locality))
    (_, y_low), (_, y_high) = ybar.get_segments()[0]
    assert y_low == pytest.approx(y_high) == pytest.approx(0.2)  # every seed's sharing the same
    assert x_high - x_low > 0 and all(math.isfinite(v) for v in interval(sharing))


def test_the_path_over_training_ends_at_the_point(sweep):
    ax = spectrum_map(sweep).axes[0]
    paths = {line.get_label(): line for line in ax.get_lines() if line.get_label().startswith("path: ")}
    assert set(paths) == {f"path: {name}" for name in GROUPS}
    local = paths["path: local"]
    assert list(local.get_xdata()) == [1.0, 1.0]
    assert list(local.get_ydata()) == pytest.approx([0.1, sum(expected("local")[1]) / 3])


def test_no_map_without_the_columns_and_no_path_without_curves(tmp_path):
    for seed in range(2):
        make_run(tmp_path, f"a{seed}", "mlp", seed, 0.9)
    assert spectrum_map(compare([str(tmp_path)])) is None
    summary = {"final_conv1_locality": 1.0, "final_conv1_sharing": 0.5}
    make_run(tmp_path, "b", "local_cnn", 0, 0.8, summary=summary)  # a final value, no curve to draw
    ax = spectrum_map(compare([str(tmp_path)])).axes[0]
    assert [tuple(o) for o in ax.collections[-1].get_offsets()] == [(1.0, 0.5)]
    assert not [line for line in ax.get_lines() if line.get_label().startswith("path: ")]
    assert "1 seed" in ax.get_title()


@pytest.fixture(scope="module")
def real_sweep(tmp_path_factory):
    """A tiny real sweep of conv, local and dense (2 seeds) whose runs logged locality and sharing."""
    sweep = tmp_path_factory.mktemp("real") / "sweep"
    run = ("trainer.max_steps=4", "trainer.eval_every=2", "trainer.threads=1", "trainer.plots=false")
    code = run_in_process(["-m", *TINY, *run, "spectrum=conv,local,dense", "seed=0,1", f"hydra.sweep.dir={sweep}"])
    assert code == 0
    return sweep


def test_plot_draws_the_map_from_a_real_sweeps_records(real_sweep):
    figures = dict(build_figures(compare([str(real_sweep)])))
    assert (real_sweep / "comparison" / "locality_sharing_map.png").is_file()  # the sweep's own plot
    ax = figures["locality_sharing_map"].axes[0]
    (conv, conv_label), (local, local_label), (dense, dense_label) = [
        (tuple(o), t) for o, t in zip(ax.collections[-1].get_offsets(), ax.texts)
    ]
    assert conv == (1.0, 1.0) and conv_label.get_text() == "conv"
    assert local[0] == 1.0 and local[1] < 1 and dense[0] < 0.5  # a kernel per position; weight everywhere
    assert "2 seeds" in ax.get_title()


def test_labels_stay_inside_the_axes_at_the_corners(tmp_path):
    """Groups of two keys (the preset's spectrum × shuffle_seq) make long shared labels, at (1, 1) too."""
    places = {"conv": (1.0, 1.0), "local": (1.0, 0.1), "dense": (0.1, 0.1)}
    for i, (name, (locality, sharing)) in enumerate(places.items()):
        for shuffled in (False, True):
            summary = {"final_conv1_locality": locality, "final_conv1_sharing": sharing}
            extra = {"spectrum": name, "dataset.shuffle_seq": shuffled}
            make_run(tmp_path, f"{i}{shuffled}", "mnist1d_cnn", 0, 0.9, extra=extra, summary=summary)
    fig = spectrum_map(compare([str(tmp_path)]))
    fig.canvas.draw()
    ax = fig.axes[0]
    box = ax.get_window_extent()
    assert len(ax.texts) == 3 and all("\n" in t.get_text() for t in ax.texts)  # one per place, wrapped
    for text in ax.texts:  # none runs out of the axes into the title or the colour bar
        inside = text.get_window_extent()
        assert box.x0 <= inside.x0 and inside.x1 <= box.x1 and box.y0 <= inside.y0 and inside.y1 <= box.y1, text


def test_no_map_for_a_sweep_without_positions(tmp_path):
    for seed in range(2):
        make_run(tmp_path, f"m{seed}", "mlp", seed, 0.9, summary={"final_linear1_ipr_locality": 0.5})
    assert "locality_sharing_map" not in dict(build_figures(compare([str(tmp_path)])))

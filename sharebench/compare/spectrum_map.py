"""The spectrum map: where each group's layers really sit between shared and unshared, measured.

x is a run's locality, y its sharing (models/position_maps.py: the `<layer>_locality` and
`<layer>_sharing` columns, averaged over the run's layers); each group is one point, the mean over
its completed runs, with statistics.interval over seeds on both axes (none below its MIN_N), its
colour the group's mean final test accuracy. Groups whose runs logged the two numbers at every
evaluation also get their path over training (per step, the mean over layers and runs), from an open
circle at the first evaluation to the point. A convolution sits at (1, 1), a fresh locally connected
layer at (1, ≈ 1/positions), a dense map low on both. No torch.
"""

import math

import numpy as np
import pandas as pd

from sharebench.compare import style
from sharebench.compare.runs import Comparison
from sharebench.compare.spectrum import spread_labels
from sharebench.compare.statistics import interval, number, spread

AXES = ("locality", "sharing")
SAME_PLACE = 0.01  # points closer than this on both axes share one label


def _layer_keys(keys, axis: str, prefix: str = "") -> list[str]:
    """`<prefix><layer>_<axis>` keys (the IPR's `_ipr_locality` is another measure, not this one)."""
    return [k for k in keys if k.startswith(prefix) and k.endswith(f"_{axis}") and not k.endswith("_ipr_locality")]


def _run_value(run, axis: str) -> float | None:
    """The mean over a run's layers of its final value on `axis`; None when it recorded none."""
    values = [v for k in _layer_keys(run.summary, axis, "final_") if (v := number(run.summary[k])) is not None]
    return sum(values) / len(values) if values else None


def _path(cmp: Comparison, label: str) -> pd.DataFrame | None:
    """Per evaluation step: locality and sharing, means over layers and then over the group's runs."""
    frames = []
    for run in cmp.members(label):
        m = run.metrics
        cols = {axis: _layer_keys(m.columns, axis) for axis in AXES} if m is not None else {}
        if not cols or not all(cols.values()):
            continue
        means = {axis: m[c].replace([np.inf, -np.inf], np.nan).mean(axis=1) for axis, c in cols.items()}
        frames.append(pd.DataFrame({"step": m["step"], **means}).dropna())
    frames = [f for f in frames if len(f)]
    return pd.concat(frames).groupby("step")[list(AXES)].mean().reset_index() if frames else None


def _points(cmp: Comparison) -> list[dict]:
    points = []
    for label in cmp.groups:
        runs = cmp.members(label)
        values = {axis: [v for r in runs if (v := _run_value(r, axis)) is not None] for axis in AXES}
        if not values["locality"] or not values["sharing"]:
            continue
        acc = [v for r in runs if (v := number(r.summary.get("final_test_acc"))) is not None]
        point = {"label": label, "n": len(values["locality"]), "acc": 100 * spread(acc)["mean"] if acc else math.nan}
        for axis in AXES:
            point[axis], point[f"{axis}_interval"] = spread(values[axis])["mean"], interval(values[axis])
        points.append(point)
    return points


def _labels(ax, points: list[dict]) -> list:
    """One label per place: groups at the same spot (every convolution sits at (1, 1)) share it."""
    places: list[list[dict]] = []
    for p in points:
        here = next((g for g in places if all(abs(g[0][a] - p[a]) < SAME_PLACE for a in AXES)), None)
        (here.append(p) if here is not None else places.append([p]))
    texts = []
    for group in places:
        text = style.wrap(", ".join(p["label"] for p in group), 28)
        x, y = group[0]["locality"], group[0]["sharing"]
        right, top = x > 0.7, y > 0.7  # near the right or top edge (a conv at (1, 1)): the label goes inside
        leader = {"arrowstyle": "-", "color": "0.6", "lw": 0.6, "shrinkA": 1, "shrinkB": 3}
        texts.append(
            ax.annotate(
                text,
                (x, y),
                xytext=(-6 if right else 6, -6 if top else 4),
                textcoords="offset points",
                fontsize=8,
                ha="right" if right else "left",
                va="top" if top else "bottom",
                arrowprops=leader,
            )
        )
    return texts


def _draw_path(ax, path: pd.DataFrame | None, colour, label: str) -> None:
    """The group's path over training, from an open circle at its first evaluation."""
    if path is None or len(path) < 2:
        return
    x, y = path["locality"], path["sharing"]
    ax.plot(x, y, color=colour, lw=1.0, alpha=0.6, zorder=1, label=f"path: {label}")
    ax.plot(x.iloc[0], y.iloc[0], "o", mfc="none", mec=colour, ms=4, zorder=1)


def _error(point: dict, axis: str):
    """errorbar's [[below], [above]] for the interval on `axis`; None without one (n < 3)."""
    low, high = point[f"{axis}_interval"]
    # max(0, …): the mean of equal values may round a hair outside their one-point interval
    return [[max(0.0, point[axis] - low)], [max(0.0, high - point[axis])]] if math.isfinite(low) else None


def spectrum_map(cmp: Comparison):
    """The figure, or None when no group's runs recorded locality and sharing."""
    points = _points(cmp)
    if not points:
        return None
    pyplot = style.plt()
    fig, ax = pyplot.subplots(figsize=(8.0, 6.0), layout="constrained")
    accs = [p["acc"] for p in points if math.isfinite(p["acc"])]
    norm = pyplot.Normalize(min(accs), max(accs) if max(accs) > min(accs) else min(accs) + 1) if accs else None
    cmap = pyplot.get_cmap("viridis")
    colours = [cmap(norm(p["acc"])) if norm and math.isfinite(p["acc"]) else "0.6" for p in points]
    for p, colour in zip(points, colours):
        _draw_path(ax, _path(cmp, p["label"]), colour, p["label"])
        xerr, yerr = _error(p, "locality"), _error(p, "sharing")
        ax.errorbar(p["locality"], p["sharing"], xerr=xerr, yerr=yerr, fmt="none", ecolor="0.4", capsize=2, zorder=2)
    xs, ys = [p["locality"] for p in points], [p["sharing"] for p in points]
    ax.scatter(xs, ys, c=colours, s=45, edgecolors="black", linewidths=0.5, zorder=3)
    texts = _labels(ax, points)
    if norm is not None:
        fig.colorbar(pyplot.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="final test accuracy (%)")
    ax.set(
        xlabel="locality: share of weight energy inside each position's neighbourhood",
        ylabel="sharing: share of that energy one shared kernel explains",
        xlim=(-0.02, 1.08),
        ylim=(-0.02, 1.08),
        title=f"where the layers sit (mean over a run's layers; {style.shown([p['n'] for p in points])})",
    )
    ax.grid(alpha=0.3)
    spread_labels(fig, texts)  # groups a hair apart (dense and dense_blasso) would print over each other
    return fig

"""Figures of a sweep along the sharing spectrum (the `spectrum` config group, or any ConvNet sweep
whose runs recorded sharing diagnostics). No torch.

- spectrum_curve: test accuracy against unique parameters with the spectrum's points joined in sweep
  order (shared → unshared) as one curve, each point labelled, with 95% intervals where n ≥ 2; the
  points declared baselines (model.sharing.spectrum_baseline: the parameter-matched conv, the untied
  run) are drawn beside the line, not joined;
- diagnostics_curves: the sharing diagnostics of the unshared layers over training (weight
  signal-to-noise across positions; distance between neighbouring positions' kernels), mean over
  the layers of a run and over its seeds, one line per group.
"""

import itertools
import math

import numpy as np
import pandas as pd

from sharebench.compare import style
from sharebench.compare.runs import Comparison
from sharebench.compare.statistics import group_values, interval, spread
from sharebench.configs import BASELINE_KEY, spectrum_baselines

DIAGNOSTICS = {"snr": "weight SNR across positions (log)", "neighbor_dist": "distance between neighbouring kernels"}


def label_box(text, renderer):
    """A point label's box in display pixels, without its leader line."""
    from matplotlib.text import Text

    text.update_positions(renderer)
    return Text.get_window_extent(text, renderer)


def spread_labels(fig, texts: list, pad: float = 2.0) -> None:
    """Moves point labels up or down until no two boxes overlap, in display pixels as the figure is
    drawn: each overlapping pair is pushed apart by half the overlap (plus `pad`) each, over again until
    none overlaps; twice, since moving labels can move the layout. A moved label gets a leader line.
    No randomness and a fixed order: the same points give the same figure."""
    for _ in range(2):
        fig.draw_without_rendering()
        boxes = [label_box(t, fig.canvas.get_renderer()) for t in texts]
        dy = [0.0] * len(texts)
        for _ in range(500):
            pushed = False
            for i, j in itertools.combinations(range(len(boxes)), 2):
                a, b = boxes[i].translated(0, dy[i]), boxes[j].translated(0, dy[j])
                overlap = min(a.y1, b.y1) - max(a.y0, b.y0) + pad
                if a.x1 <= b.x0 or b.x1 <= a.x0 or overlap <= 0:
                    continue
                low, high = (i, j) if (a.y0 + a.y1, i) < (b.y0 + b.y1, j) else (j, i)
                dy[low], dy[high], pushed = dy[low] - overlap / 2, dy[high] + overlap / 2, True
            if not pushed:
                break
        for text, d in zip(texts, dy):
            text.xyann = (text.xyann[0], text.xyann[1] + d * 72 / fig.dpi)
    for text in texts:
        text.arrow_patch.set_visible(abs(text.xyann[1]) > 3)


def _point(ax, label: str, x: float, y: float, ci: tuple, baseline: bool):
    """One spectrum point with its interval, and its label beside it (the label returned, to be spread)."""
    low, high = ci
    err = [[y - low], [high - y]] if math.isfinite(low) else None
    color = "tab:orange" if baseline else "tab:blue"
    ax.errorbar(x, y, yerr=err, fmt="D" if baseline else "o", color=color, ms=5, capsize=3, zorder=2)
    leader = {"arrowstyle": "-", "color": "0.6", "lw": 0.6, "shrinkA": 1, "shrinkB": 3}
    return ax.annotate(
        label, (x, y), xytext=(6, 0), textcoords="offset points", fontsize=9, va="center", arrowprops=leader
    )


def _baseline(run, declared_today: set[str]) -> bool:
    """Whether the run's spectrum point is a baseline, as its config recorded it, or for a record made
    before that key, as today's option files declare it (`declared_today`)."""
    if BASELINE_KEY in run.config:
        return bool(run.config[BASELINE_KEY])
    return run.value("spectrum") in declared_today


def spectrum_curve(cmp: Comparison, key: str, scale: float, ylabel: str):
    """None unless the groups differ by `spectrum` alone."""
    if cmp.keys != ["spectrum"]:
        return None
    points = []
    for label in cmp.groups:
        values = group_values(cmp, label, key, scale)
        x = spread(group_values(cmp, label, "params_total"))["mean"]
        if values and math.isfinite(x):
            points.append((label, x, spread(values)["mean"], interval(values), len(values)))
    if len(points) < 2:
        return None
    today = spectrum_baselines()
    beside = {label for label in cmp.groups if any(_baseline(r, today) for r in cmp.members(label))}  # not joined
    fig, ax = style.plt().subplots(figsize=(8.0, 5.2), layout="constrained")
    line = [p for p in points if p[0] not in beside]
    ax.plot(
        [p[1] for p in line],
        [p[2] for p in line],
        color="0.6",
        lw=1.0,
        zorder=1,
        label="shared → unshared, in sweep order",
    )
    texts = [_point(ax, label, x, y, ci, label in beside) for label, x, y, ci, _ in points]
    ax.plot([], [], "D", color="tab:orange", ms=5, ls="none", label="baselines beside the line")
    xs = [p[1] for p in points]
    ax.set_xscale("log")
    ax.set_xlim(min(xs) / 1.3, max(xs) * 1.6)
    style.count_ticks(ax.xaxis, min(xs) / 1.3, max(xs) * 1.6)
    if scale == 100:  # an accuracy: 80%, not 80
        style.percent_ticks(ax.yaxis)
    ax.set(
        xlabel="unique parameters, log scale",
        ylabel=ylabel.removesuffix(" (%)") if scale == 100 else ylabel,
        title=f"the sharing spectrum ({style.shown([p[4] for p in points])})",
    )
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="lower left")
    spread_labels(fig, texts)
    return "spectrum", fig


def _diagnostic_series(cmp: Comparison, label: str, name: str) -> pd.DataFrame | None:
    """Per step: the mean over layers of `<layer>_<name>`, then over the group's completed runs."""
    frames = []
    for run in cmp.members(label):
        cols = [c for c in (run.metric_columns or {}) if c.endswith(f"_{name}")]
        if not cols:
            continue
        m = run.metrics
        values = m[cols].replace([np.inf, -np.inf], np.nan).mean(axis=1, skipna=True)
        frames.append(pd.DataFrame({"step": m["step"], "value": values}).dropna())
    frames = [f for f in frames if len(f)]
    if not frames:
        return None
    return pd.concat(frames).groupby("step")["value"].mean().reset_index()


def diagnostics_curves(cmp: Comparison):
    """Two panels side by side, one line per group, the legend below them both: at 7.6 in wide the
    figure is read at page width with its legend at 9 pt (it was 11 in and the legend 6 pt there)."""
    series = {
        name: {g: s for g in cmp.groups if (s := _diagnostic_series(cmp, g, name)) is not None} for name in DIAGNOSTICS
    }
    groups = [g for g in cmp.groups if any(g in found for found in series.values())]
    if not groups:
        return None
    styles = style.group_styles({g: {"group": g} for g in groups})
    ncol = style.legend_columns(groups, 7.6)
    fig, axes = style.plt().subplots(
        1, 2, figsize=(7.6, 3.4 + 0.2 * math.ceil(len(groups) / ncol)), layout="constrained"
    )
    for ax, (name, title) in zip(axes, DIAGNOSTICS.items()):
        for label, s in series[name].items():
            ax.plot(
                s["step"], s["value"], color=styles[label]["color"], label=label, **style.marks(styles[label], len(s))
            )
        if name == "snr" and series[name]:
            ax.set_yscale("log")
        ax.set(xlabel="optimizer step", title=title)
        ax.grid(alpha=0.3)
    handles = {t: h for ax in axes for h, t in zip(*ax.get_legend_handles_labels())}
    fig.legend(
        [handles[g] for g in groups],
        [style.wrap(g) for g in groups],
        loc="outside lower center",
        ncol=ncol,
        frameon=False,
    )
    fig.suptitle("sharing diagnostics of the unshared layers (mean over layers and seeds)")
    return "sharing_diagnostics", fig

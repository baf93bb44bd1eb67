"""Figures of a sweep along the sharing spectrum (the `spectrum` config group, or any ConvNet sweep
whose runs recorded sharing diagnostics). No torch.

- spectrum_curve: test accuracy against unique parameters with the spectrum's points joined in sweep
  order (shared → unshared) as one curve, each point labelled, with 95% intervals where n ≥ 3; the
  points declared baselines in conf/spectrum/ (`# @baseline: true`: the parameter-matched conv, the
  untied run) are drawn beside the line, not joined;
- diagnostics_curves: the sharing diagnostics of the unshared layers over training (weight
  signal-to-noise across positions; distance between neighbouring positions' kernels), mean over
  the layers of a run and over its seeds, one line per group.
"""

import math

import numpy as np
import pandas as pd

from sharebench.compare import style
from sharebench.compare.runs import Comparison
from sharebench.compare.statistics import group_values, interval, spread
from sharebench.configs import spectrum_baselines

DIAGNOSTICS = {"snr": "weight SNR across positions (log)", "neighbor_dist": "distance between neighbouring kernels"}


def _label_heights(points: list[tuple], gap: float) -> list[float]:
    """Label y positions: points at about the same x get their labels spread at least `gap` apart."""
    heights = [p[2] for p in points]
    columns: dict[float, list[int]] = {}
    for i, p in enumerate(points):
        key = next((k for k in columns if abs(math.log(p[1] / k)) < 0.02), p[1])
        columns.setdefault(key, []).append(i)
    for members in columns.values():
        members.sort(key=lambda i: points[i][2])
        for before, after in zip(members, members[1:]):
            heights[after] = max(heights[after], heights[before] + gap)
    return heights


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
    beside = spectrum_baselines()  # declared `# @baseline: true` in conf/spectrum/: drawn, not joined
    fig, ax = style.plt().subplots(figsize=(9.5, 5.5), layout="constrained")
    line = [p for p in points if p[0] not in beside]
    ax.plot(
        [p[1] for p in line],
        [p[2] for p in line],
        color="0.6",
        lw=1.0,
        zorder=1,
        label="shared → unshared, in sweep order",
    )
    ys = [p[2] for p in points]
    heights = _label_heights(points, gap=(max(ys) - min(ys) or 1.0) * 0.045)
    for (label, x, y, (low, high), _), height in zip(points, heights):
        baseline = label in beside
        err = [[y - low], [high - y]] if math.isfinite(low) else None
        ax.errorbar(
            x,
            y,
            yerr=err,
            fmt="D" if baseline else "o",
            color="tab:orange" if baseline else "tab:blue",
            ms=5,
            capsize=3,
            zorder=2,
        )
        ax.annotate(
            label,
            (x, y),
            xytext=(x * 1.06, height),
            textcoords="data",
            fontsize=8,
            va="center",
            arrowprops={"arrowstyle": "-", "color": "0.7", "lw": 0.6} if height != y else None,
        )
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
    series = {
        name: {g: s for g in cmp.groups if (s := _diagnostic_series(cmp, g, name)) is not None} for name in DIAGNOSTICS
    }
    if not any(series.values()):
        return None
    fig, axes = style.plt().subplots(1, 2, figsize=(11.0, 4.4), layout="constrained")
    colors = style.group_styles({g: {"group": g} for g in cmp.groups})
    for ax, (name, title) in zip(axes, DIAGNOSTICS.items()):
        for label, s in series[name].items():
            few = len(s) <= style.FEW_POINTS
            ax.plot(s["step"], s["value"], color=colors[label]["color"], marker="o" if few else None, ms=3, label=label)
        if name == "snr" and series[name]:
            ax.set_yscale("log")
        ax.set(xlabel="optimizer step", title=title)
        ax.grid(alpha=0.3)
    style.legend(fig, axes[1], list(series["neighbor_dist"] or series["snr"]))
    fig.suptitle("sharing diagnostics of the unshared layers (mean over layers and seeds)")
    return "sharing_diagnostics", fig

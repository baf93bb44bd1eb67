"""Figures that compare groups of runs: accuracy vs parameters, curves with ±std bands, bars, and
accuracy vs training-set fraction or test shift when a sweep has those axes. No torch here.

Files are byte-identical when re-made from the same runs: no dates or random ids in SVG/PDF/PNG.
"""
import math
import re
from pathlib import Path

import numpy as np

from sharebench.compare.runs import Comparison, shift_keys
from sharebench.compare.statistics import curves, group_values, number, spread
from sharebench.records.run_plots import wants_log_scale

DETERMINISTIC = {"svg.hashsalt": "sharebench", "pdf.compression": 6, "font.size": 10, "axes.titlesize": 11,
                 "legend.fontsize": 9, "figure.dpi": 100}
METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None},
            "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None}}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return matplotlib, plt


def metric_label(metric: str) -> str:
    split, _, kind = metric.partition("_")
    if kind == "acc":
        return f"{split} accuracy (%)"
    return f"{split} {kind.replace('_', ' ')}" if kind else metric


def _scale(metric: str) -> float:
    return 100.0 if metric.endswith("acc") or "_acc_" in metric else 1.0


def _summary_key(cmp: Comparison, metric: str) -> str:
    """The summary.json key of a metrics.csv column: final_test_acc for test_acc."""
    final = f"final_{metric}"
    return final if any(final in r.summary for r in cmp.runs) else metric


def _colors(n: int):
    _, plt = _plt()
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def _save(fig, out_dir: Path, stem: str, formats: list[str]) -> list[Path]:
    _, plt = _plt()
    paths = []
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        fig.savefig(path, format=fmt, dpi=150, metadata=METADATA.get(fmt))
        paths.append(path)
    plt.close(fig)
    return paths


def _short(metric: str) -> str:
    return metric_label(metric).split(" (")[0]


def _size(labels: list[str]) -> tuple[float, float]:
    """Room on the right for a legend outside the axes when there are many entries."""
    return (6.4 + 0.07 * max(len(s) for s in labels), 4.4) if len(labels) > 8 else (6.4, 4.4)


def _human(x: float) -> str:
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:g}{suffix}"
    return f"{x:g}"


def _count_ticks(ax) -> None:
    """Parameter counts as 20k, 1.5M; minor ticks labelled at 2× and 5× only, so labels never collide."""
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _human(x)))
    lo, hi = ax.get_xlim()
    few_decades = hi / lo < 100
    ax.xaxis.set_minor_formatter(FuncFormatter(
        lambda x, _: _human(x) if few_decades and round(x / 10 ** math.floor(math.log10(x)), 6) in (2, 5) else ""))


def _legend(ax, n: int) -> None:
    if n > 8:  # many groups: outside the axes, so no point hides behind it
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(frameon=False)


def _stats(cmp: Comparison, label: str, key: str, scale=1.0) -> tuple[float, float, list[float]]:
    values = group_values(cmp, label, key, scale)
    stat = spread(values)
    return stat["mean"], stat["std"], values


def accuracy_vs_params(cmp: Comparison, out_dir: Path, formats: list[str]) -> list[Path]:
    _, plt = _plt()
    key, scale = _summary_key(cmp, cmp.metric), _scale(cmp.metric)
    effective = any(number(r.summary.get("params_effective")) is not None for r in cmp.runs)
    fig, ax = plt.subplots(figsize=_size(cmp.groups), layout="constrained")
    drawn = 0
    for label, color in zip(cmp.groups, _colors(len(cmp.groups))):
        y, err, _ = _stats(cmp, label, key, scale)
        x, _, _ = _stats(cmp, label, "params_total")
        if not (math.isfinite(y) and math.isfinite(x)):
            continue
        drawn += 1
        ax.errorbar(x, y, yerr=err, fmt="o", color=color, ms=7, capsize=4, label=label)
        xe, _, _ = _stats(cmp, label, "params_effective")
        if effective and math.isfinite(xe) and xe != x:
            ax.errorbar(xe, y, yerr=err, fmt="o", mfc="white", color=color, ms=7, capsize=4)
            ax.plot([x, xe], [y, y], color=color, lw=0.8, ls=":")
    if not drawn:
        plt.close(fig)
        return []
    ax.set_xscale("log")
    _count_ticks(ax)
    what = "parameters (filled: unique; hollow: effective)" if effective else "unique parameters"
    ax.set(xlabel=f"{what}, log scale", ylabel=metric_label(cmp.metric),
           title=f"{_short(cmp.metric)} vs parameters (mean ± std over seeds)")
    ax.grid(alpha=0.3, which="both")
    _legend(ax, len(cmp.groups))
    return _save(fig, out_dir, f"{cmp.metric}_vs_params", formats)


def curves_figure(cmp: Comparison, out_dir: Path, formats: list[str], kind: str) -> list[Path]:
    """kind 'loss': test loss solid, train loss dashed; kind 'acc': the headline metric's curve."""
    _, plt = _plt()
    columns = ["test_loss", "train_loss"] if kind == "loss" else [cmp.metric if cmp.metric.endswith("acc") else "test_acc"]
    fig, ax = plt.subplots(figsize=_size(cmp.groups), layout="constrained")
    drawn = False
    for label, color in zip(cmp.groups, _colors(len(cmp.groups))):
        for column, style in zip(columns, ("-", "--")):
            stats = curves(cmp, label, column)
            if stats is None:
                continue
            scale = _scale(column)
            x, mean, std = stats["step"], stats["mean"] * scale, stats["std"] * scale
            ax.plot(x, mean, ls=style, color=color, lw=1.6, label=label if style == "-" else None)
            ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.18, lw=0)
            drawn = True
    if not drawn:
        plt.close(fig)
        return []
    if kind == "loss":
        ax.plot([], [], color="0.3", ls="-", label="test")
        ax.plot([], [], color="0.3", ls="--", label="train")
        positive = [line.get_ydata() for line in ax.get_lines() if len(line.get_ydata())]
        if wants_log_scale(np.concatenate(positive) if positive else []):
            ax.set_yscale("log")
    ylabel = "loss" if kind == "loss" else metric_label(columns[0])
    ax.set(xlabel="optimizer step", ylabel=ylabel,
           title=f"{ylabel.split(' (')[0]} during training (mean ± std over seeds)")
    ax.grid(alpha=0.3)
    _legend(ax, len(cmp.groups) + (2 if kind == "loss" else 0))
    return _save(fig, out_dir, f"curves_{kind}", formats)


def bars(cmp: Comparison, out_dir: Path, formats: list[str]) -> list[Path]:
    _, plt = _plt()
    key, scale = _summary_key(cmp, cmp.metric), _scale(cmp.metric)
    colors = dict(zip(cmp.groups, _colors(len(cmp.groups))))
    groups = [g for g in cmp.groups if _stats(cmp, g, key, scale)[2]]  # groups with no finished run: see runs.csv
    if not groups:
        return []
    stats = [_stats(cmp, label, key, scale) for label in groups]
    colors = [colors[g] for g in groups]
    horizontal = len(groups) > 6 or max(len(g) for g in groups) > 14
    height = max(3.0, 0.35 * len(groups) + 1.2) if horizontal else 4.4
    width = max(6.4, 3.5 + 0.075 * max(len(g) for g in groups)) if horizontal else 6.4
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    pos = np.arange(len(groups))
    means = [0.0 if not math.isfinite(m) else m for m, _, _ in stats]
    errs = [0.0 if not math.isfinite(e) else e for _, e, _ in stats]
    (ax.barh if horizontal else ax.bar)(pos, means, **({"xerr": errs} if horizontal else {"yerr": errs}),
                                        color=colors, alpha=0.8, capsize=4)
    for i, (_, _, values) in enumerate(stats):  # each seed as a dot: n and spread at a glance
        jitter = np.linspace(-0.25, 0.25, len(values)) if len(values) > 1 else [0.0]
        pts = (values, i + np.asarray(jitter)) if horizontal else (i + np.asarray(jitter), values)
        ax.plot(*pts, "o", color="black", ms=3)
    labels = [f"{g}\n(n={len(s[2])})" if not horizontal else f"{g} (n={len(s[2])})" for g, s in zip(groups, stats)]
    if horizontal:
        ax.set_yticks(pos, labels)
        ax.invert_yaxis()
        ax.set_xlabel(metric_label(cmp.metric))
        ax.grid(alpha=0.3, axis="x")
    else:
        ax.set_xticks(pos, labels)
        ax.set_ylabel(metric_label(cmp.metric))
        ax.grid(alpha=0.3, axis="y")
    ax.set_title(f"final {_short(cmp.metric)} (mean ± std; dots: seeds)")
    return _save(fig, out_dir, f"{cmp.metric}_by_group", formats)


def _lines(cmp: Comparison, axis: str):
    """Split the groups by one numeric axis key: {label of the other keys: [(x, group label)]}."""
    others = [k for k in cmp.keys if k != axis]
    series: dict[str, list] = {}
    for label in cmp.groups:
        run = cmp.members(label, completed_only=False)[0]
        x = number(run.value(axis))
        if x is None:
            continue
        name = ", ".join(f"{v}" if len(others) == 1 else f"{k}={v}" for k, v in ((k, run.value(k)) for k in others)) or "all runs"
        series.setdefault(name, []).append((x, label))
    return series


def accuracy_vs_axis(cmp: Comparison, out_dir: Path, formats: list[str], axis: str, xlabel: str, stem: str,
                     percent: bool = False):
    """Final metric against one numeric grouping key, one line per combination of the other keys."""
    _, plt = _plt()
    key, scale = _summary_key(cmp, cmp.metric), _scale(cmp.metric)
    series = _lines(cmp, axis)
    fig, ax = plt.subplots(figsize=_size(list(series)), layout="constrained")
    xs_all = []
    for (name, points), color in zip(series.items(), _colors(len(series))):
        points.sort()
        ys = [_stats(cmp, label, key, scale) for _, label in points]
        xs = [x * (100 if percent else 1) for x, _ in points]
        xs_all += xs
        ax.errorbar(xs, [m for m, _, _ in ys], yerr=[e for _, e, _ in ys], marker="o", color=color, capsize=4,
                    label=name)
    if min(xs_all) > 0 and max(xs_all) / min(xs_all) >= 20:  # learning rates, widths: a log axis reads better
        ax.set_xscale("log")
        xlabel += ", log scale"
    ax.set(xlabel=xlabel, ylabel=metric_label(cmp.metric),
           title=f"{_short(cmp.metric)} vs {xlabel.split(' (')[0].split(',')[0]} (mean ± std over seeds)")
    ax.grid(alpha=0.3, which="both")
    if len(series) > 1:
        _legend(ax, len(series))
    return _save(fig, out_dir, stem, formats)


def accuracy_vs_shift(cmp: Comparison, out_dir: Path, formats: list[str]) -> list[Path]:
    """One line per group over the shift keys of summary.json (test_acc_shift0, test_acc_shift2, …)."""
    _, plt = _plt()
    keys = [k for k in shift_keys(cmp.runs) if re.match(r"^(final_)?test_acc_", k)]
    if not keys:
        return []
    names = [re.sub(r"^(final_)?test_acc_shift", "", k) for k in keys]
    numeric = all(number(n) is not None for n in names)
    xs = [float(n) for n in names] if numeric else list(range(len(names)))
    fig, ax = plt.subplots(figsize=_size(cmp.groups), layout="constrained")
    for label, color in zip(cmp.groups, _colors(len(cmp.groups))):
        ys = [_stats(cmp, label, k, 100.0) for k in keys]
        ax.errorbar(xs, [m for m, _, _ in ys], yerr=[e for _, e, _ in ys], marker="o", color=color, capsize=4, label=label)
    if not numeric:
        ax.set_xticks(xs, names)
    ax.set(xlabel="test-set shift (positions)" if numeric else "test-set shift", ylabel="test accuracy (%)",
           title="test accuracy under shifted inputs (mean ± std over seeds)")
    ax.grid(alpha=0.3)
    _legend(ax, len(cmp.groups))
    return _save(fig, out_dir, "test_acc_vs_shift", formats)


def plot_comparison(cmp: Comparison, out_dir: Path, formats: list[str]) -> list[Path]:
    """Every figure that the runs have data for; returns the files written."""
    matplotlib, _ = _plt()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with matplotlib.rc_context(DETERMINISTIC):
        written += accuracy_vs_params(cmp, out_dir, formats)
        written += bars(cmp, out_dir, formats)
        written += curves_figure(cmp, out_dir, formats, "loss")
        if any(r.metrics is not None and "test_acc" in r.metrics and r.metrics["test_acc"].notna().any() for r in cmp.runs):
            written += curves_figure(cmp, out_dir, formats, "acc")
        for axis in cmp.keys:  # a numeric axis with a few values or more (train fraction, lr, width)
            values = {number(r.value(axis)) for r in cmp.runs if r.known}
            if None in values or len(values) < (2 if axis.endswith("train_fraction") else 3):
                continue
            leaf = axis.rsplit(".", 1)[-1]
            label = "training-set fraction used (%)" if leaf == "train_fraction" else axis
            written += accuracy_vs_axis(cmp, out_dir, formats, axis, label, f"{cmp.metric}_vs_{leaf}",
                                        percent=leaf == "train_fraction")
        written += accuracy_vs_shift(cmp, out_dir, formats)
    return written


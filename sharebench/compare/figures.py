"""Figures that compare groups of runs: accuracy vs parameters, curves, bars, accuracy vs a swept
value or a test shift, and the paired differences (a forest plot). No torch here.

Each figure is built by a function that returns (stem, Figure) or None, so that tests can look at
what is drawn; plot_comparison saves them. Error bars are 95% t-intervals of the mean
(statistics.interval) where a group has n >= 2 seeds and are absent otherwise; curve bands are ±1 std over seeds; every title says
which. Files are byte-identical when re-made from the same runs: no dates or random ids in SVG/PDF/PNG.
"""

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from sharebench.compare import style
from sharebench.compare.kernel_atlas import atlas_figures
from sharebench.compare.paired import axis_values, seed_values
from sharebench.compare.runs import Comparison, format_value, shift_keys
from sharebench.compare.spectrum import diagnostics_curves, spectrum_curve
from sharebench.compare.spectrum_map import spectrum_map
from sharebench.compare.statistics import curves, group_values, interval, number, spread
from sharebench.records.run_plots import wants_log_scale


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


def _short(metric: str) -> str:
    return metric_label(metric).split(" (")[0]


def _styles(cmp: Comparison) -> dict[str, dict]:
    if len(cmp.groups) > MANY_GROUPS:  # the best few in distinct colours, best first; the rest grey
        best = _ranked(cmp, cmp.groups)[:COLOURED]
        return {
            g: {"color": f"C{best.index(g)}", "marker": "o", "ls": "-"} if g in best else OTHER_STYLE
            for g in cmp.groups
        }
    styles = style.group_styles(axis_values(cmp))
    return {g: styles.get(g, {"color": "0.5", "marker": "o", "ls": "-"}) for g in cmp.groups}


# A figure of many groups stays readable: the best few (by the mean final headline metric) keep their
# colours and legend entries, the others are drawn in grey under one legend entry, and the title says
# so. A bar chart of very many groups shows the best of them; comparison.csv always has every group.
MANY_GROUPS = 24
COLOURED = 6
MANY_BARS = 40
OTHER_STYLE = {"color": "0.78", "marker": ".", "ls": "-", "other": True}


def _ranked(cmp: Comparison, groups: list[str]) -> list[str]:
    """Groups from best to worst by their mean final headline metric (lower is better for a loss)."""
    key, lower = _summary_key(cmp, cmp.metric), cmp.metric.endswith("loss")
    means = {g: _mean(cmp, g, key) for g in groups}
    finite = [g for g in groups if math.isfinite(means[g])]
    return sorted(finite, key=lambda g: means[g] if lower else -means[g]) + [g for g in groups if g not in finite]


def _others(cmp: Comparison) -> str:
    """The legend entry of the grey groups, and the title's note; empty when every group is coloured."""
    n = len(cmp.groups)
    return f"the other {n - COLOURED} groups" if n > MANY_GROUPS else ""


def _legend_labels(cmp: Comparison) -> list[str]:
    """The groups a legend names, in its order: every group, or the coloured ones best first and the others' entry."""
    if len(cmp.groups) <= MANY_GROUPS:
        return list(cmp.groups)
    return _ranked(cmp, cmp.groups)[:COLOURED] + [_others(cmp)]


def _title_note(cmp: Comparison) -> str:
    if len(cmp.groups) <= MANY_GROUPS:
        return ""
    return f";\nin colour: the {COLOURED} best of {len(cmp.groups)} groups by final {_short(cmp.metric)}"


def _estimate(cmp: Comparison, label: str, key: str, scale=1.0):
    """(mean, error bar as [[below], [above]] or None, values): a bar only where an interval exists."""
    return _estimate_of(group_values(cmp, label, key, scale))


def _estimate_of(values: list[float]):
    mean = spread(values)["mean"]
    low, high = interval(values)
    return mean, ([[mean - low], [high - mean]] if math.isfinite(low) else None), values


def _verdict_note(r) -> str:
    """A forest-plot row's verdict, short: 'A better' names A; undecided says how many seeds would do."""
    if r.verdict == "A better":
        return f"{r.a} better"
    if r.verdict == "B better":
        return f"{r.b} better"
    if r.verdict == "undecided" and math.isfinite(r.seeds_needed):
        return f"undecided (~{r.seeds_needed:.0f} seeds/arm)"
    return str(r.verdict)


def _mean(cmp: Comparison, label: str, key: str) -> float:
    return spread(group_values(cmp, label, key))["mean"]


def _count_axis(ax, xs: list[float]) -> None:
    """Log x over the counts, at least a decade wide so that three or more ticks carry labels."""
    lo, hi = _count_span(xs)
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    style.count_ticks(ax.xaxis, lo, hi)


def _count_span(xs: list[float]) -> tuple[float, float]:
    lo, hi = min(xs) / 1.25, max(xs) * 1.25
    if hi / lo < 11:
        mid = math.sqrt(lo * hi)
        lo, hi = mid / 3.32, mid * 3.32
    return lo, hi


def _metric_axis(axis, metric: str) -> None:
    """The axis of a metric: its name, and tick labels in percent for an accuracy (80%, not 80)."""
    if _scale(metric) == 100:
        style.percent_ticks(axis)
    axis.set_label_text(_short(metric) if _scale(metric) == 100 else metric_label(metric))


def _dodge(xs: list[float], ys: list[float], step: float, near: float) -> list[float]:
    """Log10 x offsets that set apart markers which would sit on one another (closer than `step` in
    log x and `near` in y): each marker, lowest first, takes the first free slot of 0, +1, −1, +2, …
    steps, so markers with room stay at their x. The same points always get the same offsets."""
    slots = [0] + [s for k in range(1, len(xs) + 1) for s in (k, -k)]
    placed, out = [], [0.0] * len(xs)
    for i in sorted(range(len(xs)), key=lambda i: (ys[i], xs[i], i)):
        lx = math.log10(xs[i])
        free = (s * step for s in slots)
        out[i] = next(
            d for d in free if all(abs(lx + d - px) > step * 0.999 or abs(ys[i] - py) >= near for px, py in placed)
        )
        placed.append((lx + out[i], ys[i]))
    return out


def _param_points(cmp: Comparison) -> list[tuple]:
    """(group, unique parameters, effective parameters or None, mean, error bar, n) of each group with a
    result, the markers set apart where several would sit at one place (ten spectrum points at 32.6k)."""
    key, scale = _summary_key(cmp, cmp.metric), _scale(cmp.metric)
    points = []
    for label in cmp.groups:
        (y, err, values), x = _estimate(cmp, label, key, scale), _mean(cmp, label, "params_total")
        xe = _mean(cmp, label, "params_effective")
        if math.isfinite(y) and math.isfinite(x):
            points.append([label, x, xe if math.isfinite(xe) and xe != x else None, y, err, len(values)])
    if not points:
        return []
    marks = [(p[1], p[3]) for p in points] + [(p[2], p[3]) for p in points if p[2]]
    lows = [p[3] - (p[4][0][0] if p[4] else 0) for p in points]
    highs = [p[3] + (p[4][1][0] if p[4] else 0) for p in points]
    lo, hi = _count_span([m[0] for m in marks])
    step, near = 0.012 * math.log10(hi / lo), 0.035 * (max(highs) - min(lows) or 1.0)  # ~ ⅔ and 1 marker
    shifts = iter(_dodge([m[0] for m in marks], [m[1] for m in marks], step, near))
    for p in points:
        p[1] *= 10 ** next(shifts)
    for p in points:
        p[2] = p[2] * 10 ** next(shifts) if p[2] else None
    return [tuple(p) for p in points]


HOLLOW = ["filled: unique parameters", "hollow: effective (if unshared)"]


def accuracy_vs_params(cmp: Comparison):
    points = _param_points(cmp)
    if not points:
        return None
    labels = _legend_labels(cmp) + HOLLOW * any(p[2] for p in points)  # the figure is sized for its legend
    styles, (fig, ax) = _styles(cmp), style.plt().subplots(figsize=style.figure_size(labels), layout="constrained")
    for label, x, xe, y, err, _ in points:
        st = styles[label]
        other = st.get("other", False)
        ax.errorbar(
            x,
            y,
            yerr=err,
            fmt=st["marker"] if not other else "o",
            color=st["color"],
            ms=7 if not other else 4,
            capsize=4,
            label=label if not other else None,
            zorder=2 if not other else 1,
        )
        if xe:  # drawn on top and larger: a ring around any point beneath
            ax.plot([xe], [y], st["marker"], mfc="none", mec=st["color"], ms=12, mew=1.6, zorder=3)
            ax.plot([x, xe], [y, y], color=st["color"], lw=0.8, ls=":", zorder=1)
    _count_axis(ax, [p[1] for p in points] + [p[2] for p in points if p[2]])
    if _others(cmp):
        ax.plot([], [], "o", color=OTHER_STYLE["color"], ms=4, ls="none", label=_others(cmp))
    if labels[-1] == HOLLOW[1]:
        ax.plot([], [], "o", color="0.35", ms=7, ls="none", label=HOLLOW[0])
        ax.plot([], [], "o", mfc="none", mec="0.35", ms=12, mew=1.6, ls="none", label=HOLLOW[1])
    _metric_axis(ax.yaxis, cmp.metric)
    ax.set(
        xlabel="parameters, log scale",
        title=f"{_short(cmp.metric)} vs parameters ({style.shown([p[5] for p in points])}{_title_note(cmp)})",
    )
    ax.grid(alpha=0.3, which="major")
    style.legend(fig, ax, labels)
    return f"{cmp.metric}_vs_params", fig


def _band_text(ns: list[int]) -> str:
    lo, hi = min(ns), max(ns)
    seeds = f"{lo}" if lo == hi else f"{lo}–{hi}"
    if hi == 1:
        return "1 seed"
    return f"mean ± std over {seeds} seeds" if lo > 1 else f"mean over {seeds} seeds, ± std where n > 1"


def _band_low(stats, mean, std, scale, floor):
    """Lower band edge that stays on a log axis: where mean − std ≤ 0, the lowest seed (or `floor`)."""
    low, lowest = mean - std, stats["min"].to_numpy() * scale
    return np.where(low > 0, low, np.where(lowest > 0, lowest, floor))


def curves_figure(cmp: Comparison, kind: str):
    """kind 'loss': test loss thick, train loss thin; kind 'acc': the headline metric's curve."""
    columns = (
        ["test_loss", "train_loss"] if kind == "loss" else [cmp.metric if cmp.metric.endswith("acc") else "test_acc"]
    )
    data = {(g, c): s for g in cmp.groups for c in columns if (s := curves(cmp, g, c)) is not None}
    if not data:
        return None
    means = np.concatenate([s["mean"].to_numpy() * _scale(c) for (_, c), s in data.items()])
    log = kind == "loss" and wants_log_scale(means)
    floor = means[means > 0].min() if (means > 0).any() else 1e-12
    styles, (fig, ax) = (
        _styles(cmp),
        style.plt().subplots(figsize=style.figure_size(_legend_labels(cmp)), layout="constrained"),
    )
    ns = []
    for (label, column), stats in data.items():
        st, train, scale = styles[label], column == "train_loss", _scale(column)
        other = st.get("other", False)
        x, mean, std = stats["step"].to_numpy(), stats["mean"].to_numpy() * scale, stats["std"].to_numpy() * scale
        few = len(x) <= style.FEW_POINTS  # a run evaluated once is one point: a line alone would not show
        ax.plot(
            x,
            mean,
            ls=st["ls"],
            color=st["color"],
            lw=(1.0 if train else 1.8) * (0.6 if other else 1.0),
            alpha=0.55 if train else 1.0,
            marker=st["marker"] if few else None,
            ms=4 if not other else 2,
            label=None if train or other else label,
            zorder=1 if other else 2,
        )
        n = int(stats["n"].max())
        ns += [] if train else [n]
        if n > 1 and not other:  # a band for each coloured group; grey ones would hide them
            low = _band_low(stats, mean, std, scale, floor) if log else mean - std
            ax.fill_between(x, low, mean + std, color=st["color"], alpha=0.08 if train else 0.18, lw=0)
    if _others(cmp):
        ax.plot([], [], color=OTHER_STYLE["color"], lw=1.1, label=_others(cmp))
    if kind == "loss":
        ax.plot([], [], color="0.3", lw=1.8, label="test loss (thick)")
        ax.plot([], [], color="0.3", lw=1.0, alpha=0.55, label="train loss (thin)")
        if log:
            ax.set_yscale("log")
    if kind == "loss":
        ax.set_ylabel("loss")
    else:
        _metric_axis(ax.yaxis, columns[0])
    ax.set(
        xlabel="optimizer step",
        title=f"{ax.get_ylabel()} during training ({_band_text(ns or [1])}{_title_note(cmp)})",
    )
    ax.grid(alpha=0.3)
    style.legend(fig, ax, _legend_labels(cmp) + ["test loss (thick)", "train loss (thin)"] * (kind == "loss"))
    return f"curves_{kind}", fig


def bars(cmp: Comparison):
    key, scale = _summary_key(cmp, cmp.metric), _scale(cmp.metric)
    groups = [g for g in cmp.groups if group_values(cmp, g, key)]  # groups with no finished run: see runs.csv
    if not groups:
        return None
    total, note = len(groups), ""
    if total > MANY_BARS:  # the best of them, best first: a bar each for hundreds would be unreadable
        groups, note = _ranked(cmp, groups)[:MANY_BARS], f";\nthe {MANY_BARS} best of {total} groups"
    styles = {g: s if not s.get("other") else {**s, "color": "0.6"} for g, s in _styles(cmp).items()}
    stats = [_estimate(cmp, g, key, scale) for g in groups]
    labels = [style.wrap(f"{g} (n={len(s[2])})") for g, s in zip(groups, stats)]
    lines = sum(label.count("\n") + 1 for label in labels)
    longest = max(len(line) for label in labels for line in label.splitlines())
    fig, ax = style.plt().subplots(
        figsize=(
            min(style.MAX_WIDTH, max(6.4, 3.5 + 0.075 * longest)),
            min(24.0, max(3.0, 0.3 * lines + 0.1 * len(groups) + 1.2)),
        ),
        layout="constrained",
    )
    pos = np.arange(len(groups))
    means = [m if math.isfinite(m) else 0.0 for m, _, _ in stats]
    ax.barh(pos, means, color=[styles[g]["color"] for g in groups], alpha=0.8)
    for i, (mean, err, values) in enumerate(stats):  # each seed as a dot: n and spread at a glance
        ax.plot(values, i + np.linspace(-0.25, 0.25, len(values)) if len(values) > 1 else [i], "o", color="black", ms=3)
        if err is not None:
            ax.errorbar(mean, i, xerr=err, fmt="none", ecolor="black", capsize=4, lw=1.2)
    ax.set_yticks(pos, labels)
    ax.invert_yaxis()
    _metric_axis(ax.xaxis, cmp.metric)
    ax.grid(alpha=0.3, axis="x")
    ax.set_title(f"final {_short(cmp.metric)} ({style.shown([len(s[2]) for s in stats])}; dots: seeds{note})")
    return f"{cmp.metric}_by_group", fig


def _lines(cmp: Comparison, axis: str):
    """Split the groups by one numeric axis key: {label of the other keys: [(x, group label)]}."""
    others = [k for k in cmp.keys if k != axis]
    series: dict[str, list] = {}
    for label in cmp.groups:
        run = cmp.members(label, completed_only=False)[0]
        x = number(run.value(axis))
        if x is None:
            continue
        name = (
            ", ".join(f"{v}" if len(others) == 1 else f"{k}={v}" for k, v in ((k, run.value(k)) for k in others))
            or "all runs"
        )
        series.setdefault(name, []).append((x, label))
    return series


def _errorbars(ax, xs, estimates, st, label):
    """One line through the means, error bars only at the points that have an interval."""
    ax.plot(xs, [m for m, _, _ in estimates], marker=st["marker"], ls=st["ls"], color=st["color"], label=label)
    for x, (mean, err, _) in zip(xs, estimates):
        if err is not None:
            ax.errorbar(x, mean, yerr=err, fmt="none", ecolor=st["color"], capsize=4)


def _finals_by_seed(cmp: Comparison, labels: list[str]) -> dict[str, list[dict]]:
    """Each seed's final_* metrics in every group of `labels` that ran it."""
    by_seed: dict[str, list[dict]] = {}
    for g in labels:
        for r in cmp.members(g):
            finals = {k: v for k, v in r.summary.items() if k.startswith("final_")}
            by_seed.setdefault(format_value(r.value("seed")), []).append(finals)
    return by_seed


def _unmoved(cmp: Comparison, labels: list[str]) -> bool:
    """True when a line's groups hold the same results at every swept value: each seed that ran at
    several values recorded every final_* metric equal to the last bit there, and at least one seed ran
    at all of them. A value that a run reads moves some loss of some seed, so these runs did not read it
    (model.mode=hard ignores model.lam: one set of weights has no distance to penalise), and a line
    through them would draw a dependence that is not there. Groups may hold different seeds (a
    seeds-until-decided sweep adds seeds to some pairs only): the seeds they share decide. Judged from
    the records, not declared: a run that is not bit-reproducible (a GPU) is drawn as a line, as before."""
    by_seed = _finals_by_seed(cmp, labels)
    runs = [f for fs in by_seed.values() for f in fs]
    if len(labels) < 2 or not runs or not all(runs):
        return False
    shared_by_all = any(len(fs) == len(labels) for fs in by_seed.values())
    return shared_by_all and all(f == fs[0] for fs in by_seed.values() for f in fs[1:])


def _pooled_estimate(cmp: Comparison, labels: list[str], key: str, scale: float):
    """_estimate over the distinct seeds of groups that recorded the same results (_unmoved): one run a seed."""
    values = {}
    for g in labels:
        for r in cmp.members(g):
            value = number(r.summary.get(key))
            if value is not None:
                values.setdefault(format_value(r.value("seed")), value * scale)
    return _estimate_of(list(values.values()))


def _band(ax, estimate, st: dict, label: str) -> None:
    """A result that does not depend on the swept value: its mean across the whole axis, the interval shaded."""
    mean, err, _ = estimate
    if err is not None:
        ax.axhspan(mean - err[0][0], mean + err[1][0], color=st["color"], alpha=0.15, lw=0, zorder=0)
    ax.axhline(mean, color=st["color"], ls="--", lw=1.5, label=label, zorder=1)


def _swept_scale(ax, xs: list[float], xlabel: str, percent: bool) -> str:
    """Log x where the swept values span more than a decade (learning rates, widths, fractions), symlog
    where they also hold 0 (λ = 0, 0.001, 0.1: on a linear axis 0 and 0.001 are one point), linear up
    to the smallest nonzero value; tick labels as the values are written (0.001, 40, 10%). The x label."""
    nonzero = sorted({abs(x) for x in xs if x != 0})
    if len(nonzero) < 2 or nonzero[-1] / nonzero[0] < 20 or (min(xs) < 0 and 0 not in xs):
        if percent:
            style.percent_ticks(ax.xaxis)
        return xlabel
    if min(xs) > 0:
        ax.set_xscale("log")
        style.count_ticks(ax.xaxis, min(xs), max(xs), text=style.percent if percent else style.human)
        return f"{xlabel}, log scale"
    ax.set_xscale("symlog", linthresh=nonzero[0])
    to = ax.xaxis.get_transform()  # margins of 5% in the axis's own scale: autoscale left no room at the right
    lo, hi = to.transform([min(xs), max(xs)])
    ax.set_xlim(*to.inverted().transform([lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)]))
    style.value_ticks(ax.xaxis)
    return f"{xlabel}, linear to {nonzero[0]:g}, log scale above"


def accuracy_vs_axis(cmp: Comparison, axis: str, xlabel: str, stem: str, percent: bool = False):
    """Final metric against one numeric grouping key, one line per combination of the other keys; a
    combination whose results do not depend on the key (_unmoved) is a band across the axis."""
    key, scale = _summary_key(cmp, cmp.metric), _scale(cmp.metric)
    series, styles = _lines(cmp, axis), _styles(cmp)
    names = {
        n: f"{n} (identical at every {axis})" if _unmoved(cmp, [g for _, g in p]) else n for n, p in series.items()
    }
    fig, ax = style.plt().subplots(figsize=style.figure_size(list(names.values())), layout="constrained")
    xs_all, ns = [], []
    for name, points in series.items():
        points.sort()
        estimates = [_estimate(cmp, label, key, scale) for _, label in points]
        xs_all += [x * (100 if percent else 1) for x, _ in points]
        st = styles[points[0][1]] if len(series) > 1 else {"color": "tab:blue", "marker": "o", "ls": "-"}
        if names[name] != name:  # one set of runs, drawn once
            pooled = _pooled_estimate(cmp, [g for _, g in points], key, scale)
            _band(ax, pooled, st, names[name])
            ns.append(len(pooled[2]))
        else:
            _errorbars(ax, xs_all[-len(points) :], estimates, st, name)
            ns += [len(v) for _, _, v in estimates]
    xlabel = _swept_scale(ax, xs_all, xlabel, percent)
    _metric_axis(ax.yaxis, cmp.metric)
    ax.set(xlabel=xlabel, title=f"{_short(cmp.metric)} vs {xlabel.split(' (')[0].split(',')[0]} ({style.shown(ns)})")
    ax.grid(alpha=0.3, which="both")
    if len(series) > 1 or list(names.values()) != list(names):
        style.legend(fig, ax, list(names.values()))
    return stem, fig


def accuracy_vs_shift(cmp: Comparison):
    """One line per group over the shift keys of summary.json (test_acc_shift0, test_acc_shift2, …)."""
    keys = [k for k in shift_keys(cmp.runs) if re.match(r"^(final_)?test_acc_", k)]
    if not keys:
        return None
    names = [re.sub(r"^(final_)?test_acc_shift", "", k) for k in keys]
    numeric = all(number(n) is not None for n in names)
    xs = [float(n) for n in names] if numeric else list(range(len(names)))
    styles, (fig, ax) = (
        _styles(cmp),
        style.plt().subplots(figsize=style.figure_size(_legend_labels(cmp)), layout="constrained"),
    )
    ns = []
    for label in cmp.groups:
        estimates = [_estimate(cmp, label, k, 100.0) for k in keys]
        ns += [len(v) for _, _, v in estimates if v]
        _errorbars(ax, xs, estimates, styles[label], label)
    if numeric:
        style.integer_ticks(ax.xaxis)  # shifts are whole positions
    else:
        ax.set_xticks(xs, names)
    ax.set(
        xlabel="test-set shift (positions)" if numeric else "test-set shift",
        ylabel="test accuracy",
        title=f"test accuracy under shifted inputs ({style.shown(ns or [1])})",
    )
    style.percent_ticks(ax.yaxis)
    ax.grid(alpha=0.3)
    style.legend(fig, ax, cmp.groups)
    return "test_acc_vs_shift", fig


def paired_differences(cmp: Comparison, paired):
    """Forest plot: one row per pair A − B, single seeds as dots, the mean with its 95% t-interval, the
    equivalence band ±δ shaded and each row's verdict in its label."""
    if paired is None or not len(paired):
        return None
    scale = _scale(cmp.metric)
    labels = [style.wrap(f"{r.a} − {r.b} (n={r.n})", 40) + f"\n{_verdict_note(r)}" for r in paired.itertuples()]
    longest = max(len(line) for label in labels for line in label.splitlines())
    fig, ax = style.plt().subplots(
        figsize=(min(style.MAX_WIDTH, max(6.4, 3.8 + 0.075 * longest)), min(24.0, max(2.6, 0.45 * len(labels) + 1.6))),
        layout="constrained",
    )
    for i, r in enumerate(paired.itertuples()):
        va, vb = seed_values(cmp, r.a, r.metric), seed_values(cmp, r.b, r.metric)
        diffs = [(va[s] - vb[s]) * scale for s in va if s in vb]
        ax.plot(diffs, [i] * len(diffs), "o", ms=3.5, color="0.6", zorder=2, label="single seeds" if i == 0 else None)
        m = r.mean_diff * scale
        if math.isfinite(r.ci_low):
            ax.errorbar(
                m,
                i,
                xerr=[[m - r.ci_low * scale], [r.ci_high * scale - m]],
                fmt="D",
                color="black",
                ms=6,
                capsize=4,
                zorder=3,
                label="mean, 95% t-interval" if i == 0 else None,
            )
        else:
            ax.plot(m, i, "D", mfc="white", mec="black", ms=6, zorder=3, label="mean (n<2: no interval)")
    delta = float(paired["delta"].iloc[0]) * scale
    if delta > 0:
        ax.axvspan(-delta, delta, color="tab:green", alpha=0.12, lw=0, zorder=0, label=f"equivalent: within ±{delta:g}")
    ax.axvline(0, color="0.3", lw=1, ls="--", zorder=1)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    unit = " (percentage points)" if scale == 100 else ""
    ax.set(
        xlabel=f"A − B, final {_short(cmp.metric)}{unit}; A is better {'right' if paired['better'].iloc[0] == 'higher' else 'left'} of 0",
        title="paired by seed: mean difference A − B"
        + ("; verdicts hold jointly (Holm–Shaffer)" if int(paired["family"].iloc[0]) > 1 else ""),
    )
    ax.grid(alpha=0.3, axis="x")
    handles, texts = ax.get_legend_handles_labels()
    ax.legend(dict(zip(texts, handles)).values(), dict(zip(texts, handles)).keys(), frameon=False, fontsize=8)
    return "paired_differences", fig


def build_figures(cmp: Comparison, paired=None) -> list[tuple[str, object]]:
    """(stem, Figure) of every figure the runs have data for; the caller saves or closes them."""
    made = [accuracy_vs_params(cmp), bars(cmp), curves_figure(cmp, "loss")]
    if any(r.metric_columns and pd.notna(r.metric_columns.get("test_acc", [])).any() for r in cmp.runs):
        made.append(curves_figure(cmp, "acc"))
    for axis in cmp.keys:  # a numeric axis with a few values or more (train fraction, lr, width)
        values = {number(r.value(axis)) for r in cmp.runs if r.known}
        if None in values or len(values) < (2 if axis.endswith("train_fraction") else 3):
            continue
        leaf = axis.rsplit(".", 1)[-1]
        label = "training-set fraction used" if leaf == "train_fraction" else axis
        made.append(accuracy_vs_axis(cmp, axis, label, f"{cmp.metric}_vs_{leaf}", percent=leaf == "train_fraction"))
    made += [
        accuracy_vs_shift(cmp),
        paired_differences(cmp, paired),
        spectrum_curve(cmp, _summary_key(cmp, cmp.metric), _scale(cmp.metric), metric_label(cmp.metric)),
        diagnostics_curves(cmp),
        ("locality_sharing_map", where) if (where := spectrum_map(cmp)) is not None else None,
    ]
    return [m for m in made if m is not None] + atlas_figures(cmp)  # from saved weights: torch only if any


def plot_comparison(
    cmp: Comparison, out_dir: Path, formats: list[str], paired=None, note: str | None = None
) -> list[Path]:
    """Every figure that the runs have data for; returns the files written. `note` ("shortened: 500 of
    6,000 steps") heads every figure, so that none is read without it."""
    import matplotlib

    style.plt()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with matplotlib.rc_context(style.DETERMINISTIC):
        for stem, fig in build_figures(cmp, paired):
            if note:  # above the figure's top edge (the saved bbox grows to hold it): clear of titles and legends
                fig.text(0.01, 1.0, note, ha="left", va="bottom", color="tab:red", fontsize=10, fontweight="bold")
            written += style.save(fig, out_dir, stem, formats)
    return written

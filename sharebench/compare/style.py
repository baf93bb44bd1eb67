"""The look shared by every comparison figure: colours by model and markers by the other keys,
readable tick labels, legends that never cover data or run off the page, a capped width, and
byte-identical files. No torch.
"""

import math
import textwrap
from pathlib import Path

from sharebench.compare.statistics import CONFIDENCE, METHOD, MIN_N

DETERMINISTIC = {
    "svg.hashsalt": "sharebench",
    "svg.fonttype": "none",  # text as text: glyph definitions were named per process, not per file
    "pdf.compression": 6,
    "font.size": 10,
    "axes.titlesize": 11,
    "legend.fontsize": 9,
    "figure.dpi": 100,
}
METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}
MAX_WIDTH = 12.0  # inches: a folder of unrelated runs once made a 4,603-pixel-wide figure
WRAP = 36  # characters per legend or tick label line
FEW_POINTS = 20  # curves with at most this many points get markers (one evaluation is one point)
FEW_EVALS = 5  # curves with fewer points are their points, joined by a thin dotted line: not a curve
# twelve groups, twelve colours and twelve markers: tab10, then tab20b's indigo and gold (tab20's pale
# halves were near-twins of their neighbours: ten groups at one x read as one smear; black would hide
# the black seed dots and whiskers of a bar)
PALETTE = [
    *("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"),
    *("tab:brown", "tab:pink", "tab:gray", "tab:olive", "tab:cyan"),
    *("#393b79", "#e7ba52"),
]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "p", "h"]
PAGE_PX = 740  # a results page's text column at a 1280-px window (Material: 1280 − 2 × 12.1 rem − margins)
DPI = 150  # the saving dpi; on a page one pixel is shown as one CSS pixel (96 per inch) until scaled to fit
LINESTYLES = ["-", "--", ":", "-."]


def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    return pyplot


def wrap(label: str, width: int = WRAP) -> str:
    return "\n".join(textwrap.wrap(str(label), width, break_on_hyphens=False)) or str(label)


def group_styles(values: dict[str, dict[str, str]]) -> dict[str, dict]:
    """{group: color, marker, ls}: one colour per model (or per value of the first key), one marker
    and line style per combination of the other keys, so 20 groups read as 5 models × 4 settings."""
    keys = list(next(iter(values.values()), {}))
    lead = "model" if "model" in keys else (keys[0] if keys else None)
    if lead is None or len(keys) == 1:  # one key: colour and marker both distinct up to 12 groups,
        n = len(PALETTE)  # then the marker steps on by one per round of colours: no pair comes twice
        return {
            g: {"color": PALETTE[i % n], "marker": MARKERS[(i + i // n) % len(MARKERS)], "ls": "-"}
            for i, g in enumerate(values)
        }
    leads = list(dict.fromkeys(v[lead] for v in values.values()))
    rests = list(dict.fromkeys(tuple(v[k] for k in keys if k != lead) for v in values.values()))
    return {
        g: {
            "color": PALETTE[leads.index(v[lead]) % len(PALETTE)],
            "marker": MARKERS[rests.index(tuple(v[k] for k in keys if k != lead)) % len(MARKERS)],
            "ls": LINESTYLES[rests.index(tuple(v[k] for k in keys if k != lead)) % len(LINESTYLES)],
        }
        for g, v in values.items()
    }


def legend_outside(labels: list[str]) -> bool:
    return len(labels) > 6 or max((len(s) for s in labels), default=0) > WRAP


def figure_size(labels: list[str], height: float = 4.4) -> tuple[float, float]:
    """6.4 in wide, plus room for a legend outside when it is long; never above MAX_WIDTH."""
    if not legend_outside(labels):
        return 6.4, height
    longest = max(len(line) for s in labels for line in wrap(s).splitlines())
    return min(MAX_WIDTH, 6.8 + 0.075 * longest), height


def legend(fig, ax, labels: list[str]) -> None:
    """Inside the axes when short; outside on the right (in the figure's layout) when long."""
    handles, texts = ax.get_legend_handles_labels()
    if not handles:
        return
    order = sorted(range(len(texts)), key=lambda i: labels.index(texts[i]) if texts[i] in labels else len(labels))
    handles, texts = [handles[i] for i in order], [wrap(texts[i]) for i in order]
    if legend_outside(labels):
        fig.legend(handles, texts, loc="outside right upper", frameon=False)
    else:
        ax.legend(handles, texts, frameon=False)


def legend_columns(labels: list[str], width: float) -> int:
    """Columns of a legend below a figure `width` inches wide: as many, up to 4, as its longest entry
    (wrapped at WRAP characters, so one column always fits) lets fit."""
    longest = max(len(line) for s in labels for line in wrap(s).splitlines())
    column = 0.075 * longest + 0.5  # inches: a character of the 9-pt legend, and the handle beside it
    return max(1, min(4, int(width // column)))


def marks(st: dict, n: int) -> dict:
    """Line keywords of a curve of `n` evaluations: fewer than FEW_EVALS are points, joined by a thin
    dotted line (two evaluations are not a curve); up to FEW_POINTS a line with small markers; more,
    a line."""
    if n < FEW_EVALS:
        return {"marker": st["marker"], "ms": 6, "ls": ":", "lw": 1.0}
    return {"marker": "o" if n <= FEW_POINTS else None, "ms": 3, "ls": "-", "lw": 1.5}


def human(x: float) -> str:
    """Tick text of a count: 500, 20k, 1.5M."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:g}{suffix}"
    return f"{x:g}"


def percent(x: float) -> str:
    """Tick text of a percentage: 1%, 12.5%, 100%."""
    return f"{x:g}%"


def count_ticks(axis, lo: float, hi: float, text=human) -> None:
    """Labelled ticks on a log count axis at 1-2-3-5-7, 1-2-5 or 1 per decade, as the span allows
    (matplotlib's default labels only powers of ten: a 14k–78k axis showed two labels)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    decades = math.log10(hi / lo) if lo > 0 and hi > lo else 0
    subs = (1.0, 2.0, 3.0, 5.0, 7.0) if decades < 1.5 else (1.0, 2.0, 5.0) if decades < 3 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda x, _: text(x)))
    axis.set_minor_formatter(NullFormatter())


def percent_ticks(axis) -> None:
    """Tick labels of an axis in percent (accuracy ×100, a training fraction ×100): 80%, not 80 or 10²."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda x, _: percent(x)))


def value_ticks(axis) -> None:
    """Tick labels of a swept value as it is written: 0, 0.001, 0.1 (not 10⁻³)."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}".replace("-", "−")))


def integer_ticks(axis) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def page_points(fig, points: float) -> float:
    """The size, in CSS points, at which text of `points` in `fig` is read on a results page: the PNG
    saved at DPI and cropped tight, shown one pixel per CSS pixel and scaled down to PAGE_PX if wider."""
    width = fig.get_tightbbox(fig.canvas.get_renderer()).width * DPI
    return points * DPI / 96 * min(1.0, PAGE_PX / width)


def save(fig, out_dir: Path, stem: str, formats: list[str]) -> list[Path]:
    """Every format of one figure, cropped to what is drawn (a legend outside is never clipped)."""
    paths = []
    freeze_layout(fig)
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        fig.savefig(path, format=fmt, dpi=DPI, metadata=METADATA.get(fmt), bbox_inches="tight")
        paths.append(path)
    plt().close(fig)
    return paths


def freeze_layout(fig, digits: int = 9) -> None:
    """Solve the layout once, at the saving dpi, round it, and keep it. Each save would solve it again
    from where the last draw left it; and the solution itself differs in its last bits from one
    solve to the next (constrained layout's kiwisolver orders its variables by memory address), so a
    value near a rounding edge of the SVG's six decimals came out one digit apart in two processes.
    Rounded to `digits` decimals of its parent, every position drawn from it is the same each time."""
    import numpy as np

    fig.set_dpi(DPI)
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    subfigures = list(fig.subfigs)
    for sub in subfigures:  # each box in its parent, placed by the layout too
        subfigures += sub.subfigs
        sub.bbox_relative.set_points(np.round(sub.bbox_relative.get_points(), digits))
    for ax in fig.axes:  # every axes, a subfigure's included
        ax.set_position(np.round(ax.get_position(original=True).bounds, digits))


def shown(ns: list[int]) -> str:
    """What the error bars mean, for titles: '95% t-interval' over n seeds; one run has none."""
    lo, hi = min(ns), max(ns)
    seeds = f"{lo} seed{'s' * (lo != 1)}" if lo == hi else f"{lo}–{hi} seeds"
    if lo >= MIN_N:
        return f"mean ± {CONFIDENCE:.0%} {METHOD} over {seeds}"
    if hi == 1:
        return "1 seed, no error bars"
    return f"mean over {seeds}; {CONFIDENCE:.0%} {METHOD} where n ≥ {MIN_N}"

"""Figures of one run: loss curves and accuracy curves, as PNG. No torch here."""

import math
from pathlib import Path

LOG_SCALE_RATIO = 50  # a loss axis spanning more than this factor reads better on a log scale


def wants_log_scale(values) -> bool:
    """The one rule for a loss axis (here and in the comparison figures): log when all values are
    positive and span more than LOG_SCALE_RATIO."""
    values = [float(v) for v in values]
    return bool(values) and min(values) > 0 and max(values) / min(values) > LOG_SCALE_RATIO


SPLIT_STYLE = {"train": ("tab:blue", "-"), "val": ("tab:orange", "--"), "test": ("tab:green", "-")}


def _finite(rows: list[dict], key: str) -> tuple[list[float], list[float]]:
    pts = [
        (float(r["step"]), float(r[key])) for r in rows if r.get(key) not in (None, "") and math.isfinite(float(r[key]))
    ]
    return [p[0] for p in pts], [p[1] for p in pts]


def _finish(plt, fig, ax, marks: dict[str, int] | None, ylabel: str, title: str, path: Path) -> Path:
    """Marks (label → step, e.g. where a model untied), labels, grid, legend; save and close."""
    for label, step in (marks or {}).items():
        ax.axvline(step, color="0.35", ls=":", lw=1.2, label=f"{label} (step {step:,})")
    ax.set(xlabel="optimizer step", ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path


def plot_run(
    metrics: list[dict], steps: list[dict], out_dir: Path, title: str, marks: dict[str, int] | None = None
) -> list[Path]:
    """Write loss.png (per-step loss and evaluated losses) and, for classification, accuracy.png.
    `marks` (label → step) draws a labelled vertical line in both, e.g. where a model untied."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []

    fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
    sx, sy = _finite(steps, "loss")
    if sx:
        ax.plot(sx, sy, color="0.75", lw=0.8, label="train (each step)")
    for split, (color, ls) in SPLIT_STYLE.items():
        x, y = _finite(metrics, f"{split}_loss")
        if x:
            ax.plot(
                x, y, color=color, ls=ls, marker="o", ms=2.5, label=f"{split} (mean)" if split == "train" else split
            )
    positive = sy + [v for s in SPLIT_STYLE for v in _finite(metrics, f"{s}_loss")[1]]
    if wants_log_scale(positive):
        ax.set_yscale("log")
    written.append(_finish(plt, fig, ax, marks, "loss", f"{title}: loss", out_dir / "loss.png"))

    if any(_finite(metrics, f"{s}_acc")[0] for s in SPLIT_STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
        for split, (color, ls) in SPLIT_STYLE.items():
            x, y = _finite(metrics, f"{split}_acc")
            if x:
                ax.plot(x, [100 * v for v in y], color=color, ls=ls, marker="o", ms=2.5, label=split)
        written.append(_finish(plt, fig, ax, marks, "accuracy (%)", f"{title}: accuracy", out_dir / "accuracy.png"))
    return written

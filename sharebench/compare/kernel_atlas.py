"""Kernel atlas: the kernels an unshared layer learned at each output position, laid out on the
output grid, beside their mean and the shared kernel of the run's convolutional twin.

For each group whose ConvNet's first layer is unshared or partly shared (locally connected,
soft-tied, dynamic, low-rank, tiled, untied to local) or dense (plain, β-LASSO, untied to dense) —
one run per group, its lowest seed whose weights were saved — two figures:

- kernel_atlas_<group>: for the CHANNELS output channels with the largest mean kernel norm over
  positions, each position's kernel at its place (1-D: a strip whose column p is position p's
  kernel; 2-D: a grid of small images, cell (i, j) for output position (i, j), one grey pixel
  apart), the mean kernel over positions, and, when the comparison holds a convolutional twin (a
  run with the same seed whose settings differ in one key and whose first layer is a conv of the
  same kernel shape), the twin's kernel most like that mean (cosine): a conv's channels are not
  those of another net, so matching by index would pair unrelated kernels. One symmetric colour
  scale per channel over all its images. A dense layer has no kernel per position: in its place,
  each output unit's weights on the whole input grid (1-D: column q is unit q's weights over the
  input positions; 2-D: cell (i, j) an input-sized image), with no mean or twin beside them;
- kernel_atlas_start_end_<group>, when the run kept its initial weights (trainer.save_initial_model):
  the same channels at step 0 and at the end, on one colour scale per channel.

A group whose runs kept no weights is skipped with one line naming trainer.save_model=true.
Kernels are read by kernels.py (torch imported there, only when an atlas is drawn).
"""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sharebench.compare import style
from sharebench.compare.kernels import (
    FIRST_LAYER,
    convnet_input,
    dense_units,
    first_layer_grid,
    is_convnet,
    load_layer,
    position_kernels,
)
from sharebench.compare.run_record import Run
from sharebench.compare.runs import Comparison, format_value
from sharebench.schemes import option
from sharebench.terminal import warn

CHANNELS = 4  # output channels drawn per atlas
CMAP = "RdBu_r"  # diverging: zero white, positive red, negative blue
GAP = "0.72"  # colour of the pixels between 2-D cells


@dataclass
class Subject:
    """One run to draw: its final (and maybe initial) first-layer kernels, and its conv twin's."""

    group: str
    run: Run
    what: str  # the layer kind in words: "locally connected", "soft-tied, λ=0.01", …
    dims: int
    end: np.ndarray  # (*output_size, out, in, *kernel)
    start: np.ndarray | None
    twin: tuple[Run, np.ndarray] | None  # the twin run and its conv kernels (out, in, *kernel)
    dense: bool = False  # end holds each unit's weights on the input grid, (*output_size, out, in, *input_size)


def describe(run: Run) -> str | None:
    """The first layer's sharing in words, or None when it has neither per-position kernels nor dense
    units to draw (a convolution, or a model that is not a ConvNet)."""
    c = run.config
    if not is_convnet(c):
        return None
    layer = c.get("model.layer", "conv")
    if layer == "local":
        if option(c, "tie_strength"):
            return f"soft-tied locally connected, λ={format_value(option(c, 'tie_strength'))}"
        if option(c, "share_every"):
            return f"locally connected, dynamic sharing every {option(c, 'share_every')} steps"
        return "locally connected"
    if layer == "lowrank":
        return f"low-rank locally connected, K={option(c, 'rank')} ({option(c, 'combining')})"
    if layer == "tiled":
        return f"tiled convolution, tile {format_value(option(c, 'tile'))}"
    if layer == "dense":
        lam = option(c, "lasso_strength")
        return f"dense, β-LASSO λ={format_value(lam)}, β={format_value(option(c, 'lasso_beta'))}" if lam else "dense"
    if layer == "conv" and run.summary.get("untied_at_step"):
        to = {"local": "locally connected", "dense": "dense"}.get(option(c, "untie_to"))
        return f"conv untied to {to} at step {run.summary['untied_at_step']}" if to else None
    return None


def _is_conv(run: Run) -> bool:
    c = run.config
    return (
        is_convnet(c)
        and c.get("model.layer", "conv") == "conv"
        and option(c, "untie_at") is None
        and option(c, "match_params_of") is None
    )


def weights_file(run: Run, field: str = "model_file") -> Path | None:
    """The weights summary.json names (model_file, initial_model_file), looked up in the run dir
    itself (the dir may have moved since), or None when the run kept none."""
    name = run.summary.get(field)
    path = run.dir / Path(str(name)).name if name else None
    return path if path is not None and path.is_file() else None


def _seed_order(run: Run):
    seed = format_value(run.value("seed"))
    return (0, int(seed)) if seed.isdigit() else (1, seed)


def _twin(cmp: Comparison, run: Run) -> Run | None:
    """A conv run with the same seed whose grouping values differ from `run`'s in exactly one key."""
    mine = {k: format_value(run.value(k)) for k in cmp.keys}
    for other in cmp.runs:
        if other is run or not _is_conv(other) or weights_file(other) is None:
            continue
        theirs = {k: format_value(other.value(k)) for k in cmp.keys}
        same_seed = format_value(other.value("seed")) == format_value(run.value("seed"))
        if same_seed and sum(mine[k] != theirs[k] for k in cmp.keys) == 1:
            return other
    return None


def subjects(cmp: Comparison) -> tuple[list[tuple[str, Run, str]], list[str]]:
    """([(group, run to draw, description)], [one line per group skipped for want of weights]); no torch."""
    chosen, notes = [], []
    for group in cmp.groups:
        runs = [r for r, label in zip(cmp.runs, cmp.labels) if label == group and describe(r)]
        if not runs:
            continue
        kept = sorted((r for r in runs if weights_file(r)), key=lambda r: (r.status != "completed", _seed_order(r)))
        if kept:
            chosen.append((group, kept[0], describe(kept[0])))
        else:
            notes.append(
                f"sharebench: kernel atlas of {group} skipped: its runs kept no weights "
                f"(model.pt); keep them with trainer.save_model=true"
            )
    return chosen, notes


def _read(run: Run, field: str, dims: int, size: tuple) -> tuple[str | None, np.ndarray | None]:
    """(layer kind, its kernels at each position — a dense layer's units on the input grid)."""
    path = weights_file(run, field)
    if path is None:
        return None, None
    params = load_layer(path, FIRST_LAYER)
    kind, kernels = position_kernels(params, dims, size)
    if kind == "dense":
        return kind, dense_units(params, convnet_input(run.summary.get("input_shape") or []), size)
    return kind, kernels


def load_subject(cmp: Comparison, group: str, run: Run, what: str) -> Subject | None:
    dims, size = first_layer_grid(run.config, run.summary.get("input_shape") or [])
    kind, end = _read(run, "model_file", dims, size)
    if end is None:
        return None
    start = _read(run, "initial_model_file", dims, size)[1]
    if start is not None and start.shape != end.shape:  # a conv at the start, dense once untied: not one picture
        start = None
    twin, twin_kernels = _twin(cmp, run) if kind != "dense" else None, None
    if twin is not None:
        w = load_layer(weights_file(twin), FIRST_LAYER).get("weight")
        twin_kernels = w if w is not None and w.shape == end.shape[dims:] else None
    twin = (twin, twin_kernels) if twin_kernels is not None else None
    return Subject(group, run, what, dims, end, start, twin, dense=kind == "dense")


def chosen_channels(kernels: np.ndarray, dims: int, n: int = CHANNELS) -> list[int]:
    """The n output channels with the largest mean over positions of the kernel's norm."""
    norms = np.linalg.norm(kernels.reshape(*kernels.shape[: dims + 1], -1), axis=-1)  # (*positions, out)
    mean = norms.reshape(-1, norms.shape[-1]).mean(0)
    return [int(o) for o in np.argsort(-mean, kind="stable")[:n]]


def cell(kernel: np.ndarray, dims: int) -> np.ndarray:
    """One position's kernel (in, *kernel) as the small image drawn for it: 1-D a column (in·k rows,
    input channels one after another); 2-D kh × in·kw (input channels side by side)."""
    if dims == 1:
        return kernel.reshape(-1, 1)
    return np.concatenate(list(kernel), axis=1)


def mosaic(kernels: np.ndarray, dims: int) -> np.ndarray:
    """One output channel's kernels (*output_size, in, *kernel) at their positions, as one image.
    1-D: column p is cell(position p) (a strip). 2-D: cell(i, j) at rows i·(kh+1)…, columns
    j·(w+1)… with w its width; the row and column between cells are NaN (drawn grey)."""
    if dims == 1:
        return np.concatenate([cell(k, 1) for k in kernels], axis=1)
    rows, cols = kernels.shape[:2]
    h, w = cell(kernels[0, 0], 2).shape
    out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan, dtype=np.float64)
    for i in range(rows):
        for j in range(cols):
            out[i * (h + 1) : i * (h + 1) + h, j * (w + 1) : j * (w + 1) + w] = cell(kernels[i, j], 2)
    return out


def _closest(mean: np.ndarray, conv: np.ndarray) -> tuple[int, float]:
    """The conv channel whose kernel is most like `mean` (cosine), and that cosine."""
    flat, m = conv.reshape(conv.shape[0], -1), mean.reshape(-1)
    cos = flat @ m / np.maximum(np.linalg.norm(flat, axis=1) * np.linalg.norm(m), 1e-30)
    j = int(np.argmax(cos))
    return j, float(cos[j])


def _channel_panel(sub, rows: list[tuple[str, np.ndarray, list[tuple[str, np.ndarray]]]], dims: int, title: str):
    """One channel: each row a mosaic (its label above) and its small images (short labels);
    one symmetric colour scale over every image of the channel."""
    plt = style.plt()
    images = [img for _, mos, cells in rows for img in [mos, *(c for _, c in cells)]]
    top = max(float(np.nanmax(np.abs(img))) for img in images) or 1.0
    cmap = plt.get_cmap(CMAP).with_extremes(bad=GAP)
    # clip_on=False: each image fills its axes anyway, and matplotlib names an image's clip path in SVG
    # by an object id, which would make a re-plot differ byte for byte
    draw = dict(cmap=cmap, vmin=-top, vmax=top, interpolation="nearest", aspect="equal", clip_on=False)
    ncells = max(len(cells) for _, _, cells in rows)
    width = rows[0][1].shape[1]
    bar = 0.04 * width if dims == 2 else 0.5  # the colour bar's column, last
    if dims == 1 or not ncells:  # small images beside the strip, each about as wide as its label
        grid = sub.add_gridspec(len(rows), 2 + ncells, width_ratios=[width] + [1.6] * ncells + [bar])
    else:  # small images stacked in a column beside the grid
        grid = sub.add_gridspec(len(rows), 3, width_ratios=[width, 0.3 * width, bar])
    drawn = []
    for r, (label, image, cells) in enumerate(rows):
        ax = sub.add_subplot(grid[r, 0])
        drawn.append(ax.imshow(image, **draw))
        _position_ticks(ax, image.shape, dims, last=r == len(rows) - 1)
        ax.set_title(label, fontsize=8, loc="left")
        beside = dims == 1 or not ncells
        slots = [grid[r, 1 + c] for c in range(len(cells))] if beside else list(grid[r, 1].subgridspec(ncells, 1))
        for slot, (text, img) in zip(slots, cells):
            small = sub.add_subplot(slot)
            small.imshow(img, **draw)
            small.set_xticks([])
            small.set_yticks([])
            small.set_title(text, fontsize=8)
    bar_ax = sub.add_subplot(grid[:, -1])
    sub.colorbar(drawn[0], cax=bar_ax)
    bar_ax.tick_params(labelsize=7)
    sub.suptitle(title, fontsize=9, x=0.01, ha="left")


def _position_ticks(ax, shape, dims, last: bool) -> None:
    """Ticks in output positions: 1-D along x (taps unlabelled); 2-D rows and columns of cells."""
    if dims == 1:
        n = shape[1]
        ticks = list(range(0, n, max(1, n // 8)))
        ax.set_xticks(ticks, [str(t) for t in ticks] if last else [])
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
        if last:
            ax.set_xlabel("output position", fontsize=8)
        return
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("output column →", fontsize=8)
    ax.set_ylabel("output row →", fontsize=8)


def _layout(dims: int, n: int, panel_rows: int, cells: int) -> tuple[int, int, float]:
    """(rows, columns) of channel panels and inches per mosaic: 1-D strips stack, filling the width;
    2-D grids stack when a panel holds one (large: its kernels stay readable), else go two abreast."""
    if dims == 1:
        return n, 1, min(2.5, max(0.6, 5.4 * cells))
    return (n, 1, 4.6) if panel_rows == 1 else ((n + 1) // 2, min(n, 2), 2.7)


def _figure(s: Subject, rows_of, when: str, note: str = ""):
    """rows_of(channel) → (rows, panel title); channel panels laid out by _layout, under a title
    naming the run, the layer and the rule that chose the channels."""
    plt = style.plt()
    channels = chosen_channels(s.end, s.dims)
    rows = rows_of(channels[0])[0]
    (h, w), panel_rows = rows[0][1].shape, len(rows)
    nrows, ncols, per_row = _layout(s.dims, len(channels), panel_rows, h / w)
    fig = plt.figure(
        figsize=(7.2 if ncols == 1 else 8.0, 1.0 + nrows * (0.45 + per_row * panel_rows)), layout="constrained"
    )
    subs = fig.subfigures(nrows, ncols, squeeze=False).ravel()
    for sub, o in zip(subs, channels):
        rows, panel_title = rows_of(o)
        _channel_panel(sub, rows, s.dims, panel_title)
    for sub in subs[len(channels) :]:
        sub.set_visible(False)
    out, inputs = s.end.shape[s.dims], s.end.shape[s.dims + 1]
    grid, kernel = "×".join(map(str, s.end.shape[: s.dims])), "×".join(map(str, s.end.shape[s.dims + 2 :]))
    reach, part = (f"each unit over the {kernel} input", "unit") if s.dense else (f"kernel {kernel}", "kernel")
    fig.suptitle(
        f"kernel atlas of {s.group}, {when}: run {_name(s.run)}, seed {format_value(s.run.value('seed'))}\n"
        f"layer {FIRST_LAYER} ({s.what}): {grid} output positions, {inputs} input channel"
        f"{'s' * (inputs != 1)}, {reach}\n"
        f"channels {', '.join(map(str, channels))}: the {len(channels)} of {out} with the largest mean {part} "
        f"norm over positions{note}",
        fontsize=10,
    )
    return fig


def atlas_figure(s: Subject):
    """The final kernels of the chosen channels at their positions, their mean, and the conv twin's."""

    def rows_of(o):
        kernels = np.take(s.end, o, axis=s.dims)  # (*positions, in, *kernel)
        if s.dense:  # units over the whole input: no kernel for a mean or a twin to stand for
            label = (
                "each unit's weights, input positions top to bottom" if s.dims == 1 else "each unit on the input grid"
            )
            return [(label, mosaic(kernels, s.dims), [])], f"channel {o}"
        mean = kernels.reshape(-1, *kernels.shape[s.dims :]).mean(0)
        cells, title = [("mean", cell(mean, s.dims))], f"channel {o}"
        if s.twin is not None:
            j, cos = _closest(mean, s.twin[1])
            cells.append(("conv", cell(s.twin[1][j], s.dims)))
            title += f" · conv: twin's channel {j}, cosine {cos:.2f}"
        return [("kernel at each position", mosaic(kernels, s.dims), cells)], title

    twin = (
        f"\nconv: the kernel of the conv twin (run {_name(s.twin[0])}) most like each mean (cosine)" if s.twin else ""
    )
    fig = _figure(s, rows_of, f"end of training ({_steps(s.run)} steps)", twin)
    return f"kernel_atlas_{slug(s.group)}", fig


def start_end_figure(s: Subject):
    """The chosen channels' kernels at step 0 and at the end, each beside its mean over positions."""
    if s.start is None:
        return None

    def rows_of(o):
        rows = []
        for label, kernels in (("start (step 0)", s.start), (f"end (step {_steps(s.run)})", s.end)):
            k = np.take(kernels, o, axis=s.dims)
            mean = [] if s.dense else [("mean", cell(k.reshape(-1, *k.shape[s.dims :]).mean(0), s.dims))]
            rows.append((label, mosaic(k, s.dims), mean))
        return rows, f"channel {o}"

    fig = _figure(s, rows_of, "start and end of training")
    return f"kernel_atlas_start_end_{slug(s.group)}", fig


def _steps(run: Run) -> str:
    steps = run.summary.get("steps")
    return f"{steps:,}" if isinstance(steps, int) else str(steps)


def _name(run: Run) -> str:
    """A run dir's name, with its sweep's for a numbered job (2026-12-01/10-00-00-000000/3)."""
    return f"{run.dir.parent.name}/{run.dir.name}" if run.dir.name.isdigit() else run.dir.name


def slug(group: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", group).strip("_") or "run"


def atlas_figures(cmp: Comparison) -> list[tuple[str, object]]:
    """(stem, Figure) of every atlas the runs have weights for; a line on stderr for each group
    skipped for want of weights. Imports torch only when there is an atlas to draw."""
    chosen, notes = subjects(cmp)
    for note in notes:
        warn(note)
    made = []
    for group, run, what in chosen:
        try:
            s = load_subject(cmp, group, run, what)
        except Exception as err:  # a damaged or foreign weights file: said in one line, the rest still drawn
            warn(f"sharebench: kernel atlas of {group} skipped: the weights in {run.dir} cannot be read ({err!s:.120})")
            continue
        if s is not None:
            made += [f for f in (atlas_figure(s), start_end_figure(s)) if f is not None]
    return made

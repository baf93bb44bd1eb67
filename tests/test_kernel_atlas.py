"""The kernel atlas: per-position kernels read from saved weights as the layers themselves compute
them, and the figures `plot` draws from real (tiny) 1-D and 2-D runs, checked on the figure objects."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.commands import run_in_process, sharebench
from helpers.configs import TINY, make_cfg
from omegaconf import OmegaConf

from sharebench.compare.kernel_atlas import CHANNELS, atlas_figures, describe, mosaic
from sharebench.compare.kernels import dense_units, first_layer_grid, is_convnet, position_kernels
from sharebench.compare.run_record import Run
from sharebench.compare.runs import compare
from sharebench.configs import available_options, flatten
from sharebench.errors import UserError
from sharebench.models import build
from sharebench.models.cnn import DenseMap
from sharebench.models.layers import LocallyConnected1d, LocallyConnected2d
from sharebench.models.lowrank import COMBINING, LowRankLocallyConnected1d, LowRankLocallyConnected2d
from sharebench.models.tiled import TiledConv1d, TiledConv2d

LAYERS = [
    ("local 1-D", lambda: LocallyConnected1d(2, 3, 12, 3, stride=2, padding=1)),
    ("local 2-D", lambda: LocallyConnected2d(2, 3, (6, 7), 3, stride=(1, 2), padding=1)),
    ("tiled 1-D", lambda: TiledConv1d(2, 3, 12, 3, tile=3)),
    ("tiled 2-D", lambda: TiledConv2d(2, 3, (6, 7), 3, tile=(2, 3))),
    ("tiled clamped", lambda: TiledConv2d(1, 3, (4, 4), 3, tile=9)),
    ("lowrank 1-D", lambda: LowRankLocallyConnected1d(2, 3, 12, 3, rank=3)),
    *[
        (f"lowrank 2-D {c}", lambda c=c: LowRankLocallyConnected2d(2, 3, (6, 7), 3, rank=3, combining=c))
        for c in COMBINING
    ],
]


@pytest.fixture(autouse=True)
def close_figures():
    """Each test's figures closed after it: many atlases open at once make matplotlib warn."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.parametrize("make", [m for _, m in LAYERS], ids=[name for name, _ in LAYERS])
def test_kernels_from_a_state_dict_are_what_the_layer_applies(make):
    torch.manual_seed(0)
    layer = make()
    with torch.no_grad():  # logits start at 0 (every position the same mix): make them differ
        for name, p in layer.named_parameters():
            if name.startswith("combining"):
                p.normal_()
    state = {k: v.numpy() for k, v in layer.state_dict().items()}
    kind, kernels = position_kernels(state, len(layer.output_size), layer.output_size)
    assert kind == ("lowrank" if hasattr(layer, "basis") else "banks")
    np.testing.assert_allclose(kernels, layer.position_kernels().detach().numpy(), rtol=0, atol=1e-6)


def test_a_conv_is_one_kernel_everywhere_and_a_dense_map_none():
    conv = torch.nn.Conv2d(2, 3, 3)
    kind, kernels = position_kernels({"weight": conv.weight.detach().numpy()}, 2, (4, 5))
    assert kind == "conv" and kernels.shape == (4, 5, 3, 2, 3, 3)
    np.testing.assert_array_equal(kernels[3, 1], conv.weight.detach().numpy())
    assert position_kernels({"weight": np.zeros((60, 32)), "bias": np.zeros(60)}, 2, (4, 5)) == ("dense", None)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A real sweep: a conv and its locally connected twin, on 1×8×8 images and on length-16 sequences,
    with the weights kept at the start and the end."""
    cwd = tmp_path_factory.mktemp("atlas")
    out = sharebench(
        "run",
        "-m",
        "model=shared_cnn,local_cnn",
        *(o for o in TINY if not o.startswith("dataset.shape=")),
        "dataset.shape=[1,8,8],[1,16]",
        "trainer.max_steps=3",
        "trainer.plots=false",
        "trainer.save_initial_model=true",
        "hydra.sweep.dir=sweep",
        "hydra.callbacks.comparison.enabled=false",  # the tests plot it themselves
        cwd=cwd,
        timeout=900,
        env={"OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return cwd / "sweep"


def panels(fig) -> list[dict]:
    """Per channel panel: its title and {image label: (data, clim)} of its images."""
    out = []
    for sub in fig.subfigs:
        if not sub.get_visible():
            continue
        images = {}
        for ax in sub.axes:
            for im in ax.get_images():
                label = ax.get_title(loc="left") or ax.get_title()
                images[label] = (np.ma.filled(im.get_array(), np.nan), im.get_clim())
        out.append({"title": sub._suptitle.get_text(), "images": images})
    return out


def layer_weights(run_dir, name="model.pt") -> np.ndarray:
    return torch.load(run_dir / name, weights_only=True)["conv1.weight"].numpy()


def channels_by_norm(weight: np.ndarray, dims: int) -> list[int]:
    """Independently of the module: output channels by mean over positions of ‖kernel‖, largest first."""
    norms = np.sqrt((weight.reshape(*weight.shape[: dims + 1], -1) ** 2).sum(-1))
    return list(np.argsort(-norms.reshape(-1, weight.shape[dims]).mean(0), kind="stable")[:CHANNELS])


def figures(sweep) -> dict:
    return dict(atlas_figures(compare([sweep])))


@pytest.mark.parametrize("dims", [1, 2])
def test_the_atlas_places_each_kernel_at_its_position_on_one_scale_per_channel(sweep, dims):
    shape = [1, 8, 8] if dims == 2 else [1, 16]
    made = figures(sweep)  # the local_cnn groups only: a conv has one kernel, nothing to lay out
    assert set(made) == {
        f"kernel_atlas{part}_local_cnn_shape_{s}" for part in ("", "_start_end") for s in ("1_8_8", "1_16")
    }
    cmp = compare([sweep])
    run, twin = (
        next(r for r in cmp.runs if r.value("model") == m and r.config["dataset.shape"] == shape)
        for m in ("local_cnn", "shared_cnn")
    )
    weight, conv = layer_weights(run.dir), layer_weights(twin.dir)
    fig = made[f"kernel_atlas_local_cnn_shape_{'_'.join(map(str, shape))}"]
    chosen = channels_by_norm(weight, dims)
    found = panels(fig)
    assert len(found) == CHANNELS  # one panel per chosen channel
    title = fig._suptitle.get_text()
    assert "conv1" in title and f"channels {', '.join(map(str, chosen))}" in title
    assert run.dir.name in title and "local_cnn" in title and "largest mean kernel norm" in title
    for o, panel in zip(chosen, found):
        assert panel["title"].startswith(f"channel {o} ")
        image, _ = panel["images"]["kernel at each position"]
        kernels = weight[..., o, :, :] if dims == 1 else weight[:, :, o]
        for position in np.ndindex(*kernels.shape[:dims]):
            if dims == 1:
                np.testing.assert_array_equal(image[:, position[0]], kernels[position].ravel())
            else:
                i, j = position
                np.testing.assert_array_equal(image[i * 4 : i * 4 + 3, j * 4 : j * 4 + 3], kernels[i, j, 0])
        mean = kernels.reshape(-1, *kernels.shape[dims:]).mean(0)
        np.testing.assert_allclose(panel["images"]["mean"][0].reshape(mean.shape), mean, rtol=1e-6)
        # the conv twin's kernel most like the mean (cosine), named in the panel's title
        flat = conv.reshape(conv.shape[0], -1)
        j = int(np.argmax(flat @ mean.ravel() / np.linalg.norm(flat, axis=1)))
        assert f"twin's channel {j}," in panel["title"]
        np.testing.assert_array_equal(panel["images"]["conv"][0].reshape(conv[j].shape), conv[j])
        clims = {clim for _, clim in panel["images"].values()}
        top = max(np.nanmax(np.abs(data)) for data, _ in panel["images"].values())
        assert clims == {(-top, top)}  # one symmetric scale over every image of the channel


def test_start_and_end_are_the_initial_and_final_weights(sweep):
    made = figures(sweep)
    stem = next(k for k in made if k.startswith("kernel_atlas_start_end_local_cnn") and "8_8" in k)
    runs = compare([sweep]).runs
    run = next(r for r in runs if r.value("model") == "local_cnn" and r.config["dataset.shape"] == [1, 8, 8])
    start, end = layer_weights(run.dir, "model_init.pt"), layer_weights(run.dir)
    assert not np.array_equal(start, end)
    for panel in panels(made[stem]):
        o = int(panel["title"].split()[1])
        labels = list(panel["images"])
        assert labels[0] == "start (step 0)" and labels[1].startswith("mean") and "end (step 3)" in labels
        np.testing.assert_array_equal(panel["images"]["start (step 0)"][0], mosaic(start[:, :, o], 2))
        np.testing.assert_array_equal(panel["images"]["end (step 3)"][0], mosaic(end[:, :, o], 2))
        assert len({clim for _, clim in panel["images"].values()}) == 1


def test_no_atlas_for_a_conv_or_runs_without_weights_and_one_line_naming_the_switch(sweep, tmp_path):
    bare = tmp_path / "sweep"
    shutil.copytree(sweep, bare, ignore=shutil.ignore_patterns("*.pt", "comparison"))
    code = (
        "import sys; from sharebench.cli import main\n"
        f"assert main(['plot', {str(bare)!r}, '--out', {str(tmp_path / 'out')!r}]) == 0\n"
        "assert 'torch' not in sys.modules, 'plot imported torch with no atlas to draw'"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stderr.splitlines() if "kernel atlas" in line]
    assert len(lines) == 2  # one per group of local_cnn runs (two input shapes); none for the convs
    assert all("trainer.save_model=true" in line for line in lines)
    assert not list((tmp_path / "out").glob("kernel_atlas*"))


def test_report_shows_the_atlas(sweep, tmp_path):
    out = sharebench("report", str(sweep), "--out", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = (tmp_path / "report.md").read_text()
    assert "(kernel_atlas_local_cnn_shape_1_8_8.png)" in report
    assert "(kernel_atlas_start_end_local_cnn_shape_1_16.png)" in report
    assert "Kernel atlas" in report


@pytest.mark.parametrize("model", [m for m in available_options()["model"]])
@pytest.mark.parametrize("shape", [[1, 28, 28], [1, 40]])
def test_the_first_layer_grid_from_the_config_is_the_built_layer_s(model, shape):
    cfg = make_cfg(f"model={model}", "dataset=synthetic", f"dataset.shape=[{','.join(map(str, shape))}]")
    config = flatten(OmegaConf.to_container(cfg, resolve=True))
    if not is_convnet(config):
        return  # the atlas draws ConvNets only
    with torch.device("meta"):
        try:
            net = build(cfg.model, tuple(shape), 10)
        except UserError:
            pytest.skip(f"{model} does not fit a {shape} input")
        size = tuple(net.conv1(torch.empty(1, *shape)).shape[2:])
    assert first_layer_grid(config, shape) == (len(shape) - 1, size)


def test_a_damaged_weights_file_is_one_line_and_the_other_atlases_are_drawn(sweep, tmp_path, capsys):
    copy = tmp_path / "sweep"
    shutil.copytree(sweep, copy, ignore=shutil.ignore_patterns("comparison"))
    cmp = compare([copy])
    bad = next(r for r in cmp.runs if r.value("model") == "local_cnn" and r.config["dataset.shape"] == [1, 16])
    (bad.dir / "model.pt").write_bytes(b"PK\x03\x04 cut short")
    made = dict(atlas_figures(cmp))
    assert set(made) == {"kernel_atlas_local_cnn_shape_1_8_8", "kernel_atlas_start_end_local_cnn_shape_1_8_8"}
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "local_cnn, shape=[1,16]" in lines[0] and "cannot be read" in lines[0]


# --- dense layers: each unit's weights on the input grid --------------------------------------


@pytest.mark.parametrize("input_size, output_size", [((12,), (6,)), ((5, 4), (3, 2))])
def test_dense_units_are_what_the_map_applies_to_each_input_position(input_size, output_size):
    torch.manual_seed(0)
    layer = DenseMap(2, 3, input_size, output_size)
    units = dense_units({"weight": layer.weight.detach().numpy()}, (2, *input_size), output_size)
    assert units.shape == (*output_size, 3, 2, *input_size)
    with torch.no_grad():  # the response to a one-hot input at (channel c, position p), less the bias
        for c, *p in np.ndindex(2, *input_size):
            x = torch.zeros(1, 2, *input_size)
            x[(0, c, *p)] = 1
            response = (layer(x) - layer(torch.zeros_like(x)))[0].numpy()  # (out, *output_size)
            np.testing.assert_allclose(np.moveaxis(units[(..., c, *p)], -1, 0), response, atol=1e-6)


@pytest.fixture(scope="module")
def dense_sweep(tmp_path_factory):
    """A real sweep of the dense net, plain and under β-LASSO, on 1×8×8 images and length-16
    sequences, with the weights kept at the start and the end."""
    sweep = tmp_path_factory.mktemp("dense") / "sweep"
    shapes = "dataset.shape=[1,8,8],[1,16]"
    run = ("trainer.max_steps=3", "trainer.plots=false", "trainer.save_initial_model=true", "trainer.threads=1")
    tiny = (o for o in TINY if not o.startswith("dataset.shape="))
    args = ["-m", *tiny, shapes, *run, "spectrum=dense,dense_blasso", f"hydra.sweep.dir={sweep}"]
    assert run_in_process([*args, "hydra.callbacks.comparison.enabled=false"]) == 0
    return sweep


@pytest.mark.parametrize("dims", [1, 2])
def test_a_dense_layer_draws_each_units_weights_on_the_input_grid(dense_sweep, dims):
    shape = [1, 8, 8] if dims == 2 else [1, 16]
    made = figures(dense_sweep)
    suffix = f"shape_{'_'.join(map(str, shape))}"
    assert {
        f"kernel_atlas{part}_{suffix}_{g}" for part in ("", "_start_end") for g in ("dense", "dense_blasso")
    } <= set(made)
    run = next(
        r
        for r in compare([dense_sweep]).runs
        if r.value("spectrum") == "dense_blasso" and r.config["dataset.shape"] == shape
    )
    weight = layer_weights(run.dir)  # (out · positions, in · positions): the DenseMap's own layout
    size = (8, 8) if dims == 2 else (16,)  # kernel 3, padding 1, stride 1: the output grid is the input's
    units = weight.reshape(16, *size, 1, *size)  # unit (o, q) over (in, *input), independently of the module
    fig = made[f"kernel_atlas_{suffix}_dense_blasso"]
    title = fig._suptitle.get_text()
    assert "dense, β-LASSO λ=0.0001, β=50" in title and f"each unit over the {'×'.join(map(str, size))} input" in title
    assert "largest mean unit norm" in title and "conv:" not in title
    for panel in panels(fig):
        o = int(panel["title"].split()[1])
        (_, (image, _)), *others = panel["images"].items()
        assert not others  # no mean and no twin: a unit is not a kernel
        for q in np.ndindex(*size):
            if dims == 1:
                np.testing.assert_array_equal(image[:, q[0]], units[o, q[0], 0])
            else:
                i, j = q
                np.testing.assert_array_equal(image[i * 9 : i * 9 + 8, j * 9 : j * 9 + 8], units[o, i, j, 0])
    start_end = panels(made[f"kernel_atlas_start_end_{suffix}_dense"])
    assert all(list(p["images"])[0] == "start (step 0)" and len(p["images"]) == 2 for p in start_end)


def test_a_conv_is_described_as_dense_once_untied_to_dense():
    def run(config, summary):
        return Run(
            Path("r"), "completed", summary, config={"model._target_": "sharebench.models.cnn.ConvNet", **config}
        )

    untied = run({"model.layer": "conv", "model.untie_to": "dense"}, {"untied_at_step": 300})
    assert describe(untied) == "conv untied to dense at step 300"
    assert describe(run({"model.layer": "conv", "model.untie_to": "dense"}, {})) is None  # not untied yet
    assert describe(run({"model.layer": "dense"}, {})) == "dense"

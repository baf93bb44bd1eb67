"""Every figure a report shows has a caption that says what it shows, not its file name: on
hand-made sweeps that make every figure plot_comparison draws without saved weights (the kernel
atlases, which need them, are tested in test_kernel_atlas.py)."""

import re

from helpers.runs import fraction_sweep, make_run

from sharebench.compare.comparison_files import write_comparison
from sharebench.compare.report import write_report

DIAGNOSTICS = "step,train_loss,test_loss,test_acc,conv1_snr,conv1_neighbor_dist\n100,1.0,1.0,0.5,0.1,2.0\n200,0.8,0.8,0.8,0.2,1.0\n"


def _spectrum(root):
    """Spectrum points with diagnostics and test shifts: spectrum, sharing_diagnostics, vs_shift, pairs."""
    for i, (name, params) in enumerate((("conv", 5_000), ("lowrank_k4", 17_000), ("local", 32_000))):
        for seed in range(2):
            shifts = {"test_acc_shift0": 0.8, "test_acc_shift1": 0.7, "test_acc_shift2": 0.6}
            run = make_run(
                root,
                f"{i}{seed}",
                "mnist1d_cnn",
                seed,
                0.8 + seed / 100 - i / 20,
                params=params,
                extra={"spectrum": name},
                summary=shifts,
                evals=((100, 1.0, 0.5), (200, 0.8, 0.8)),
            )
            if name != "conv":
                (run / "metrics.csv").write_text(DIAGNOSTICS)


def _fractions(root):
    fraction_sweep(root)


def _lam(root):
    for mode in ("soft", "hard"):
        for lam in (0, 0.001, 0.1):
            for seed in range(2):
                make_run(
                    root,
                    f"{mode}{lam}{seed}",
                    "tied_pair",
                    seed,
                    0.7 + seed / 100 - lam * (mode == "soft"),
                    extra={"model.mode": mode, "model.lam": lam},
                )


def test_no_figure_of_a_report_is_captioned_by_its_file_name(tmp_path):
    shown = {}
    for build in (_spectrum, _fractions, _lam):
        root = tmp_path / build.__name__
        build(root)
        cmp, table, paired, files = write_comparison([str(root)], out=tmp_path / f"{build.__name__}_out")
        text = write_report([str(root)], cmp, table, files, paired).read_text()
        for caption, name in re.findall(r"!\[(.*?)\]\((.*?)\)", text):
            stem = name.rsplit("/", 1)[-1].removesuffix(".png")
            assert f"*{caption}*" in text
            shown[stem] = caption
    assert {
        "spectrum",
        "sharing_diagnostics",
        "test_acc_vs_shift",
        "test_acc_vs_train_fraction",
        "test_acc_vs_lam",
        "test_acc_vs_params",
        "test_acc_by_group",
        "curves_loss",
        "curves_acc",
        "paired_differences",
    } <= set(shown)
    named = {stem: caption for stem, caption in shown.items() if caption == stem or len(caption.split()) < 8}
    assert not named, named
    assert "{" not in "".join(shown.values())
    assert "symlog" in shown["test_acc_vs_lam"] and "signal-to-noise" in shown["sharing_diagnostics"]

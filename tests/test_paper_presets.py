"""Presets that reproduce a paper, run for a few steps on genuine dataset files written here.

Each preset is run through the CLI exactly as its header says (plus what keeps it short: few steps,
one seed, a small validation set for the small files), then `sharebench report` must show the paper's
numbers beside the measured ones. The files hold random pixels, so the accuracies mean nothing.
"""

import pytest
from helpers import datafiles
from helpers.commands import sharebench
from helpers.configs import make_cfg

PRESETS = {
    # experiment: (models swept, the paper's references as report.md prints them, writer of the files,
    #              overrides the files need)
    "ott2020_mnist": (
        ("ott2020_mnist_cnn", "ott2020_mnist_local_cnn"),
        ("99.05", "98.81"),
        lambda root: datafiles.write_mnist(root, n_train=600, n_test=100),
        (),
    ),
    "ott2020_cifar10": (
        ("ott2020_cifar_cnn", "ott2020_cifar_local_cnn"),
        ("67.10", "64.70"),
        lambda root: datafiles.write_cifar(root, per_batch=80, n_test=50),
        ("dataset.check_md5=false",),
    ),  # our random batches, not the published ones
}


@pytest.mark.parametrize("experiment", PRESETS)
def test_paper_preset_runs_and_reports_the_paper(tmp_path, experiment):
    models, references, write, files = PRESETS[experiment]
    data = tmp_path / "data"
    write(data)
    out = sharebench(
        "run",
        "-m",
        f"experiment={experiment}",
        "hydra.sweeper.params.seed=0",
        f"dataset.root={data}",
        "dataset.download=false",
        *files,
        "dataset.val_size=100",
        "trainer.max_steps=3",
        "trainer.eval_every=3",
        "trainer.progress=false",
        "trainer.plots=false",
        "trainer.save_model=false",
        cwd=tmp_path,
        env={"OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    (sweep,) = (tmp_path / "results" / "multirun").glob("*/*")
    assert sorted(p.name for p in sweep.iterdir() if p.name.isdigit()) == ["0", "1"]

    rep = sharebench("report", str(sweep), "--out", str(tmp_path / "rep"), cwd=tmp_path)
    assert rep.returncode == 0, rep.stderr[-3000:]
    text = (tmp_path / "rep" / "report.md").read_text()
    assert text.count("| completed |") == 2
    assert "## Paper vs measured: Ott et al. 2020" in text and "`final_val_acc`" in text
    for model, reference in zip(models, references):
        row = next(line for line in text.splitlines() if line.startswith(f"| model={model} |"))
        assert f"| {model} | 1 | {reference} |" in row and "not run" not in row, row


@pytest.mark.parametrize("experiment", PRESETS)
def test_paper_preset_keeps_the_papers_training_set_size(experiment):
    """val_size is chosen so that the training set is as large as the paper's (56,000 / 48,000)."""
    cfg = make_cfg(f"experiment={experiment}")
    full = {"mnist": 60_000, "cifar10": 50_000}[cfg.dataset.name]
    assert full - cfg.dataset.val_size == {"mnist": 56_000, "cifar10": 48_000}[cfg.dataset.name]
    assert cfg.dataset.download is True and cfg.augment.translate == 0 and cfg.augment.flip is False

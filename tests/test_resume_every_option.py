"""Every shipped model and spectrum point survives an interruption: each option of conf/model/ and
conf/spectrum/ (found there, not listed here) is stopped at a step inside its first epoch and again
after any switch it makes (untie_at, dynamic sharing's share_every), resumed each time, and must
give the curves and final metrics of the run that was never interrupted (CPU, same seed)."""

import pytest
from helpers.configs import make_cfg
from helpers.runs import curves, stopper

from sharebench.checks.dry_build import dry_build
from sharebench.checks.values import check_config
from sharebench.configs import available_options
from sharebench.errors import UserError
from sharebench.records.checkpoints import load_checkpoint
from sharebench.run import experiment

OPTIONS = [("model", name) for name in available_options()["model"]] + [
    ("spectrum", name) for name in available_options()["spectrum"]
]
# the smallest data each option can take, tried in this order: images, sequences, larger images
SHAPES = ([1, 8, 8], [1, 16], [1, 28, 28], [3, 32, 32])
STEPS_PER_EPOCH = 4
TINY_DATA = (
    "dataset=synthetic",
    "dataset.train_size=32",
    "dataset.val_size=8",
    "dataset.test_size=8",
    "trainer.batch_size=8",
    "trainer.eval_batch_size=8",
    "trainer.progress=false",
    "trainer.plots=false",
    "trainer.save_model=false",
)


def tiny_config(group: str, name: str):
    """`group=name` composed once, on the smallest synthetic data it accepts, offline."""
    cfg = make_cfg(f"{group}={name}", *TINY_DATA)
    if cfg.model.get("weights") == "imagenet":  # a pretrained backbone: no download in tests
        cfg.model.weights = "none"
    for shape in SHAPES:
        cfg.dataset.shape = shape
        try:
            check_config(cfg)
            dry_build(cfg)
        except UserError:
            continue
        return cfg
    raise AssertionError(f"{group}={name} takes none of the shapes {SHAPES}")


def switch_step(cfg) -> int:
    """The step at which the model changes how it shares (untie_at, share_every), or 0."""
    return max(int(cfg.model.get("scheme", {}).get(key) or 0) for key in ("untie_at", "share_every"))


@pytest.mark.parametrize("group, name", OPTIONS, ids=[f"{g}={n}" for g, n in OPTIONS])
def test_interrupted_inside_the_first_epoch_and_after_its_switch_equals_uninterrupted(tmp_path, group, name):
    cfg = tiny_config(group, name)
    switch = switch_step(cfg)
    total = max(2 * STEPS_PER_EPOCH, switch + STEPS_PER_EPOCH)
    cfg.trainer.max_steps, cfg.trainer.eval_every = total, max(3, total // 6)
    stops = [2] + ([switch + 1] if switch else [])  # global steps at which the run is stopped
    assert stops[0] < STEPS_PER_EPOCH and all(s < total for s in stops)

    reference = experiment.run(cfg, tmp_path / "whole")
    pieces = tmp_path / "pieces"
    done = 0
    for stop in stops:
        summary = experiment.run(cfg, pieces, should_stop=stopper(stop - done), resume=load_checkpoint(pieces))
        assert summary["status"] == "interrupted" and summary["steps"] == stop
        done = stop
    final = experiment.run(cfg, pieces, resume=load_checkpoint(pieces))
    assert final["status"] == "completed" and final["resumed_from_step"] == stops[-1]
    assert curves(pieces) == curves(tmp_path / "whole")
    finals = [k for k in reference if k.startswith(("final_", "best_"))] + ["steps", "untied_at_step"]
    differ = [k for k in finals if not same(final.get(k), reference.get(k))]
    assert not differ, {k: (final.get(k), reference.get(k)) for k in differ}


def same(a, b) -> bool:
    return a == b or (a != a and b != b)  # NaN (a metric a task has not) equals NaN

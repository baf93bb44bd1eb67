"""What the per-layer locality, sharing and width (sharebench/models/position_maps.py) cost a run, at
each evaluation: the metrics of every block against one evaluation period of the same run, timed side
by side. A period is the training steps between two evaluations plus the evaluation itself (what a run
spends per evaluation); the goal is at most 5%.

Cases: every conf/spectrum/ point on the default run (`sharebench run spectrum=<point>`: shared_cnn on
MNIST-1D, an evaluation per epoch), the sharing_spectrum preset's costliest points (its paper CNN,
evaluations every 250 steps), and a 28×28 locally connected net, whose metrics are timed against its
evaluation alone (10,000 test and 5,000 validation examples, as dataset=mnist's), a bound that holds a
fortiori for its period. One thread, as `trainer.threads=1`, on both sides of every ratio."""

import copy

import torch

from scripts.bench.harness import cfg, side_by_side
from sharebench import data, models
from sharebench.configs import available_options
from sharebench.models.position_maps import position_map_metrics
from sharebench.train.loop import autocast_for, evaluate, fit
from sharebench.train.optimizers import build_optimizer

BASE = ["trainer.progress=false", "trainer.threads=1"]
IMAGES = ["dataset=synthetic", "dataset.shape=[1,28,28]", "dataset.val_size=5000", "dataset.test_size=10000"]


def _setup(overrides, device):
    c = cfg(*BASE, *overrides)
    splits = data.load(c.dataset).to(device)
    torch.manual_seed(0)
    return c, splits, models.build(c.model, splits.input_shape, splits.num_outputs).to(device)


def _period(c, splits, initial, device):
    """One evaluation period of the run from `initial`: its steps between evaluations, then one."""
    per_epoch = -(-len(splits.train[0]) // c.trainer.batch_size)
    c.trainer.max_steps = c.trainer.eval_every or per_epoch

    def run():
        model = copy.deepcopy(initial)
        opt = build_optimizer(c.optim, model.parameters())
        fit(model, splits, opt, c.trainer, device, 0, lambda row: None, lambda rows: None)

    return run, c.trainer.max_steps


def _evaluation(c, splits, model, device):
    """The evaluation alone: validation and test, as the loop measures them."""
    pairs = [p for p in (splits.val, splits.test) if p is not None]
    autocast = autocast_for(device, c.trainer.amp)
    return lambda: [evaluate(model, p, splits.task, c.trainer.eval_batch_size, autocast) for p in pairs]


def measure(device, quick: bool) -> list[dict]:
    torch.set_num_threads(1)
    points = ["conv", "local", "dense"] if quick else available_options()["spectrum"]
    cases = [(f"spectrum={p}", [f"spectrum={p}"], True) for p in points]
    preset = ["experiment=sharing_spectrum"]
    cases += [(f"{preset[0]} spectrum={p}", [*preset, f"spectrum={p}"], True) for p in ("local", "dense")]
    cases.append(("model=local_cnn on 28×28 (evaluation alone)", ["model=local_cnn", *IMAGES], False))
    rows = []
    for name, overrides, whole_period in cases if not quick else cases[:3]:
        c, splits, model = _setup(overrides, device)
        if whole_period:
            reference, steps = _period(c, splits, model, device)
        else:
            reference, steps = _evaluation(c, splits, model, device), 0
        t = side_by_side(
            {"metrics": lambda: position_map_metrics(model), "reference": reference}, device, 2 if quick else 7
        )
        rows.append(
            {
                "run": name,
                "reference": f"{steps} steps + evaluation" if whole_period else "evaluation",
                "reference_ms": round(1e3 * t["reference"], 1),
                "metrics_ms": round(1e3 * t["metrics"], 2),
                "metrics_share": f"{100 * t.ratio('metrics', 'reference'):.2f}%",
                "goal": "≤ 5%",
            }
        )
    return rows

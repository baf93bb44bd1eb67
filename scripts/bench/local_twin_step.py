"""A training step of the 2-D SharedCNN (`model=shared_cnn`: conv 1→16, 16→32, 3×3, on 28×28 digits,
batch 100) against its locally connected twin (`model=local_cnn`), the twin with the layer's current
Function and with its previous layout ("before"), all through sharebench's trainer on the same data."""

import copy

import torch

from scripts.bench.harness import cfg, side_by_side
from scripts.bench.previous_lc import previous_layout
from sharebench import data, models
from sharebench.train.loop import fit
from sharebench.train.optimizers import build_optimizer

CONV = "shared_cnn (conv)"


def measure(device, quick: bool) -> list[dict]:
    steps = 3 if quick else 20
    base = ["dataset=synthetic", "dataset.shape=[1,28,28]", "dataset.train_size=1000", "trainer.progress=false"]
    base += [f"trainer.max_steps={steps}", f"trainer.eval_every={steps}", "dataset.val_size=0", "dataset.test_size=0"]
    nets = {}
    for name in ("shared_cnn", "local_cnn"):
        c = cfg(f"model={name}", *base)
        splits = data.load(c.dataset).to(device)
        torch.manual_seed(0)
        nets[name] = (c, splits, models.build(c.model, splits.input_shape, splits.num_outputs).to(device))

    def train(name):
        c, splits, initial = nets[name]
        model = copy.deepcopy(initial)
        opt = build_optimizer(c.optim, model.parameters())
        fit(model, splits, opt, c.trainer, device, 0, lambda row: None, lambda rows: None)

    def before():
        with previous_layout():
            train("local_cnn")

    t = side_by_side(
        {
            CONV: lambda: train("shared_cnn"),
            "local_cnn (this code)": lambda: train("local_cnn"),
            "local_cnn (previous layout)": before,
        },
        device,
        2 if quick else 5,
    )
    return [
        {
            "model": name,
            "steps": steps,
            "ms_per_step": round(1e3 * s / steps, 1),
            "speed_of_conv": round(t.ratio(CONV, name), 3),
            "speedup_vs_previous": round(t.ratio("local_cnn (previous layout)", name), 3),
        }
        for name, s in t.items()
    ]

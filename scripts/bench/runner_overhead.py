"""sharebench's trainer vs the MNIST-1D paper's hand-written loop, on the paper's CNN (`model=mnist1d_cnn`)
and on a single linear layer, whose step is so short that what is timed is almost all overhead: its
per-step difference is the trainer's cost in absolute terms, where the machine's noise hides a few
percent on the CNN."""

import copy

import torch.nn as nn
import torch.nn.functional as F

from scripts.bench.harness import cfg, side_by_side
from sharebench import data, models
from sharebench.train.loop import fit
from sharebench.train.optimizers import build_optimizer

PAPER_CNN = ["model=mnist1d_cnn"]  # the MNIST-1D paper's CNN (its ConvBase: kernels 5, 3, 3; 5,210 parameters)


def measure(device, quick: bool) -> list[dict]:
    import torch

    steps = 300 if quick else 1000
    c = cfg(*PAPER_CNN, "trainer.progress=false", f"trainer.max_steps={steps}", f"trainer.eval_every={steps}")
    splits = data.load(c.dataset).to(device)
    x, y = splits.train
    torch.manual_seed(0)
    nets = {
        "MNIST-1D paper CNN (mnist1d_cnn)": models.build(c.model, splits.input_shape, splits.num_outputs).to(device),
        "one linear layer": nn.Sequential(nn.Flatten(), nn.Linear(x[0].numel(), splits.num_outputs)).to(device),
    }
    rows = []
    for net, initial in nets.items():

        def sharebench_fit():  # as a run makes its optimizer (sharebench/train/optimizers.py)
            model = copy.deepcopy(initial)
            opt = build_optimizer(c.optim, model.parameters())
            fit(model, splits, opt, c.trainer, device, 0, lambda row: None, lambda rows: None)

        def hand_loop():  # the MNIST-1D paper's loop (tensors in memory, consecutive slices), same optimizer
            model = copy.deepcopy(initial)
            opt = build_optimizer(c.optim, model.parameters())  # the same optimizer: Adam 1e-2
            for step in range(steps):
                bix = (step * 100) % len(x)
                loss = F.cross_entropy(model(x[bix : bix + 100]), y[bix : bix + 100])
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():  # the paper evaluates at the end too
                for v in (splits.val, splits.test):
                    F.cross_entropy(model(v[0]), v[1]).item()

        t = side_by_side({"sharebench": sharebench_fit, "hand-written loop": hand_loop}, device, 3 if quick else 11)
        extra = t.difference("sharebench", "hand-written loop")
        rows += [
            {
                "model": net,
                "runner": name,
                "steps": steps,
                "ms_per_step": round(1e3 * s / steps, 4),
                "ratio_to_hand_loop": round(t.ratio(name, "hand-written loop"), 3),
                "extra_us_per_step": round(1e6 * extra / steps, 1) if name == "sharebench" else 0.0,
                "goal": "≤ 1.05" if name == "sharebench" and "CNN" in net else "",
            }
            for name, s in t.items()
        ]
    return rows

"""A frozen ResNet-18 backbone: an epoch of the head on cached features vs the backbone recomputed
every epoch."""

import torch

from scripts.bench.harness import cfg, clock, side_by_side
from sharebench import data, models
from sharebench.train.loop import fit


def measure(device, quick: bool) -> list[dict]:
    from sharebench.train.feature_cache import with_cached_features

    n = 256 if quick else 2000
    c = cfg(
        "model=resnet_transfer",
        "model.weights=none",
        "model.freeze=true",
        "dataset=synthetic",
        "dataset.shape=[3,32,32]",
        f"dataset.train_size={n}",
        "dataset.val_size=0",
        "dataset.test_size=0",
        "trainer.epochs=1",
        "trainer.progress=false",
        "trainer.batch_size=100",
    )
    splits = data.load(c.dataset).to(device)
    torch.manual_seed(0)
    model = models.build(c.model, splits.input_shape, splits.num_outputs).to(device)
    caching_s = clock(lambda: with_cached_features(model, splits, c), device)  # the one-time cost
    head, features = with_cached_features(model, splits, c)

    def one_epoch(module, split_data):
        opt = torch.optim.SGD([p for p in module.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
        fit(module, split_data, opt, c.trainer, device, 0, lambda row: None, lambda rows: None)

    t = side_by_side(
        {
            "cached features (head only)": lambda: one_epoch(head, features),
            "backbone recomputed each epoch": lambda: one_epoch(model, splits),
        },
        device,
        3,
    )
    return [
        {
            "examples": n,
            "variant": name,
            "epoch_seconds": round(s, 4),
            "speedup": round(t.ratio("backbone recomputed each epoch", name), 1),
            "one_time_feature_seconds": round(caching_s, 3) if name.startswith("cached") else "",
        }
        for name, s in t.items()
    ]

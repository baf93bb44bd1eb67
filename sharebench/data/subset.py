"""Class-balanced subsets of a training set: the axis along which weight sharing should help most."""

import torch

from sharebench.errors import UserError


def subset_size(n: int, train_fraction: float | None, train_size: int | None) -> int | None:
    """How many of `n` training examples to keep, or None to keep them all."""
    if train_fraction is not None and train_size is not None:
        raise UserError(
            "set dataset.train_fraction or dataset.train_size, not both "
            "(e.g. dataset.train_fraction=0.1 dataset.train_size=null)"
        )
    if train_fraction is not None:
        if not 0 < train_fraction <= 1:
            raise UserError(
                f"dataset.train_fraction={train_fraction} is not valid: it must be in (0, 1], "
                f"for example dataset.train_fraction=0.1"
            )
        return max(1, round(train_fraction * n))
    if train_size is not None:
        if not 0 < train_size <= n:
            raise UserError(
                f"dataset.train_size={train_size} is not valid: there are {n} training examples "
                f"(after validation is carved off); use 1 … {n} or null for all"
            )
        return train_size
    return None


def balanced_indices(y: torch.Tensor, size: int, seed: int) -> torch.Tensor:
    """Indices of `size` examples with class counts as equal as the data allow, fixed by `seed`.

    Each class is shuffled; examples are then taken in rounds, one per class per round (classes in a
    shuffled order), so counts differ by at most one until a class runs out of examples.
    """
    gen = torch.Generator().manual_seed(seed)
    y = y.cpu()
    classes = torch.unique(y)
    class_order = torch.empty(int(classes.max()) + 1, dtype=torch.long)
    class_order[classes] = torch.randperm(len(classes), generator=gen)
    shuffled = torch.randperm(len(y), generator=gen)  # a random order within each class …
    ys = y[shuffled]
    by_class = torch.argsort(ys, stable=True)  # … kept by a stable sort on the label
    sorted_y = ys[by_class]
    starts = torch.searchsorted(sorted_y, sorted_y, right=False)
    rank = torch.arange(len(y)) - starts  # position of each example within its class
    key = rank * len(classes) + class_order[sorted_y]
    chosen = shuffled[by_class[torch.argsort(key)[:size]]]
    return chosen.sort().values  # keep the source order


def take_subset(pair, train_fraction, train_size, seed):
    """The class-balanced subset of a (x, y) training pair that the settings ask for."""
    x, y = pair
    size = subset_size(len(x), train_fraction, train_size)
    if size is None or size == len(x):
        return pair
    idx = balanced_indices(y, size, seed)
    return x.index_select(0, idx), y.index_select(0, idx)

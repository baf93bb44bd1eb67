"""Parameter accounting: one row per parameter tensor, and totals."""
import torch.nn as nn


def parameter_table(model: nn.Module) -> list[dict]:
    """Rows like printing `named_parameters()` with sizes; a tied tensor appears (and counts) once."""
    return [
        {"name": name, "shape": "x".join(map(str, p.shape)) or "scalar", "count": p.numel(),
         "trainable": p.requires_grad}
        for name, p in model.named_parameters()  # remove_duplicate=True: shared tensors once
    ]


def parameter_totals(table: list[dict]) -> dict[str, int]:
    total = sum(r["count"] for r in table)
    trainable = sum(r["count"] for r in table if r["trainable"])
    return {"params_total": total, "params_trainable": trainable, "params_frozen": total - trainable}

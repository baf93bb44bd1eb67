"""Print what the source post (the blog post on weight sharing this project started from) prints
for its SharedCNN — `name size` per parameter — from sharebench's own models, beside the unshared
twins, so the counts can be checked by eye against the post.

Run: python scripts/print_parameters.py [C H W]        (default 1 28 28, the post's input)
"""

import sys

from sharebench import models
from sharebench.accounting import parameter_table, parameter_totals
from sharebench.configs import compose

shape = tuple(int(a) for a in sys.argv[1:]) or (1, 28, 28)
for name in ("shared_cnn", "local_cnn", "mlp"):
    model = models.build(compose([f"model={name}"]).model, shape, 10)
    print(f"# model={name} on input {'x'.join(map(str, shape))}")
    for param_name, p in model.named_parameters():
        print(param_name, p.size())
    print(f"# total {parameter_totals(parameter_table(model))['params_total']:,}\n")

"""`sharebench params [-m] OVERRIDES…`: the parameter table and totals of configured models, untrained.

Configs are composed and checked exactly as for `sharebench run` (preflight + Hydra's compose API);
each model is built on PyTorch's meta device — shapes without storage — and measured by
accounting.account, so even a layer with billions of parameters answers in a moment. Datasets report
their shapes through `describe`, without generating or reading data. Nothing is written.
With -m every combination of comma-separated values (and of an experiment's sweeper params) is
counted, followed by a comparison of the totals. Imports torch only once the arguments are checked.
"""
import itertools
import sys

from sharebench.errors import EXIT_USER_ERROR, UserError

USAGE = """usage: sharebench params [-m] [OVERRIDE ...]

Print each parameter tensor of the configured model — count, effective count if nothing were shared,
sharing factor, trainable, bytes — and the totals with multiply-accumulates per example, without
training and without allocating weights. Overrides are those of `sharebench run`.

examples:
  sharebench params model=local_cnn
  sharebench params -m model=shared_cnn,tiled_cnn,local_cnn,mlp
  sharebench params -m experiment=seed_first_layer      # 3x3x32 on 192x192: conv, local, dense
  sharebench params model=rnn dataset=synthetic dataset.shape=[3,32,32]
"""


def main(args: list[str]) -> int:
    if any(a in ("-h", "--help") for a in args):
        print(USAGE, end="")
        return 0
    try:
        jobs = compose_jobs(args)
        import torch  # noqa: F401  (after the checks: a typo costs no torch import)

        results = [(label, f"{name} ({label})" if label else name, *count(cfg)) for label, name, cfg in jobs]
    except UserError as err:
        print(f"sharebench: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    try:
        for _, title, shape, table, totals in results:
            print(format_job(title, shape, table, totals), end="\n\n")
        if len(results) > 1:
            print(format_comparison([(label, totals) for label, _, _, _, totals in results]), flush=True)
    except BrokenPipeError:  # `sharebench params … | head`: the reader has what it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def compose_jobs(args: list[str]) -> list[tuple[str, str, object]]:
    """(overrides, "model on dataset", composed config) per job; the same checks as `sharebench run` raise UserError."""
    from hydra import compose, initialize_config_module
    from hydra._internal.utils import get_args_parser
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from sharebench.preflight import CONFIG_MODULE, _explain, check_run_args
    from sharebench.validate import check_config

    check_run_args(args)
    flags = get_args_parser().parse_args(args)
    parser = OverridesParser.create()
    overrides = parser.parse_overrides(flags.overrides)

    def expand(parsed) -> list[list[str]]:
        return [[f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()]
                if flags.multirun and o.is_sweep_override() else [o.input_line] for o in parsed]

    jobs = []
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        for combo in itertools.product(*expand(overrides)):
            combo = list(combo)
            given = {o.split("=", 1)[0].lstrip("+~") for o in combo}
            extra = []
            if flags.multirun:  # an experiment's own sweep, e.g. hydra.sweeper.params.model.layer
                hydra_cfg = compose("config", overrides=combo, return_hydra_config=True).hydra
                params = hydra_cfg.sweeper.get("params") or {}
                extra = [o for k, v in params.items() if k not in given
                         for o in [parser.parse_overrides([f"{k}={v}"])[0]]]
            for more in itertools.product(*expand(extra)):
                final = combo + list(more)
                try:
                    cfg = compose("config", overrides=final, return_hydra_config=True)
                except Exception as err:
                    raise UserError(_explain(err, final)) from None
                check_config(cfg)
                choices = cfg.hydra.runtime.choices
                jobs.append((" ".join(final), f"{choices.model} on {choices.dataset}", cfg))
    return jobs


def count(cfg):
    """Build the model on the meta device and account it: (input shape, table, totals)."""
    import random

    import torch

    from sharebench import data, models
    from sharebench.accounting import account
    from sharebench.dryrun import without_pretrained_weights

    shape = data.describe(cfg.dataset)
    model_cfg = without_pretrained_weights(cfg.model)  # counts do not depend on weight values
    with torch.device("meta"):
        model = models.build(model_cfg, shape.input_shape, shape.num_outputs)
    random.seed(cfg.seed)  # a model that draws at random (dynamic_net) draws as a run's first step
    table, totals = account(model, shape.input_shape)
    return shape, table, totals


def human_bytes(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000


def format_job(title: str, shape, table: list[dict], totals: dict) -> str:
    head = (f"── {title} · input {'×'.join(map(str, shape.input_shape))} → "
            f"{shape.num_outputs} {'classes' if shape.task == 'classification' else 'outputs'} ──")
    cols = [("name", "<"), ("shape", "<"), ("count", ">"), ("effective", ">"), ("sharing", ">"),
            ("trainable", "<"), ("bytes", ">")]
    cells = [[r["name"], r["shape"], f"{r['count']:,}", f"{r['effective']:,}", f"×{r['sharing']:,.2f}",
              str(r["trainable"]), human_bytes(r["bytes"])] for r in table]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, (c, _) in enumerate(cols)]
    line = lambda vals: "  ".join(f"{v:{a}{w}}" for v, (_, a), w in zip(vals, cols, widths)).rstrip()  # noqa: E731
    t = totals
    return "\n".join([head, line([c for c, _ in cols]), *map(line, cells),
                      f"unique {t['params_total']:,} (trainable {t['params_trainable']:,}, frozen "
                      f"{t['params_frozen']:,}) · {human_bytes(t['params_bytes'])}",
                      f"if unshared {t['params_effective']:,} · sharing ×{t['sharing_factor']:,.2f} · "
                      f"{t['macs_per_example']:,} MACs per example"])


def format_comparison(rows: list[tuple[str, dict]]) -> str:
    head = ("job", "unique", "if unshared", "sharing", "MACs/example", "memory")
    cells = [(label, f"{t['params_total']:,}", f"{t['params_effective']:,}", f"×{t['sharing_factor']:,.2f}",
              f"{t['macs_per_example']:,}", human_bytes(t["params_bytes"])) for label, t in rows]
    widths = [max(len(r[i]) for r in [head, *cells]) for i in range(len(head))]
    fmt = lambda r: "  ".join(f"{v:{'<' if i == 0 else '>'}{w}}" for i, (v, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join(fmt(r) for r in [head, *cells])

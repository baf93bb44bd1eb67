"""`sharebench` command line: every subcommand — run, params, list, plot, report, --version.

`run` hands its arguments to the Hydra app unchanged (after the checks); `params` composes the same
jobs and counts their models on the meta device; `plot` and `report` read run dirs from disk. Torch
and Hydra are imported only by the commands that need them, so `--help`, `list` and `plot` start in
a moment.
"""

import argparse
import sys
from pathlib import Path

from sharebench.errors import EXIT_USER_ERROR, UserError
from sharebench.version import __version__

COMPARE_HELP = {
    "plot": "compare runs: comparison.csv, runs.csv and figures from run dirs and sweep dirs (files only)",
    "report": "write a Markdown report (tables and figures) of runs and sweeps (files only)",
}
PARAMS_USAGE = """usage: sharebench params [-m] [OVERRIDE ...]

Print each parameter tensor of the configured model — count, effective count if nothing were shared,
sharing factor, trainable, bytes — and the totals with multiply-accumulates per example, without
training and without allocating weights. Overrides are those of `sharebench run`.

examples:
  sharebench params model=local_cnn
  sharebench params -m model=shared_cnn,tiled_cnn,local_cnn,mlp
  sharebench params -m experiment=first_layer_conv_local_dense      # 3x3x32 on 192x192: conv, local, dense
  sharebench params model=rnn dataset=synthetic dataset.shape=[3,32,32]
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sharebench",
        description="Train networks that share weights beside their unshared twins, "
        "under identical conditions, and record parameters, curves and accuracy.",
        epilog="Examples:\n"
        "  sharebench run                               # shared CNN on MNIST-1D (offline)\n"
        "  sharebench run model=local_cnn               # same topology, no weight sharing\n"
        "  sharebench run -m model=shared_cnn,local_cnn,mlp seed=0,1,2\n"
        "  sharebench params -m model=shared_cnn,local_cnn,mlp   # parameter counts, no training\n"
        "  sharebench run --help                        # config groups and every key\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sharebench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", add_help=False, help="train one config, or sweep with -m (arguments are Hydra overrides)")
    sub.add_parser(
        "params",
        add_help=False,
        help="count each model's parameters (unique, if unshared) and MACs without training (-m compares)",
    )
    sub.add_parser("list", help="list the models, datasets, optimizers, trainers and experiments available")
    for name, text in COMPARE_HELP.items():
        _add_compare_parser(sub, name, text)
    return parser


def _add_compare_parser(sub, name: str, text: str) -> None:
    """`sharebench plot` or `report`: the run and sweep dirs to read, and how to compare them."""
    from sharebench.compare.verdicts import DELTA

    p = sub.add_parser(
        name,
        help=text,
        description=text[0].upper() + text[1:] + ".",
        epilog=f"Example: sharebench {name} results/multirun/2026-11-22/10-00-00-000000",
    )
    p.add_argument(
        "dirs",
        nargs="+",
        metavar="DIR",
        help="run dirs or sweep dirs, searched recursively for runs (.hydra/ or summary.json)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="where to write (default: DIR/comparison for one DIR, ./comparison for several)",
    )
    if name == "report":
        _add_page_options(p)
    p.add_argument(
        "--by",
        nargs="+",
        metavar="KEY",
        help="group by these keys (e.g. model optim.lr) "
        "instead of the overrides that differ between runs; seeds are always pooled",
    )
    p.add_argument("--metric", default="test_acc", help="headline metric (default test_acc; e.g. test_loss, val_acc)")
    p.add_argument(
        "--format",
        nargs="+",
        default=["png"],
        choices=["png", "svg", "pdf"],
        dest="formats",
        metavar="FMT",
        help="figure formats: png svg pdf (default png)",
    )
    p.add_argument(
        "--delta",
        metavar="D",
        help="equivalence margin, in percentage points for an accuracy metric (a loss: its own units): a "
        "pair whose difference is shown to lie within ±D is 'equivalent' (default 1 point of accuracy, "
        f"{DELTA} of a loss; 0 tests no equivalence)",
    )
    p.add_argument(
        "--seeds-needed",
        metavar="X",
        dest="seeds_needed",
        help="also print, per pair, the seeds per arm that would decide a true difference of X (percentage "
        "points for an accuracy, e.g. 2; a loss: its own units) from the spread these runs show: a pilot "
        "sweep's question",
    )
    p.add_argument(
        "--baseline",
        metavar="KEY=VALUE",
        help="compare every other group, seed by seed, with "
        "the group that has KEY=VALUE and matches it on the other keys (e.g. model=local_cnn); "
        "default: each shared model with its unshared twin when both are present",
    )


def _add_page_options(p) -> None:
    """`sharebench report --page`: the report as a docs page."""
    p.add_argument(
        "--page",
        metavar="PAGE.md",
        help="write the report as a docs page at PAGE.md, its figures in the folder beside it "
        "(PAGE/), linked relative to the page, with no absolute path or date "
        "(scripts/publish_results.py writes docs/results/ with it)",
    )
    p.add_argument("--title", help="with --page: the page's title (default: PAGE's name)")
    p.add_argument("--question", help="with --page: the question the experiment asks, opening the page")
    p.add_argument(
        "--protocol-steps",
        type=int,
        metavar="N",
        help="with --page: the steps a run of the experiment's protocol takes; runs that stopped "
        "earlier are called shortened in the title's first line",
    )


def user_error(err: UserError) -> int:
    print(f"sharebench: error: {err}", file=sys.stderr)
    return EXIT_USER_ERROR


def list_command() -> int:
    from sharebench.configs import available_options

    for group, names in available_options().items():
        print(f"{group + ':':<12}{', '.join(names) if names else '(none)'}")
    print("\nChoose with GROUP=OPTION, e.g. `sharebench run model=local_cnn dataset=synthetic`.")
    return 0


def run_command(args: list[str]) -> int:
    """Read the arguments once (configs.RunArgs), check them, then hand over to Hydra. A failed single
    run or sweep exits through SystemExit (job.py, sweep_outcome.py) with its code."""
    from sharebench.checks.arguments import check_run_args
    from sharebench.checks.results_dir import check_results_dir
    from sharebench.compare.until_decided import check_sweep
    from sharebench.configs import RunArgs
    from sharebench.run.resume_args import resolve_args
    from sharebench.run.sweep_batches import in_batches
    from sharebench.schemes import current_overrides

    try:
        run = resolve_args(RunArgs(args))  # resume=…: point Hydra at the run or sweep to continue
        typed = [o.input_line for o in run.overrides]
        if current_overrides(typed) != typed:  # a resumed older run's model.tile=4: model.scheme.tile=4
            run = run.with_overrides(current_overrides(typed))
        check_run_args(run)
        check_sweep(run)  # hydra/sweeper=until_decided: its plan, keys and pairs
        check_results_dir(run)  # writable, before Hydra makes anything there
    except UserError as err:
        return user_error(err)
    run = in_batches(run)  # the basic launcher's first job starts in seconds
    return _hand_to_hydra(run)


def _hand_to_hydra(run) -> int:
    from contextlib import nullcontext

    from sharebench.run import app
    from sharebench.run.signals import sweep_in_this_process

    sys.argv = ["sharebench run", *run.argv]  # Hydra reads its overrides and flags from sys.argv
    with sweep_in_this_process() if run.multirun else nullcontext() as sweep:
        try:
            app.main()
        except KeyboardInterrupt:  # outside a run (e.g. while Hydra starts): nothing to save
            return _sweep_stopped(sweep, 130)
        return _sweep_stopped(sweep, sweep.exit_code) if sweep else 0


def _sweep_stopped(sweep, code: int) -> int:
    """A signal after a sweep's last job (or a second one between jobs): the line that continues it,
    once a job has run here (the sweep dir exists), and the signal's exit code."""
    if sweep is not None and sweep.sweep_dir is not None:
        from sharebench.run.resume_args import continue_command
        from sharebench.terminal import warn

        warn(f"sharebench: interrupted; continue with: {continue_command(sweep_dir=sweep.sweep_dir)}")
    return code


def params_command(args: list[str]) -> int:
    """`sharebench params`: every job of `sharebench run` with these arguments, counted, nothing written."""
    if any(a in ("-h", "--help") for a in args):
        print(PARAMS_USAGE, end="")
        return 0
    try:
        jobs = compose_jobs(args)
        from sharebench.accounting import count_configured, format_comparison, format_job  # torch, after the checks

        results = [(label, f"{name} ({label})" if label else name, *count_configured(cfg)) for label, name, cfg in jobs]
    except UserError as err:
        return user_error(err)
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
    """(overrides, "model on dataset", composed config) per job, checked as `sharebench run` checks them."""
    from sharebench.checks.arguments import check_run_args, explain
    from sharebench.configs import RunArgs, compose, sweep_jobs

    run = RunArgs(args)
    check_run_args(run)
    jobs = []
    for job in sweep_jobs(run.overrides, run.multirun, config_name=run.config_name):
        overrides = [s.line for s in job]
        try:
            cfg = compose(overrides, run.config_name, with_hydra=True)
        except Exception as err:
            raise UserError(explain(err, job)) from None
        choices = cfg.hydra.runtime.choices
        jobs.append((" ".join(overrides), f"{choices.model} on {choices.dataset}", cfg))
    return jobs


def compare_command(args: argparse.Namespace) -> int:
    from sharebench.compare.comparison_files import write_comparison
    from sharebench.compare.tables import terminal_table
    from sharebench.compare.units import to_metric_units

    page = getattr(args, "page", None)
    try:
        if page and args.out:
            raise UserError("--page and --out both say where to write: give one (--page puts figures in PAGE/)")
        if page and not page.endswith(".md"):
            raise UserError(f"--page {page}: a page is a Markdown file, e.g. --page docs/results/name.md")
        if page:
            from sharebench.compare.report import page_folder

            args.out = page_folder(page)
        delta = _number_option("--delta", args.delta)
        detect = _number_option("--seeds-needed", args.seeds_needed, positive=True)
        if detect is not None:  # points for an accuracy; --delta is converted where the pairs are decided
            detect = to_metric_units(detect, args.metric)
        protocol = getattr(args, "protocol_steps", None)
        cmp, table, paired, files = write_comparison(
            args.dirs, args.out, args.by, args.metric, tuple(args.formats), args.baseline, not page, delta, protocol
        )
        if args.command == "report":
            from sharebench.compare.page_head import PageHead
            from sharebench.compare.report import write_report

            head = PageHead(args.title, args.question, args.protocol_steps) if page else None
            files.append(write_report(args.dirs, cmp, table, files, paired, page=page and Path(page), head=head))
    except UserError as err:
        return user_error(err)
    print(terminal_table(cmp, table, paired, detect))
    print(f"files: {files[0].parent}/ ({', '.join(f.name for f in files)})")
    return 0


def _number_option(flag: str, text: str | None, positive: bool = False) -> float | None:
    """A compare option's number, or a UserError naming the fix (δ ≥ 0; a difference to detect > 0)."""
    if text is None:
        return None
    from sharebench.compare.verdicts import check_delta

    try:
        value = check_delta(text)
    except ValueError as err:
        raise UserError(
            f"{flag} {text}: {'give a number > 0' if positive else f'{err} (0 tests no equivalence)'}, in "
            f"percentage points for an accuracy (e.g. {flag} 1: one point)"
        ) from None
    if positive and value == 0:
        raise UserError(f"{flag} 0: a difference of 0 cannot be decided; give one > 0, e.g. {flag} 1 (one point)")
    return value


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("run", "params"):  # model.tile=4, as published commands type it: model.scheme.tile=4
        from sharebench.schemes import current_overrides

        argv = [argv[0], *current_overrides(argv[1:])]
    if argv and argv[0] == "run":  # everything after `run` belongs to Hydra, untouched
        return run_command(argv[1:])
    if argv and argv[0] == "params":  # Hydra overrides too
        return params_command(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "list":
        return list_command()
    if args.command in COMPARE_HELP:
        return compare_command(args)
    build_parser().print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())

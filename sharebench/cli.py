"""`sharebench` command line: a thin front that hands `run` to Hydra and answers the rest itself.

Neither torch nor Hydra is imported until a command needs it, so `--help` and `list` are instant.
"""
import argparse
import sys
from importlib import resources

from sharebench.errors import EXIT_USER_ERROR, UserError

GROUPS = ("model", "dataset", "optim", "trainer", "logger", "experiment")


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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", add_help=False, help="train one config, or sweep with -m (arguments are Hydra overrides)")
    sub.add_parser("params", add_help=False,
                   help="count each model's parameters (unique, if unshared) and MACs without training (-m compares)")
    sub.add_parser("list", help="list the models, datasets, optimizers, trainers and experiments available")
    from sharebench.compare_cli import add_compare_commands  # plot and report: files only, no torch

    add_compare_commands(sub)
    return parser


def available_options() -> dict[str, list[str]]:
    """Option names per config group, read from the shipped conf/ package (no Hydra, no torch)."""
    root = resources.files("sharebench.conf")
    return {
        group: sorted(p.name[:-5] for p in root.joinpath(group).iterdir() if p.name.endswith(".yaml"))
        for group in GROUPS
    }


def list_command() -> int:
    for group, names in available_options().items():
        print(f"{group + ':':<12}{', '.join(names) if names else '(none)'}")
    print("\nChoose with GROUP=OPTION, e.g. `sharebench run model=local_cnn dataset=synthetic`.")
    return 0


def run_command(args: list[str]) -> int:
    from sharebench.preflight import check_run_args
    from sharebench.resume import resolve_args

    try:
        args = resolve_args(args)  # resume=…: point Hydra at the run or sweep to continue
        check_run_args(args)
    except UserError as err:
        print(f"sharebench: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    from sharebench import app, job

    sys.argv = ["sharebench run", *args]  # Hydra reads its overrides and flags from sys.argv
    try:
        app.main()
    except KeyboardInterrupt:  # outside a run (e.g. while Hydra starts): nothing to save
        return 130
    return 1 if job.failed_in_sweep or job.unrecorded_failures else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "run":  # everything after `run` belongs to Hydra, untouched
        return run_command(argv[1:])
    if argv and argv[0] == "params":  # Hydra overrides too; counted on the meta device, nothing written
        from sharebench.params_command import main as params_main

        return params_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "list":
        return list_command()
    if args.command in ("plot", "report"):
        from sharebench.compare_cli import compare_command

        return compare_command(args)
    build_parser().print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())

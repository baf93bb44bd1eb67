"""The `plot` and `report` subcommands: arguments, and one line plus exit 2 for a user's mistake."""
import argparse
import sys

from sharebench.errors import EXIT_USER_ERROR, UserError

COMMON_HELP = {
    "plot": "compare runs: comparison.csv, runs.csv and figures from run dirs and sweep dirs (files only)",
    "report": "write a Markdown report (tables and figures) of runs and sweeps (files only)",
}


def add_compare_commands(sub) -> None:
    for name, text in COMMON_HELP.items():
        p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".",
                           epilog=f"Example: sharebench {name} results/multirun/2026-11-22/10-00-00-000000")
        p.add_argument("dirs", nargs="+", metavar="DIR",
                       help="run dirs or sweep dirs, searched recursively for runs (.hydra/ or summary.json)")
        p.add_argument("--out", metavar="DIR", help="where to write (default: DIR/comparison for one DIR, "
                       "./comparison for several)")
        p.add_argument("--by", nargs="+", metavar="KEY", help="group by these keys (e.g. model optim.lr) "
                       "instead of the overrides that differ between runs; seeds are always pooled")
        p.add_argument("--metric", default="test_acc", help="headline metric (default test_acc; e.g. test_loss, val_acc)")
        p.add_argument("--format", nargs="+", default=["png"], choices=["png", "svg", "pdf"], dest="formats",
                       metavar="FMT", help="figure formats: png svg pdf (default png)")


def compare_command(args: argparse.Namespace) -> int:
    from sharebench.report import terminal_table, write_comparison, write_report

    try:
        cmp, table, files = write_comparison(args.dirs, args.out, args.by, args.metric, tuple(args.formats))
        if args.command == "report":
            files.append(write_report(args.dirs, cmp, table, files))
    except UserError as err:
        print(f"sharebench: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(terminal_table(cmp, table))
    print(f"files: {files[0].parent}/ ({', '.join(f.name for f in files)})")
    return 0

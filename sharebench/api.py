"""sharebench from Python: compose, run, assemble, load — what `sharebench run`, `plot` and `report` do,
as calls a notebook makes (docs/guide/python.md). `import sharebench` gives them.

Each call imports what it needs when it is made: importing this module imports neither torch nor
Hydra, and load() reads records without torch. Every check, record and file is the command's own:
compose and run go through the command's checks and its job (run/job.py run_in_dir), load through
`sharebench plot` (compare/).
"""

import logging
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from sharebench.errors import UserError

if TYPE_CHECKING:  # names for the annotations only: importing them here would import pandas
    import pandas as pd

    from sharebench.compare.runs import Comparison


class Finished(NamedTuple):
    """What run() returns: the run's summary (its summary.json record) and its directory."""

    summary: dict
    run_dir: Path


def compose(*overrides: str):
    """The config `sharebench run OVERRIDES` would train, as an OmegaConf DictConfig.

    It is checked as the command checks it — every value, every `_target_`, and the model built for
    the data's shape (which imports torch) — so a bad override raises `sharebench.errors.UserError`
    with the one line the command prints. Example: `compose("model=local_cnn", "optim.lr=0.01")`.
    """
    from sharebench.checks.arguments import check_run_args
    from sharebench.configs import RunArgs
    from sharebench.configs import compose as compose_config

    run = RunArgs(_overrides(overrides))
    check_run_args(run)
    return compose_config(run.argv)


def run(*overrides: str, run_dir: str | Path | None = None) -> Finished:
    """Train one run as `sharebench run OVERRIDES` does, and return its summary and run dir.

    The same checks, the same run dir (under ./results/runs/ unless `run_dir` or `hydra.run.dir=…`
    names one), the same records; `resume=<run dir>` or `resume=true` continue a run, and a completed
    one is skipped. Ctrl-C stops it after the current step with a checkpoint: the summary's status is
    then `interrupted`. A refused override raises UserError; a run that fails raises its error, which
    its summary.json and sharebench.log record. Sweeps (`-m`) are the command's.
    """
    from sharebench.checks.arguments import check_run_args
    from sharebench.checks.results_dir import check_results_dir
    from sharebench.configs import RunArgs
    from sharebench.run.resume_args import quote, resolve_args

    args = _overrides(overrides) + ([f"hydra.run.dir={quote(Path(run_dir))}"] if run_dir is not None else [])
    run = resolve_args(RunArgs(args))
    if run.multirun:  # resume=<sweep dir>
        given = next(o for o in overrides if o.startswith("resume="))
        raise UserError(f"{given} is a sweep: a sweep continues on the command line: sharebench run -m {given}")
    check_run_args(run)
    check_results_dir(run)
    return _train(run.argv)


def _train(args: list[str]) -> Finished:
    """Compose the job and its Hydra records as Hydra would, and run it through the command's job."""
    import copy
    import os

    from omegaconf import open_dict, read_write

    from sharebench.configs import compose as compose_config
    from sharebench.configs import new_run_dir
    from sharebench.run.job import run_in_dir
    from sharebench.run.signals import StopRequest

    composed = compose_config(args, with_hydra=True)
    hydra = composed.hydra
    run_dir = Path(new_run_dir(composed)).absolute()
    with read_write(hydra):
        hydra.runtime.output_dir, hydra.runtime.cwd = str(run_dir), os.getcwd()
    cfg = copy.deepcopy(composed)
    with read_write(cfg), open_dict(cfg):
        del cfg["hydra"]  # the job's config, as Hydra hands it to a job
    files = {"config.yaml": cfg, "hydra.yaml": {"hydra": hydra}, "overrides.yaml": hydra.overrides.task}
    with _run_log(run_dir):
        summary = run_in_dir(cfg, run_dir, dict(hydra.runtime.choices), files, StopRequest())
    return Finished(summary, run_dir)


@contextmanager
def _run_log(run_dir: Path):
    """The run's log as the command keeps it: one line per evaluation on stdout, everything in
    <run dir>/sharebench.log (conf/hydra/job_logging/sharebench.yaml, without Hydra)."""
    from sharebench.records.disk import RunLogHandler

    logger = logging.getLogger("sharebench")
    console = logging.StreamHandler(sys.stdout)
    # the detail lines are the log file's, and a traceback too: the error itself reaches the caller
    console.addFilter(lambda record: record.name != "sharebench.detail" and not record.exc_info)
    file = RunLogHandler(run_dir / "sharebench.log", delay=True)  # opened at its first line
    file.setFormatter(logging.Formatter("[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"))
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False  # each line once, whatever the notebook's root logger does
    logger.addHandler(console)
    logger.addHandler(file)
    try:
        yield
    finally:
        logger.removeHandler(console)
        logger.removeHandler(file)
        file.close()
        logger.setLevel(level)
        logger.propagate = propagate


def assemble(cfg):
    """The parts of a run — device, data, model, optimizer, augmentation — made as a run makes them,
    without training or writing anything: train them your own way, or with `parts.fit()` (the run's
    loop). `cfg` comes from compose(). Returns a `sharebench.run.experiment.Parts`."""
    from sharebench.run.experiment import assemble as assemble_parts

    return assemble_parts(cfg)


def load(*dirs: str | Path, by=None, metric: str = "test_acc", baseline=None, delta=None) -> "Loaded":
    """The comparison `sharebench plot DIR…` makes of the runs under these run or sweep dirs, read
    from their files, writing nothing and importing no torch. The options are plot's: `by` (keys to
    group by, e.g. ["model"]), `metric`, `baseline` ("KEY=VALUE") and `delta` (the equivalence margin:
    percentage points for an accuracy, e.g. 1; a loss's own units)."""
    from sharebench.compare.paired import paired_table
    from sharebench.compare.runs import compare
    from sharebench.compare.sequential import load_design
    from sharebench.compare.statistics import comparison_table, runs_table
    from sharebench.compare.tables import headline_key

    paths = [str(d) for d in dirs]
    cmp = compare(paths, by=by, metric=metric)  # as write_comparison reads them, without its index file
    known = {k for r in cmp.runs for k in r.summary} | {c for r in cmp.runs for c in r.metric_columns or ()}
    if metric not in known and f"final_{metric}" not in known:
        options = sorted(k[len("final_") :] for k in known if k.startswith("final_"))
        raise UserError(f"metric={metric}: no run recorded it; choose one of {', '.join(options) or 'test_acc'}")
    design = load_design(Path(paths[0])) if len(paths) == 1 else None  # a sweep run until decided
    paired = paired_table(cmp, headline_key(cmp), baseline, delta=delta, design=design)
    return Loaded(cmp, comparison_table(cmp), paired, runs_table(cmp))


@dataclass
class Loaded:
    """What load() read: the tables `sharebench plot` writes, as pandas DataFrames, and its figures."""

    comparison: "Comparison"  # the runs (each with its summary, config and metrics), their groups and keys
    table: "pd.DataFrame"  # comparison.csv: one row per group
    paired: "pd.DataFrame"  # paired.csv: one row per pair of groups compared seed by seed, with its verdict
    runs: "pd.DataFrame"  # runs.csv: one row per run, whatever its status

    def figures(self) -> dict:
        """Plot's figures, by the name of their file (accuracy_vs_params, curves_loss, …), as
        matplotlib Figures; close them when done (matplotlib.pyplot.close(fig))."""
        import matplotlib

        from sharebench.compare import style
        from sharebench.compare.figures import build_figures

        style.plt()
        with matplotlib.rc_context(style.DETERMINISTIC):
            return dict(build_figures(self.comparison, self.paired))


def _overrides(overrides) -> list[str]:
    """The overrides as `sharebench run` takes them: KEY=VALUE strings, no flags (model.tile=4, the
    key of earlier commands, read as model.scheme.tile=4)."""
    from sharebench.schemes import current_overrides

    for o in overrides:
        if not isinstance(o, str) or o.startswith("-"):
            raise UserError(
                f"{o!r} is not an override: give KEY=VALUE strings, as after `sharebench run` "
                f"(e.g. 'model=local_cnn'); sweeps (-m) run from the command line"
            )
    return current_overrides(list(overrides))

"""sharebench: measure what parameter sharing buys a neural network.

From Python (docs/guide/python.md; sharebench/api.py):

    cfg = sharebench.compose("model=local_cnn")        # the config `sharebench run` would train
    summary, run_dir = sharebench.run("model=local_cnn")  # one run, as `sharebench run` makes it
    parts = sharebench.assemble(cfg)                   # data, model, optimizer: train your own way
    result = sharebench.load("results/multirun/…")     # .table, .paired, .figures(): `sharebench plot`

Each call imports what it needs when it is made: `import sharebench` imports neither torch nor Hydra.
"""

import types

from sharebench import run  # noqa: E402  the package sharebench/run/ (no imports of its own), made callable below
from sharebench.api import assemble, compose, load  # noqa: E402
from sharebench.version import __version__

__all__ = ["__version__", "assemble", "compose", "load", "run"]


class _CallablePackage(types.ModuleType):
    """`sharebench.run` is the package sharebench/run/ — Python sets that name when the package is first
    imported, and Hydra finds `sharebench.run.…` targets through it — so the call is the package's."""

    def __call__(self, *overrides, **options):
        from sharebench.api import run as run_one

        return run_one(*overrides, **options)


run.__class__ = _CallablePackage

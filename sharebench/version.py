"""sharebench's version, for the code that records or prints it (summary.json, `--version`): a module
of its own, so that a run's records need not import the package's Python face (sharebench/__init__)."""

__version__ = "0.1.0"

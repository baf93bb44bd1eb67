"""The shipped Hydra config tree, importable as the package `sharebench.conf`.

It sits at the top of the repository (the user's layout: `conf/` beside `sharebench/`, where a reader
looks for the configs first) and is installed inside the package by pyproject.toml's package-dir
mapping, so `sharebench run` finds it from any directory, without a checkout. Code names it once:
sharebench.configs.CONFIG_MODULE.
"""

"""compare: from run dirs on disk to comparisons — the `plot` and `report` commands and the sweep-end table.

runs.py (find, read and group runs), statistics.py (mean, std and spread over seeds, in one place),
figures.py, tables.py (comparison.csv, runs.csv, the terminal table), report.py (report.md),
sweep_callback.py (Hydra's end-of-sweep hook). Reads files only: imports records and configs, never
torch, Hydra's app or the training rooms, so `sharebench plot` starts in a moment.
"""

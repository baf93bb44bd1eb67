"""compare: from run dirs on disk to comparisons — the `plot` and `report` commands and the sweep-end table.

runs.py (find and group runs), run_record.py (read one run dir), run_index.py (the
index `plot` keeps beside a sweep), statistics.py (mean, std, spread and 95% t-intervals over seeds, in
one place), paired.py (seed-by-seed pairs; the default twins come from conf/, configs.twins),
verdicts.py (a verdict on every pair, jointly over a table), sequential.py (seeds until decided: the
design and its replay), spectrum_map.py (locality against sharing),
select.py (`--baseline` and paper selectors), figures.py, spectrum.py and style.py (the figures),
comparison_files.py (what `plot` writes: comparison.csv, runs.csv, paired.csv, the figures), tables.py
(the comparison as text: the terminal table, the report's rows), common.py (what the runs share),
paper.py (reference numbers), report.py (report.md), sweep_callback.py (Hydra's end-of-sweep hook),
mlflow_sweep.py (logger=mlflow: a sweep as a parent run).
Reads files only: imports records and configs, never torch, Hydra's app or the training rooms, so
`sharebench plot` starts in a moment.
"""

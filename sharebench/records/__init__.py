"""records: everything a run leaves on disk, and reading it back.

The run dir's files (summary.json, metrics.csv, steps.csv, params.csv), the one list of metric
columns, checkpoint.pt and model.pt, extra sinks (TensorBoard), provenance, per-run figures, and the
one atomic-write helper. The storage layer of the house: it imports no other room (only
sharebench.errors), so every stage may write or read through it.
"""

"""run: one `sharebench run` job, from a composed config to a finished run dir.

app.py (the Hydra app), job.py (the job wrapper: resume or skip, signals, failures recorded),
signals.py (SIGINT/SIGTERM become a stop between two steps), experiment.py (run(cfg) in three steps:
assemble → train → record, a plain function), recording.py (the record step: the summary, the files,
the figures), resume_args.py (before Hydra: which directory to continue), resume_plan.py (inside a
job: skip, continue or start over), sweep_outcome.py (a sweep with a failed job exits 1), requeue.py
(submitit: a preempted job checkpoints, is requeued and continues), optuna_study.py (a killed Optuna
search continues its study). Imports every earlier room; nothing imports it but the CLI.
"""

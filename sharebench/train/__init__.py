"""train: the training loop and what serves it.

loop.py (fit, evaluate), state.py (the loop's typed state, saved and restored in one place),
schedules.py (the learning-rate schedules, by name), divergence.py (NaN/inf watch without device syncs), feature_cache.py (a frozen backbone's features
computed once), shifted_eval.py (accuracy on shifted test sets), devices.py (which device).
Imports data and models; knows nothing about files (records) or Hydra.
"""

"""Helpers shared by the test files: a test file imports from here, never from another test file.

configs   the shipped config composed as `sharebench run` would (make_cfg), and a tiny dataset (TINY)
commands  the installed `sharebench` command, run as a user would (sharebench, EXE, wait_for)
runs      run dirs written by hand, and the parts of a run dir that must match bit for bit (curves)
datafiles small datasets in their published file formats (random pixels, no network)
"""

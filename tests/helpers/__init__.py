"""Helpers shared by several test files (import as `from helpers.runs import …`)."""

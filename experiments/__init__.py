"""Experiments run with the project (each folder: one script, its config and its report)."""

"""Evaluation of a policy on ALFWorld and tau2-bench, and of a world model on held-out next-state data.

`cli` (the `python scripts/evaluate.py` / `python -m recipe.rwml.evaluate` command), `episodes` (suites, jobs,
playing them), `world_model` (`--wm-parquet`), `report` (summary, markdown table, bar chart).
"""

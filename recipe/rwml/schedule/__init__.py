"""The RWML two-stage schedule (collect -> world-model data -> stage 1 -> stage 2 -> evaluate) as a table of stages.

    python -m recipe.rwml.schedule --plan rwml_qwen3_8b [--dry-run] [--from STAGE] [--until STAGE]

is what scripts/run_*.sh start. `settings.py`: the environment-variable settings; `stages.py`: the table;
`schedules.py`: the named plans and their defaults; `plan.py` / `preflight.py`: what runs and what is missing;
`runner.py`: running it.
"""

#!/usr/bin/env bash
# make demo's training: the schedule of run_rwml_cpu.sh with the tiny random-weight model and 2 steps per stage
# (recipe/rwml/schedule/schedules.py, rwml_demo_cpu); recipe/rwml/demo.py runs it and reads what it wrote.
# bash scripts/run_rwml_demo_cpu.sh [--dry-run] [--from STAGE] [--until STAGE]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -x .venv/bin/python ]]; then : "${PYTHON:=$PWD/.venv/bin/python}"; else : "${PYTHON:=python3}"; fi
exec "$PYTHON" -m recipe.rwml.schedule --plan rwml_demo_cpu --script "$0" "$@"

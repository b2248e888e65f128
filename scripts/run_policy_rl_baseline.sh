#!/usr/bin/env bash
# Baseline "Policy RL": stage-2 task-success RL straight from the base model (no world-model stage), then evaluation.
# Same settings as run_rwml_qwen3_8b.sh.
# bash scripts/run_policy_rl_baseline.sh [--dry-run] [--from STAGE] [--until STAGE]
# The stages, this plan and its defaults (POLICY_FROM=base): recipe/rwml/schedule/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -x .venv/bin/python ]]; then : "${PYTHON:=$PWD/.venv/bin/python}"; else : "${PYTHON:=python3}"; fi
exec "$PYTHON" -m recipe.rwml.schedule --plan policy_rl_baseline --script "$0" "$@"

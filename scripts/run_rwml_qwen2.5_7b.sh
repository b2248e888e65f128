#!/usr/bin/env bash
# RWML on ALFWorld with Qwen2.5-7B-Instruct (the paper's ALFWorld set-up); the schedule of run_rwml_qwen3_8b.sh.
# bash scripts/run_rwml_qwen2.5_7b.sh [--dry-run] [--from STAGE] [--until STAGE]; needs ALFWORLD_DATA (json_2.1.1/).
# The stages, this plan and its defaults: recipe/rwml/schedule/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -x .venv/bin/python ]]; then : "${PYTHON:=$PWD/.venv/bin/python}"; else : "${PYTHON:=python3}"; fi
exec "$PYTHON" -m recipe.rwml.schedule --plan rwml_qwen2.5_7b --script "$0" "$@"

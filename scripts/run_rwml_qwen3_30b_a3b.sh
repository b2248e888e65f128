#!/usr/bin/env bash
# RWML on tau2-bench with Qwen3-30B-A3B (MoE); the schedule of run_rwml_qwen3_8b.sh with rollouts on 2-GPU tensor
# parallelism and the reference model's parameters offloaded to CPU (the actor keeps its own; 8 x 80 GB GPUs).
# bash scripts/run_rwml_qwen3_30b_a3b.sh [--dry-run] [--from STAGE] [--until STAGE]
# The stages, this plan and its defaults: recipe/rwml/schedule/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -x .venv/bin/python ]]; then : "${PYTHON:=$PWD/.venv/bin/python}"; else : "${PYTHON:=python3}"; fi
exec "$PYTHON" -m recipe.rwml.schedule --plan rwml_qwen3_30b_a3b --script "$0" "$@"

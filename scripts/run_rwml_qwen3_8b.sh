#!/usr/bin/env bash
# RWML on tau2-bench with Qwen3-8B (the paper's tau2 set-up); ENV=alfworld runs the same schedule on ALFWorld.
#   collect -> world-model parquet -> easy-sample filter (FILTER_EASY=1, the default: SFT a filter world model on 10%
#   of the train tasks, score the rest K times, drop most easy samples) -> stage 1 RWML -> HF checkpoint
#   -> stage-2 policy RL from it -> HF checkpoint -> evaluate (EVAL_STAGE1=1 also evaluates the stage-1 model)
# bash scripts/run_rwml_qwen3_8b.sh [--dry-run] [--from STAGE] [--until STAGE]; settings: see the printed list.
# The stages, this plan and its defaults (MODEL_PATH=Qwen/Qwen3-8B ENV=tau2 ...): recipe/rwml/schedule/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -x .venv/bin/python ]]; then : "${PYTHON:=$PWD/.venv/bin/python}"; else : "${PYTHON:=python3}"; fi
exec "$PYTHON" -m recipe.rwml.schedule --plan rwml_qwen3_8b --script "$0" "$@"

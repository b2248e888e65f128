#!/usr/bin/env bash
# Baseline "WM SFT (+ Policy RL)": the world model trained by supervised fine-tuning on the same collected
# transitions (verl's SFT trainer on the SFT parquet) instead of RWML, then the same stage-2 policy RL and evaluation.
# EVAL_STAGE1=1 also evaluates the SFT world model alone. Same settings as run_rwml_qwen3_8b.sh (data is shared
# through DATA_DIR when MODEL_PATH is the same).
# bash scripts/run_wm_sft_baseline.sh [--dry-run] [--from STAGE] [--until STAGE]
# The stages, this plan and its defaults (POLICY_FROM=sft): recipe/rwml/schedule/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -x .venv/bin/python ]]; then : "${PYTHON:=$PWD/.venv/bin/python}"; else : "${PYTHON:=python3}"; fi
exec "$PYTHON" -m recipe.rwml.schedule --plan wm_sft_baseline --script "$0" "$@"

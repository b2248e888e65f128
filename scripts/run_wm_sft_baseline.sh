#!/usr/bin/env bash
# Baseline "WM SFT (+ Policy RL)": the world model trained by supervised fine-tuning on the same collected
# transitions (verl's SFT trainer on the SFT parquet) instead of RWML, then the same stage-2 policy RL and evaluation.
# EVAL_STAGE1=1 also evaluates the SFT world model alone. Same settings as run_rwml_qwen3_8b.sh (data is shared
# through DATA_DIR when MODEL_PATH is the same).
# bash scripts/run_wm_sft_baseline.sh [--dry-run] [--from STAGE] [--until STAGE]
set -euo pipefail
: "${MODEL_PATH:=Qwen/Qwen3-8B}"
: "${ENV:=tau2}"
: "${RUN_NAME:=wm_sft_baseline}"
POLICY_FROM=sft
PLAN=(collect wm_data sft_data sft convert_stage1 eval_stage1 policy_data policy convert_policy evaluate)
SCHEDULE_SCRIPT="${BASH_SOURCE[0]}"
# shellcheck source=lib/schedule.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/schedule.sh"
schedule_main "$@"

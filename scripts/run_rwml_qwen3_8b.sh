#!/usr/bin/env bash
# RWML on tau2-bench with Qwen3-8B (the paper's tau2 set-up); ENV=alfworld runs the same schedule on ALFWorld.
#   collect -> world-model parquet -> easy-sample filter (FILTER_EASY=1, the default: SFT a filter world model on 10%
#   of the train tasks, score the rest K times, drop most easy samples) -> stage 1 RWML -> HF checkpoint
#   -> stage-2 policy RL from it -> HF checkpoint -> evaluate (EVAL_STAGE1=1 also evaluates the stage-1 model)
# bash scripts/run_rwml_qwen3_8b.sh [--dry-run] [--from STAGE] [--until STAGE]; settings: see the printed list.
set -euo pipefail
: "${MODEL_PATH:=Qwen/Qwen3-8B}"
: "${ENV:=tau2}"
: "${RUN_NAME:=rwml_qwen3_8b}"
: "${N_GPUS:=8}"
: "${TP:=1}"
PLAN=(collect wm_data filter_sft_data filter_sft filter_convert filter rwml convert_stage1 eval_stage1 policy_data policy convert_policy evaluate)
SCHEDULE_SCRIPT="${BASH_SOURCE[0]}"
# shellcheck source=lib/schedule.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/schedule.sh"
schedule_main "$@"

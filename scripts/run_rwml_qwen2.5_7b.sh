#!/usr/bin/env bash
# RWML on ALFWorld with Qwen2.5-7B-Instruct (the paper's ALFWorld set-up); the schedule of run_rwml_qwen3_8b.sh.
# bash scripts/run_rwml_qwen2.5_7b.sh [--dry-run] [--from STAGE] [--until STAGE]; needs ALFWORLD_DATA (json_2.1.1/).
set -euo pipefail
: "${MODEL_PATH:=Qwen/Qwen2.5-7B-Instruct}"
: "${ENV:=alfworld}"
: "${RUN_NAME:=rwml_qwen2.5_7b}"
: "${N_GPUS:=8}"
: "${TP:=1}"
PLAN=(collect wm_data filter_sft_data filter_sft filter_convert filter rwml convert_stage1 eval_stage1 policy_data policy convert_policy evaluate)
SCHEDULE_SCRIPT="${BASH_SOURCE[0]}"
# shellcheck source=lib/schedule.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/schedule.sh"
schedule_main "$@"

#!/usr/bin/env bash
# Baseline "Policy RL": stage-2 task-success RL straight from the base model (no world-model stage), then evaluation.
# Same settings as run_rwml_qwen3_8b.sh.
# bash scripts/run_policy_rl_baseline.sh [--dry-run] [--from STAGE] [--until STAGE]
set -euo pipefail
: "${MODEL_PATH:=Qwen/Qwen3-8B}"
: "${ENV:=tau2}"
: "${RUN_NAME:=policy_rl_baseline}"
POLICY_FROM=base
PLAN=(policy_data policy convert_policy evaluate)
SCHEDULE_SCRIPT="${BASH_SOURCE[0]}"
# shellcheck source=lib/schedule.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/schedule.sh"
schedule_main "$@"

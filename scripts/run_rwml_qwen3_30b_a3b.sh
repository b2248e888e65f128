#!/usr/bin/env bash
# RWML on tau2-bench with Qwen3-30B-A3B (MoE); the schedule of run_rwml_qwen3_8b.sh with rollouts on 2-GPU tensor
# parallelism and the reference model's parameters offloaded to CPU (the actor keeps its own; 8 x 80 GB GPUs).
# bash scripts/run_rwml_qwen3_30b_a3b.sh [--dry-run] [--from STAGE] [--until STAGE]
set -euo pipefail
: "${MODEL_PATH:=Qwen/Qwen3-30B-A3B}"
: "${ENV:=tau2}"
: "${RUN_NAME:=rwml_qwen3_30b_a3b}"
: "${N_GPUS:=8}"
: "${TP:=2}"
MOE_OVERRIDES="actor_rollout_ref.ref.fsdp_config.param_offload=true actor_rollout_ref.actor.fsdp_config.optimizer_offload=true"
: "${RWML_OVERRIDES:=$MOE_OVERRIDES}"
: "${POLICY_OVERRIDES:=$MOE_OVERRIDES}"
PLAN=(collect wm_data filter_sft_data filter_sft filter_convert filter rwml convert_stage1 eval_stage1 policy_data policy convert_policy evaluate)
SCHEDULE_SCRIPT="${BASH_SOURCE[0]}"
# shellcheck source=lib/schedule.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/schedule.sh"
schedule_main "$@"

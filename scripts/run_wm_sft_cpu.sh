#!/usr/bin/env bash
# The WM-SFT baseline on this CPU: run_wm_sft_baseline.sh's schedule -- collect -> SFT parquet -> verl's SFT trainer
# (recipe/rwml/config/sft_trainer_cpu.yaml) -> HF checkpoint -> policy rows -> stage 2 -> HF checkpoint -> evaluate --
# at the tiny scale of run_rwml_cpu.sh (make train-cpu), whose data it shares; its own checkpoints.
# bash scripts/run_wm_sft_cpu.sh [--dry-run] [--from STAGE] [--until STAGE]; MODEL_PATH=<HF folder>: another model.
# The same stage table as the GPU schedules, with PLATFORM=cpu and small defaults: recipe/rwml/schedule/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -x .venv/bin/python ]]; then : "${PYTHON:=$PWD/.venv/bin/python}"; else : "${PYTHON:=python3}"; fi
exec "$PYTHON" -m recipe.rwml.schedule --plan wm_sft_cpu --script "$0" "$@"

#!/usr/bin/env bash
# The paper's LLM-as-a-judge ablation of run_rwml_qwen2.5_7b.sh: stage 1 rewarded by a judge model instead of the
# embedding similarity (reward_score/judge.py, the authors' binary judge prompt).
# JUDGE_BASE_URL=http://host:8003/v1 JUDGE_MODEL=NAME [JUDGE_API_KEY=...] bash scripts/run_rwml_judge_qwen2.5_7b.sh
#     [--dry-run] [--from STAGE] [--until STAGE]; needs ALFWORLD_DATA (json_2.1.1/).
# The stages, this plan and its defaults: recipe/rwml/schedule/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -x .venv/bin/python ]]; then : "${PYTHON:=$PWD/.venv/bin/python}"; else : "${PYTHON:=python3}"; fi
exec "$PYTHON" -m recipe.rwml.schedule --plan rwml_judge_qwen2.5_7b --script "$0" "$@"

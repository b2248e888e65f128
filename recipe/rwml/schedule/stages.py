"""The table of stages: for each, what it writes and reads, what a real run of it needs, and the steps it runs.

A stage is done when its first output exists together with the marker `<output>.done`. Every field is a function of
the settings, so one table serves every schedule (GPU or CPU, ALFWorld or tau2); `schedules.py` picks stages by name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace

from recipe.rwml.schedule import commands as cmd
from recipe.rwml.schedule.settings import Settings
from recipe.rwml.schedule.steps import Step


def _nothing(s: Settings) -> list[str]:
    return []


def _never(s: Settings) -> bool:
    return False


def _always(s: Settings) -> bool:
    return True


@dataclass(frozen=True)
class Stage:
    """One stage of the schedule; see the module docstring."""

    name: str
    outputs: Callable[[Settings], list[str]]  # what it writes; the first one carries the done marker
    steps: Callable[[Settings], list[Step]]
    inputs: Callable[[Settings], list[str]] = _nothing  # what it reads: an earlier stage's outputs, or set paths
    needs: Callable[[Settings], list[str]] = _nothing  # what a real run needs that the settings lack: "VAR (why)"
    gpu: Callable[[Settings], bool] = _never  # needs NVIDIA GPUs (PLATFORM=gpu)
    endpoints: Callable[[Settings], list[str]] = _nothing  # settings holding an OpenAI-compatible /v1 URL it calls
    enabled: Callable[[Settings], bool] = _always  # False: `off` in the plan
    marker: Callable[[Settings], str] | None = None  # where the done marker goes, if not `<output>.done`

    def output(self, s: Settings) -> str:
        """The output that carries the done marker."""
        return self.outputs(s)[0]

    def marker_path(self, s: Settings) -> str:
        """The stage's done marker: `<output>.done`, or its own place (never beside a folder the user owns)."""
        return self.marker(s) if self.marker is not None else done_marker(self.output(s))


def done_marker(path: str) -> str:
    return path.removesuffix("/") + ".done"


# ------------------------------------------------------------------------------------------------ what a real run needs


def _games(s: Settings) -> list[str]:
    games, split = s["ALFWORLD_DATA"], s["ALFWORLD_TRAIN_SPLIT"]
    if s.tau2 or os.path.isdir(f"{games}/json_2.1.1/{split}"):
        return []
    return [f"ALFWORLD_DATA (a folder holding json_2.1.1/{split}; now '{games}')"]


def _user(s: Settings, why: str = "") -> list[str]:
    return [f"USER_BASE_URL (tau2 user simulator endpoint{why})"] if s.tau2 and not s["USER_BASE_URL"] else []


def _embedder(s: Settings) -> list[str]:
    if not cmd.qwen3_embedder_unserved(s):
        return []
    model = s["EMBED_MODEL"]
    return [
        f"EMBED_BASE_URL (an OpenAI-compatible /v1 embeddings endpoint serving {model}, e.g. on a spare GPU: "
        f"'vllm serve {model} --task embed --port 8002'; or EMBED_MODEL=all-MiniLM-L6-v2 for the packaged CPU embedder)"
    ]


def _reward(s: Settings) -> list[str]:
    """Stage 1's reward: the judge endpoint with REWARD=judge, else the embedder."""
    if s["REWARD"] != "judge":
        return _embedder(s)
    why = {
        "JUDGE_BASE_URL": "an OpenAI-compatible /v1 chat endpoint serving the judge: 'vllm serve MODEL --port 8003'",
        "JUDGE_MODEL": "the model name the judge endpoint serves",
    }
    return [f"{name} ({text})" for name, text in why.items() if not s[name]]


def _rwml(s: Settings) -> list[Step]:
    """Stage 1; REWARD=judge adds the judge's reward settings before the user's RWML_OVERRIDES (which still win).
    The judge mode embeds nothing, so its embedder is the packaged one: no embedding endpoint to serve."""
    if s["REWARD"] == "judge":
        kwargs = "reward.reward_kwargs"
        judge = [f"{kwargs}.mode=judge", f"{kwargs}.model=all-MiniLM-L6-v2", f"{kwargs}.base_url=null"]
        judge += [f"{kwargs}.instruction=null", f"++{kwargs}.judge_base_url={s.need('JUDGE_BASE_URL')}"]
        judge += [f"++{kwargs}.judge_model={s.need('JUDGE_MODEL')}"]
        s = replace(s, values={**s.values, "RWML_OVERRIDES": " ".join([*judge, s["RWML_OVERRIDES"]])})
    return cmd.rwml(s)


def _filter_model(s: Settings) -> list[str]:
    url = s["FILTER_MODEL_URL"]
    return [f"FILTER_MODEL_NAME (the model name served at {url})"] if url and not s["FILTER_MODEL_NAME"] else []


def _eval(s: Settings) -> list[str]:
    games, splits = s["ALFWORLD_DATA"], s["ALFWORLD_EVAL_SPLITS"]
    if not s.tau2 and not os.path.isdir(f"{games}/json_2.1.1"):
        return [f"ALFWORLD_DATA (a folder holding json_2.1.1/{{{splits}}}; now '{games}')"]
    return _user(s)


def _tau2_user(s: Settings) -> list[str]:
    return ["USER_BASE_URL"] if s.tau2 else []


def _warms_up(s: Settings) -> bool:
    return s.warms_up


def _filter_builds_model(s: Settings) -> bool:
    return s["FILTER_EASY"] == "1" and not s["FILTER_MODEL_URL"]


def _filter_inputs(s: Settings) -> list[str]:
    built = [] if s["FILTER_MODEL_URL"] else [s.filter_hf, f"{s.filter_sft_data}/train.parquet"]
    return [f"{s.wm_dir}/train.parquet", *built, *s.words("FILTER_EXCLUDE_TASKS_FROM")]


# ------------------------------------------------------------------------------------------------ the table

TABLE = (
    # PLATFORM=cpu's default model (the CPU schedule only)
    # MODEL_PATH may be the user's own model folder (kept if there): its marker goes into CKPT_DIR, not beside it
    Stage(
        "base_model",
        outputs=lambda s: [s["MODEL_PATH"]],
        steps=cmd.base_model,
        marker=lambda s: f"{s['CKPT_DIR']}/base_model.done",
    ),
    Stage(
        "collect",
        outputs=lambda s: [s.episodes],
        steps=cmd.collect,
        needs=lambda s: [*_games(s), *_user(s)],
        gpu=lambda s: s.collect_serves,
        endpoints=lambda s: [*(["POLICY_BASE_URL"] if s["COLLECT_POLICY"] == "model" else []), *_tau2_user(s)],
    ),
    Stage(
        "wm_data",
        outputs=lambda s: [s.wm_dir],
        steps=cmd.dataset("data_prep.build_wm_dataset", lambda s: s.wm_dir),
        inputs=cmd.episode_files,
    ),
    # the world-model SFT triplets: the WM-SFT baseline's (POLICY_FROM=sft) and the format warm-up's data
    Stage(
        "sft_data",
        outputs=lambda s: [s.sft_dir],
        steps=cmd.dataset("data_prep.build_sft_dataset", lambda s: s.sft_dir),
        inputs=cmd.episode_files,
        enabled=lambda s: s["POLICY_FROM"] == "sft" or s.warms_up,
    ),
    # the easy-sample filter's world model: SFT of FILTER_BASE_MODEL on a seeded FILTER_SFT_FRACTION of the train
    # tasks, served by the `filter` stage; those tasks are left out of the RL data
    Stage(
        "filter_sft_data",
        outputs=lambda s: [s.filter_sft_data],
        steps=cmd.dataset(
            "data_prep.build_sft_dataset",
            lambda s: s.filter_sft_data,
            lambda s: ["--train-task-fraction", s["FILTER_SFT_FRACTION"]],
        ),
        inputs=cmd.episode_files,
        enabled=_filter_builds_model,
    ),
    Stage(
        "filter_sft",
        outputs=lambda s: [s.filter_ckpt],
        steps=lambda s: cmd.sft_train(s, s.filter_sft_data, s.filter_ckpt, s["FILTER_BASE_MODEL"], "filter_sft"),
        inputs=lambda s: [f"{s.filter_sft_data}/train.parquet", f"{s.filter_sft_data}/val.parquet"],
        gpu=_always,
        enabled=_filter_builds_model,
    ),
    Stage(
        "filter_convert",
        outputs=lambda s: [s.filter_hf],
        steps=lambda s: cmd.convert(s, s.filter_ckpt, s.filter_hf),
        inputs=lambda s: [s.filter_ckpt],
        enabled=_filter_builds_model,
    ),
    Stage(
        "filter",
        outputs=lambda s: [s.filtered, s.filter_cache],  # the score cache would outlive a retrained filter model
        steps=cmd.filter_easy,
        inputs=_filter_inputs,
        needs=lambda s: [*_filter_model(s), *_embedder(s)],
        gpu=lambda s: not s["FILTER_MODEL_URL"],
        endpoints=lambda s: ["FILTER_MODEL_URL", "EMBED_BASE_URL"],
        enabled=lambda s: s["FILTER_EASY"] == "1",
    ),
    # the format warm-up (WARMUP_STEPS > 0): SFT of MODEL_PATH on the stage-1 train tasks' triplets, stage 1's start
    Stage(
        "warmup",
        outputs=lambda s: [s.warmup_ckpt],
        steps=cmd.warmup,
        inputs=lambda s: [f"{s.sft_dir}/train.parquet", f"{s.sft_dir}/val.parquet"],
        gpu=_always,
        enabled=_warms_up,
    ),
    Stage(
        "warmup_convert",
        outputs=lambda s: [s.warmup_hf],
        steps=lambda s: cmd.convert(s, s.warmup_ckpt, s.warmup_hf),
        inputs=lambda s: [s.warmup_ckpt],
        enabled=_warms_up,
    ),
    Stage(
        "rwml",
        outputs=lambda s: [s.stage1_ckpt],
        steps=_rwml,
        inputs=lambda s: [cmd.rwml_train_file(s), f"{s.wm_dir}/val.parquet", *([s.warmup_hf] if s.warms_up else [])],
        needs=_reward,
        gpu=_always,
        endpoints=lambda s: ["JUDGE_BASE_URL" if s["REWARD"] == "judge" else "EMBED_BASE_URL"],
    ),
    # the WM-SFT baseline's stage 1
    Stage(
        "sft",
        outputs=lambda s: [s.stage1_ckpt],
        steps=lambda s: cmd.sft_train(s, s.sft_dir, s.stage1_ckpt, s["MODEL_PATH"], "wm_sft"),
        inputs=lambda s: [f"{s.sft_dir}/train.parquet", f"{s.sft_dir}/val.parquet"],
        gpu=_always,
    ),
    Stage(
        "convert_stage1",
        outputs=lambda s: [s.stage1_hf],
        steps=lambda s: cmd.convert(s, s.stage1_ckpt, s.stage1_hf),
        inputs=lambda s: [s.stage1_ckpt],
    ),
    Stage(
        "eval_stage1",
        outputs=lambda s: [s.eval_stage1_dir],
        steps=cmd.eval_stage1,
        inputs=lambda s: [s.stage1_hf, f"{s.wm_dir}/val.parquet"],
        needs=lambda s: [*_eval(s), *_embedder(s)],
        gpu=_always,
        endpoints=lambda s: ["EMBED_BASE_URL", *_tau2_user(s)],
        enabled=lambda s: s["EVAL_STAGE1"] == "1",
    ),
    Stage("policy_data", outputs=lambda s: [s.policy_data], steps=cmd.policy_data, needs=_games),
    Stage(
        "policy",
        outputs=lambda s: [s.policy_ckpt],
        steps=cmd.policy,
        inputs=lambda s: [
            f"{s.policy_data}/train.parquet",
            f"{s.policy_data}/val.parquet",
            *([] if s["POLICY_FROM"] == "base" else [s.stage1_hf]),
        ],
        needs=lambda s: _user(s, "; it must stay up during stage-2 training"),
        gpu=_always,
        endpoints=_tau2_user,
    ),
    Stage(
        "convert_policy",
        outputs=lambda s: [s.policy_hf],
        steps=lambda s: cmd.convert(s, s.policy_ckpt, s.policy_hf),
        inputs=lambda s: [s.policy_ckpt],
    ),
    Stage(
        "evaluate",
        outputs=lambda s: [s.eval_policy_dir],
        steps=cmd.evaluate,
        inputs=lambda s: [s.policy_hf],
        needs=_eval,
        gpu=_always,
        endpoints=_tau2_user,
    ),
)

STAGES: dict[str, Stage] = {stage.name: stage for stage in TABLE}

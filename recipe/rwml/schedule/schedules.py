"""The named schedules that scripts/run_*.sh start: each a plan (stages of the one table, in order) and its defaults.

A default applies when its environment variable is unset or empty (then settings.py's own defaults fill the rest);
a user's `*_OVERRIDES` are added after the plan's own (hydra takes the last value of a key, so the user's win);
`{REPO}` in a default is the repo root, `{NAME}` the value of an entry above it. `fixed` settings ignore the
environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from recipe.rwml.schedule.stages import STAGES, Stage

FILTER = ("filter_sft_data", "filter_sft", "filter_convert", "filter")  # the easy-sample filter (FILTER_EASY=1)
WARMUP = ("sft_data", "warmup", "warmup_convert")  # stage 1 from a format warm-up (WARMUP_STEPS > 0)
STAGE2 = ("policy_data", "policy", "convert_policy", "evaluate")
RWML = ("collect", "wm_data", *FILTER, *WARMUP, "rwml", "convert_stage1", "eval_stage1", *STAGE2)


@dataclass(frozen=True)
class Schedule:
    """One schedule: scripts/run_<name>.sh."""

    name: str
    plan: tuple[str, ...]
    defaults: Mapping[str, str] = field(default_factory=dict)
    fixed: Mapping[str, str] = field(default_factory=dict)

    @property
    def script(self) -> str:
        return f"scripts/run_{self.name}.sh"

    @property
    def stages(self) -> list[Stage]:
        return [STAGES[name] for name in self.plan]

    def environment(self, env: Mapping[str, str], repo: str) -> dict[str, str]:
        """`env` with this schedule's defaults filled in and its fixed settings applied."""
        out = dict(env)
        known = {"REPO": repo}
        for name, default in self.defaults.items():
            value, user = default.format(**known), env.get(name)
            if name.endswith("_OVERRIDES") and user:  # the user's add to the plan's (and come last: they win)
                value = f"{value} {user}".strip()
            else:
                value = user or value
            out[name] = known[name] = value
        return {**out, **self.fixed}


_MOE = "actor_rollout_ref.ref.fsdp_config.param_offload=true actor_rollout_ref.actor.fsdp_config.optimizer_offload=true"
# a few GRPO steps; a checkpoint every step, so a killed stage resumes from its last one (trainer.resume_mode=auto)
_SMALL = """data.train_batch_size=2 actor_rollout_ref.rollout.n=2 actor_rollout_ref.actor.ppo_mini_batch_size=2
 trainer.val_before_train=false trainer.test_freq=-1 trainer.save_freq=1 trainer.n_gpus_per_node={N_GPUS}"""

# the CPU schedules' defaults: tiny scale on the bundled ALFWorld games, SmolLM2-135M-Instruct
_CPU = {
    "PLATFORM": "cpu",
    "MODEL_PATH": "{REPO}/demo_out/smollm2_hf",
    "ENV": "alfworld",
    "DATA_DIR": "{REPO}/demo_out/train_cpu/data",
    "N_GPUS": "1",  # FSDP ranks, declared to Ray as logical GPUs (2 works too, at twice the memory)
    "ALFWORLD_DATA": "{REPO}/envs/alfworld_games",
    "ALFWORLD_TRAIN_SPLIT": "train",
    "ALFWORLD_EVAL_SPLITS": "valid_seen",
    "EPISODES_PER_TASK": "2",
    "COLLECT_MAX_STEPS": "6",
    "COLLECT_WORKERS": "2",
    # the expert with 30% random actions plays: a 135M model rarely writes a parsable action, and an
    # unparsable output is not an environment transition (no world-model data)
    "COLLECT_POLICY": "scripted",
    "MAX_TOKENS": "96",
    "FILTER_EASY": "0",
    "FILTER_K": "2",
    "EMBED_MODEL": "all-MiniLM-L6-v2",
    "EVAL_RUNS": "1",
    "EVAL_MAX_STEPS": "6",
    "EVAL_WORKERS": "2",
    "VLLM_PORT": "8031",
    "RWML_OVERRIDES": _SMALL + " data.max_response_length=64 trainer.total_training_steps=3",
    # 2 SFT steps of 2 samples, a checkpoint each (verl's SFT trainer resumes too)
    "SFT_OVERRIDES": "data.train_batch_size=2 trainer.total_training_steps=2 trainer.save_freq=1",
    "POLICY_OVERRIDES": _SMALL
    + " data.max_response_length=48 trainer.total_training_steps=2\n"
    + " actor_rollout_ref.rollout.custom.rwml_env.envs.alfworld.max_steps=3",
}

# make demo's scale: 2 steps per stage, 32-token answers, 3 policy steps per episode
_DEMO = {
    "MAX_TOKENS": "32",
    "WARMUP_STEPS": "2",
    "WARMUP_OVERRIDES": "data.train_batch_size=2",
    "RWML_OVERRIDES": _SMALL + " data.max_response_length=32 trainer.total_training_steps=2",
    "POLICY_OVERRIDES": _SMALL
    + " data.max_response_length=32 trainer.total_training_steps=2\n"
    + " actor_rollout_ref.rollout.custom.rwml_env.envs.alfworld.max_steps=3",
}

SCHEDULES: dict[str, Schedule] = {
    schedule.name: schedule
    for schedule in (
        # the paper's tau2 set-up; ENV=alfworld runs the same schedule on ALFWorld
        Schedule(
            "rwml_qwen3_8b",
            RWML,
            {"MODEL_PATH": "Qwen/Qwen3-8B", "ENV": "tau2", "RUN_NAME": "rwml_qwen3_8b", "N_GPUS": "8", "TP": "1"},
        ),
        # the paper's ALFWorld set-up
        Schedule(
            "rwml_qwen2.5_7b",
            RWML,
            {"MODEL_PATH": "Qwen/Qwen2.5-7B-Instruct", "ENV": "alfworld", "RUN_NAME": "rwml_qwen2.5_7b"}
            | {"N_GPUS": "8", "TP": "1"},
        ),
        # the paper's LLM-as-a-judge ablation of that set-up: stage 1 rewarded by a judge model (JUDGE_BASE_URL,
        # JUDGE_MODEL; reward_score/judge.py) instead of the embedding similarity; same data, own checkpoints
        Schedule(
            "rwml_judge_qwen2.5_7b",
            RWML,
            {"MODEL_PATH": "Qwen/Qwen2.5-7B-Instruct", "ENV": "alfworld", "RUN_NAME": "rwml_judge_qwen2.5_7b"}
            | {"N_GPUS": "8", "TP": "1"},
            fixed={"REWARD": "judge"},
        ),
        # MoE: rollouts on 2-GPU tensor parallelism, the reference model's parameters and the optimizer offloaded
        Schedule(
            "rwml_qwen3_30b_a3b",
            RWML,
            {"MODEL_PATH": "Qwen/Qwen3-30B-A3B", "ENV": "tau2", "RUN_NAME": "rwml_qwen3_30b_a3b", "N_GPUS": "8"}
            | {"TP": "2", "RWML_OVERRIDES": _MOE, "POLICY_OVERRIDES": _MOE},
        ),
        # baseline: the world model by SFT instead of RWML, then the same stage 2
        Schedule(
            "wm_sft_baseline",
            ("collect", "wm_data", "sft_data", "sft", "convert_stage1", "eval_stage1", *STAGE2),
            {"MODEL_PATH": "Qwen/Qwen3-8B", "ENV": "tau2", "RUN_NAME": "wm_sft_baseline"},
            fixed={"POLICY_FROM": "sft"},
        ),
        # baseline: stage 2 straight from the base model
        Schedule(
            "policy_rl_baseline",
            STAGE2,
            {"MODEL_PATH": "Qwen/Qwen3-8B", "ENV": "tau2", "RUN_NAME": "policy_rl_baseline"},
            fixed={"POLICY_FROM": "base"},
        ),
        # make train-cpu: the RWML schedule at tiny scale on the bundled ALFWorld games, SmolLM2-135M-Instruct served
        # and trained on verl's CPU backend; FILTER_EASY=1 adds the easy-sample filter (its world model trained by
        # verl's SFT trainer on the CPU too: minutes more per SFT step), off by default. Stage 1 starts from a format
        # warm-up: SmolLM2 as shipped never writes <next_state>, so every reward would be 0 and every GRPO group
        # all-equal (experiments/alfworld_wm_cpu); WARMUP_STEPS=0 starts it from MODEL_PATH
        Schedule(
            "rwml_cpu",
            ("base_model", "collect", "wm_data", *FILTER, *WARMUP, "rwml", "convert_stage1", *STAGE2),
            {**_CPU, "RUN_NAME": "rwml_cpu", "CKPT_DIR": "{REPO}/demo_out/train_cpu/checkpoints", "WARMUP_STEPS": "10"},
        ),
        # make demo: the same schedule in minutes -- the tiny random-weight model (BASE_MODEL=tiny), 2 warm-up SFT
        # steps, 2 RWML steps, 2 policy-RL steps; recipe/rwml/demo.py runs it and then scores reference world models
        # on the world-model data it built
        Schedule(
            "rwml_demo_cpu",
            ("base_model", "collect", "wm_data", *FILTER, *WARMUP, "rwml", "convert_stage1", *STAGE2),
            {
                **_CPU,
                **_DEMO,
                "RUN_NAME": "demo",
                "MODEL_PATH": "{REPO}/demo_out/tiny_model",
                "DATA_DIR": "{REPO}/demo_out/train_tiny/data",
                "CKPT_DIR": "{REPO}/demo_out/train_tiny/checkpoints",
            },
            fixed={"BASE_MODEL": "tiny"},
        ),
        # the WM-SFT baseline the same way: verl's SFT trainer instead of RWML, then the same stage 2; the data of
        # make train-cpu is shared (DATA_DIR), the checkpoints are its own. No format warm-up: it is SFT on the same
        # triplets itself (its own steps teach the format)
        Schedule(
            "wm_sft_cpu",
            ("base_model", "collect", "sft_data", "sft", "convert_stage1", *STAGE2),
            {**_CPU, "RUN_NAME": "wm_sft_cpu", "CKPT_DIR": "{REPO}/demo_out/train_cpu/checkpoints_wm_sft"},
            fixed={"POLICY_FROM": "sft"},
        ),
    )
}

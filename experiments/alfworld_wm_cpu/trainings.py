"""The experiment's trainings: verl's SFT trainer and RWML's GRPO, their command lines taken from the schedule
(recipe/rwml/schedule/commands.py, the one place that builds them) with this experiment's values as overrides, and
the conversion of each result to an HF folder."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from experiments.alfworld_wm_cpu.workdir import REPO, Run, done, mark
from recipe.rwml.actor_checkpoint import find_actor_dir
from recipe.rwml.convert_to_hf import convert as convert_checkpoint
from recipe.rwml.cpu.checks import CPU_ENV
from recipe.rwml.schedule import commands
from recipe.rwml.schedule.settings import Settings, resolve_settings
from recipe.rwml.schedule.steps import Logged

PY = sys.executable


def convert(run: Run, name: str, ckpt: Path, hf: Path) -> Path:
    if not done(hf):
        start = time.time()
        # fp32: verl's merger writes bf16, and an Adam step at lr 1e-5 moves most weights by less than bf16's
        # resolution, so a few steps of training would mostly round away
        convert_checkpoint(find_actor_dir(ckpt), hf, check=False, dtype="fp32")
        run.add_time(f"convert_{name}", time.time() - start)
        mark(hf)
    return hf


def schedule_settings(run: Run, model: Path, **extra: str) -> Settings:
    """The schedule's settings for one of this experiment's trainings on this CPU: the command lines come from
    recipe/rwml/schedule/commands.py (the one place that builds them); the experiment's own values are overrides."""
    from reward_score import RewardSettings

    values = {"PLATFORM": "cpu", "ENV": "alfworld", "N_GPUS": "1", "PYTHON": PY, "MODEL_PATH": str(model)}
    values |= {"DATA_DIR": str(run.path("data")), "CKPT_DIR": str(run.path("ckpt")), "RUN_NAME": "alfworld_wm_cpu"}
    return resolve_settings({**values, "EMBED_MODEL": RewardSettings().model, **extra}, str(REPO))


def logged_argv(steps: list[Any]) -> list[str]:
    """The training command of a schedule step list (the `Logged` step; config checks are the schedule's)."""
    (step,) = [st for st in steps if isinstance(st, Logged)]
    return step.argv


def sft(
    run: Run, name: str, data: Path, model: Path, steps: int, batch: int, lr: float, seed: int | None = None
) -> Path:
    """verl's SFT trainer (the schedule's `sft_train`: torchrun, recipe/rwml/config/sft_trainer_cpu.yaml) for `steps`
    steps -> an HF folder. `seed` (data order) defaults to the config's."""
    ckpt, hf = run.path("ckpt", name), run.path("models", f"{name}_hf")
    if done(hf):
        return hf
    if not done(ckpt):
        overrides = ["data.max_length=2048", "data.max_token_len_per_gpu=4096", "data.val_max_samples=32"]
        overrides += ["model.enable_gradient_checkpointing=false"]  # 135M fits; recomputation costs a CPU ~25%
        overrides += [f"data.train_batch_size={batch}", f"optim.lr={lr}", f"trainer.total_training_steps={steps}"]
        overrides += [f"trainer.save_freq={max(1, steps // 2)}", "trainer.max_ckpt_to_keep=1"]
        overrides += ["trainer.resume_mode=auto", "trainer.project_name=alfworld_wm_cpu"]
        overrides += [f"trainer.experiment_name={name}", f"trainer.seed={run.cfg.seed if seed is None else seed}"]
        overrides += ["trainer.total_epochs=100"]
        s = schedule_settings(run, model)
        argv = logged_argv(commands.sft_train(s, str(data), str(ckpt), str(model), name, overrides))
        run.sh(f"train_{name}", argv, log=run.path("logs", f"{name}.log"), env=CPU_ENV)
        mark(ckpt)
    return convert(run, name, ckpt, hf)


def rwml(run: Run, name: str, data: Path, model: Path, reward: dict[str, Any]) -> Path:
    """verl's GRPO (the schedule's `rwml` stage command: recipe/rwml/config/rwml_trainer.yaml, +platform=cpu) with
    these reward settings -> HF folder."""
    r = run.cfg.rwml
    ckpt, hf = run.path("ckpt", name), run.path("models", f"{name}_hf")
    if done(hf):
        return hf
    if not done(ckpt):
        overrides = [f"data.train_files={data}/train.parquet", f"data.val_files={data}/val.parquet"]
        overrides += [f"actor_rollout_ref.model.path={model}", f"data.train_batch_size={r.prompts_per_step}"]
        overrides += [f"actor_rollout_ref.rollout.n={r.group}"]
        overrides += [f"actor_rollout_ref.actor.ppo_mini_batch_size={r.prompts_per_step}"]
        overrides += [f"data.max_response_length={r.max_response_length}", f"actor_rollout_ref.actor.optim.lr={r.lr}"]
        overrides += [f"actor_rollout_ref.actor.kl_loss_coef={r.kl_loss_coef}", f"data.seed={run.cfg.seed}"]
        overrides += ["actor_rollout_ref.model.enable_gradient_checkpointing=false"]  # as the SFT arm
        overrides += [f"trainer.total_training_steps={r.steps}", "trainer.save_freq=1", "trainer.test_freq=-1"]
        overrides += ["trainer.val_before_train=false", "trainer.resume_mode=auto", "trainer.max_actor_ckpt_to_keep=1"]
        overrides += [f"trainer.default_local_dir={ckpt}", f"trainer.experiment_name={name}"]
        overrides += [f"trainer.rollout_data_dir={run.path('rollouts', name)}", "trainer.project_name=alfworld_wm_cpu"]
        overrides += [f"reward.reward_kwargs.{k}={hydra_value(v)}" for k, v in reward.items()]
        s = schedule_settings(run, model, RWML_OVERRIDES=" ".join(overrides))
        argv = logged_argv(commands.rwml(s))
        run.sh(f"train_{name}", argv, log=run.path("logs", f"{name}.log"), env=CPU_ENV)
        mark(ckpt)
    return convert(run, name, ckpt, hf)


def hydra_value(value: Any) -> str:
    """A reward setting as a hydra override value: a mapping per environment as `{alfworld:facts,...}`."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{v}" for k, v in value.items()) + "}"
    return "null" if value is None else str(value)

"""This experiment's GRPO runs: the schedule's `rwml` stage command (recipe/rwml/schedule/commands.py builds it) with
the run's lr, seed, step count and training file as overrides; checkpoints every `rwml.save_freq` steps, so a run
stopped anywhere resumes there, and a run asked for more steps later continues from its last checkpoint."""

from __future__ import annotations

from pathlib import Path

from experiments.alfworld_wm_cpu.trainings import convert, logged_argv, schedule_settings
from experiments.alfworld_wm_cpu.workdir import Run, done
from recipe.rwml.actor_checkpoint import read_tracker
from recipe.rwml.cpu.checks import CPU_ENV
from recipe.rwml.schedule import commands


def run_name(arm: str, seed: int, lr: float) -> str:
    return f"{arm}_s{seed}_lr{lr:g}"


def trained_steps(ckpt: Path) -> int:
    """The step of verl's newest checkpoint under `ckpt` (its tracker file; 0 when there is none)."""
    return (read_tracker(ckpt) or 0) if ckpt.is_dir() else 0


def rwml(run: Run, name: str, train_file: Path, val_file: Path, model: Path, lr: float, seed: int, steps: int) -> Path:
    """verl's GRPO for `steps` steps in total (resuming the checkpoints in ckpt/<name>) -> models/<name>_s<steps>_hf."""
    r = run.cfg.rwml
    ckpt, hf = run.path("ckpt", name), run.path("models", f"{name}_s{steps}_hf")
    if done(hf):
        return hf
    if trained_steps(ckpt) < steps:
        overrides = [f"data.train_files={train_file}", f"data.val_files={val_file}", f"data.seed={seed}"]
        overrides += [f"actor_rollout_ref.model.path={model}", f"data.train_batch_size={r.prompts_per_step}"]
        overrides += [f"actor_rollout_ref.rollout.n={r.group}", f"data.max_response_length={r.max_response_length}"]
        overrides += [f"actor_rollout_ref.actor.ppo_mini_batch_size={r.prompts_per_step}"]
        micro = run.cfg.trainer_memory.max_tokens_per_micro_batch
        overrides += [f"actor_rollout_ref.actor.ppo_max_token_len_per_gpu={micro}"]
        overrides += [f"actor_rollout_ref.actor.optim.lr={lr}", "actor_rollout_ref.actor.kl_loss_type=low_var_kl"]
        overrides += [f"actor_rollout_ref.actor.kl_loss_coef={r.kl_loss_coef}", "trainer.test_freq=-1"]
        overrides += [f"trainer.total_training_steps={steps}", f"trainer.save_freq={r.save_freq}"]
        overrides += ["trainer.val_before_train=false", "trainer.resume_mode=auto", "trainer.max_actor_ckpt_to_keep=1"]
        overrides += [f"trainer.default_local_dir={ckpt}", f"trainer.experiment_name={name}"]
        overrides += ["trainer.total_epochs=100"]
        overrides += [f"trainer.rollout_data_dir={run.path('rollouts', name)}", "trainer.project_name=alfworld_wm_v2"]
        s = schedule_settings(run, model, RWML_OVERRIDES=" ".join(overrides))
        run.sh(f"train_{name}", logged_argv(commands.rwml(s)), log=run.path("logs", f"{name}.log"), env=CPU_ENV)
        if trained_steps(ckpt) < steps:
            raise RuntimeError(f"{name}: asked for {steps} steps, the newest checkpoint in {ckpt} is older")
    return convert(run, f"{name}_s{steps}", ckpt, hf)

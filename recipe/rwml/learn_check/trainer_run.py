"""One GRPO run of a learn check: `main_rwml` on verl's CPU backend in a subprocess (the command line the schedule
builds, `schedule.commands.trainer_argv`), its console log kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from recipe.rwml.cpu.checks import CPU_ENV
from recipe.rwml.schedule.commands import trainer_argv
from recipe.rwml.train_log import parse_steps

REPO = Path(__file__).resolve().parents[3]

# Every check: no validation, no checkpoints, verl's dump of each step's samples (the checks read their curves
# from it), the same seed for data order and sampling.
COMMON = [
    "+platform=cpu",
    "trainer.val_before_train=false",
    "trainer.test_freq=-1",
    "trainer.save_freq=-1",
]


def run_trainer(config: str, overrides: list[str], out: Path, *, steps: int, seed: int) -> dict[int, dict[str, float]]:
    """Train `steps` GRPO steps with `config` (a recipe config name) and `overrides`; verl's metrics per step. The
    console log is `out/train.log`, the samples of step s `out/rollouts/<s>.jsonl`."""
    out.mkdir(parents=True, exist_ok=True)
    args = [
        *COMMON,
        f"trainer.total_training_steps={steps}",
        f"trainer.total_epochs={steps}",
        f"data.seed={seed}",
        f"actor_rollout_ref.rollout.seed={seed}",
        f"trainer.default_local_dir={out / 'ckpt'}",
        f"trainer.rollout_data_dir={out / 'rollouts'}",
        *overrides,
    ]
    env = {**os.environ, **CPU_ENV, "TENSORBOARD_DIR": str(out / "tensorboard"), "PYTHONPATH": str(REPO)}
    log = out / "train.log"
    cmd = trainer_argv(sys.executable, config, args)
    with log.open("w") as f:
        rc = subprocess.run(cmd, cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        raise RuntimeError(f"the learn check's training ({config}) failed (exit {rc}); see {log}")
    metrics = parse_steps(log.read_text(errors="replace"))
    if sorted(metrics) != list(range(1, steps + 1)):
        raise RuntimeError(f"the learn check's training ({config}) logged steps {sorted(metrics)}, not 1..{steps}")
    return metrics


def optimizer(lr: float) -> list[str]:
    """The checks' optimizer: plain SGD, whose step is proportional to the gradient, with the gradient norm capped at
    0.3. AdamW's first steps move every parameter by about lr whatever its gradient; on the tiny model that broke the
    answer format within a few steps (measured: lr 2e-3 never closed its answer after step 3; lr 1e-3 learned, then
    drifted). The cap: a step's gradient norm is 0.1-0.3, but a batch holding a few garbled, unlikely samples with
    negative advantages reached 1.0 (verl's clip) and that one step broke the format (KL 0.53) -- seed 0, step 5."""
    return [
        "actor_rollout_ref.actor.optim.optimizer=SGD",
        "actor_rollout_ref.actor.optim.weight_decay=0",
        "actor_rollout_ref.actor.optim.clip_grad=0.3",
        f"actor_rollout_ref.actor.optim.lr={lr}",
    ]

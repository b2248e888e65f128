"""Stage-1 learn check: RWML's GRPO must raise the sim-to-real reward on a problem the model certainly can learn.

Data: real ALFWorld refusal triplets. ALFWorld's expert plays the bundled games with stale commands
(`collect_trajectories --invalid`: a command the game offered earlier and does not accept now), the game answers
"Nothing happens.", and `build_wm_dataset` turns those steps into world-model prompts as for stage 1.
Start: the tiny random model taught (a few hundred plain SFT steps on CPU, seconds) to answer every prompt in the
world-model format with one of three next states, equally often: the refusal (the true one) or one of two plausible
ALFWorld observations. GRPO through `main_rwml` with the project's reward manager then must move the samples to the
refusal (the reward rises from ~1/3); trained on the inverted reward, away from it (it falls, and ends far below the
trained run).
"""

from __future__ import annotations

import random
from pathlib import Path

from recipe.rwml.learn_check.curves import CheckResult, Curve
from recipe.rwml.learn_check.trainer_run import optimizer, run_trainer
from recipe.rwml.learn_check.warm_up import chat_examples, sft
from reward_score.answer_format import target_response, with_status

REFUSAL = "Nothing happens."
DISTRACTORS = (
    "You close the drawer 1.",
    "You pick up the tomato 1 from the countertop 1.",
)
PROMPTS = 8  # distinct refusal prompts trained on
SAMPLES = 8  # GRPO group size
STEPS = 10  # GRPO steps per run
K = 3  # steps averaged at each end
# The margins, from the no-learning noise and five seeds (README, "Learnability check"). A step's reward is the mean
# of 32 samples near p = 1/3, so a k = 3 window's mean has SD ~sqrt(p(1-p)/96) = 0.048 and a flat run's rise
# (last-k minus first-k) SD ~0.068: a rise of 0.2 is ~3 SD. Measured rises over seeds 0-4: 0.30-0.52. The inverted run
# falls from where it starts (0.16-0.41 over the seeds) to ~0.07: falls 0.08-0.22, so its own fall need only show
# the direction (0.05); its end must lie 0.2 below the trained run's end (measured gaps 0.68-0.79).
MARGIN = 0.2
FALL_MARGIN = 0.05
LR = 0.2  # plain SGD (trainer_run.optimizer); 0.5 learned in 5 steps, then broke the format by step 9


def answers() -> list[str]:
    """The three responses the warm-up teaches (the first is true for every prompt of the check)."""
    return [target_response(with_status(state, False)) for state in (REFUSAL, *DISTRACTORS)]


def build_data(root: Path, seed: int = 0) -> Path:
    """Real refusal triplets as a stage-1 parquet folder (`train.parquet`, `val.parquet`: the same rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from data_prep.build_wm_dataset import main as build_wm
    from data_prep.collect_trajectories import main as collect

    episodes = root / "episodes.jsonl"
    flags = "--env alfworld --data-root bundled --split train --policy expert --epsilon 0 --invalid 0.5".split()
    if (
        collect(
            [
                *flags,
                "--episodes-per-task",
                "2",
                "--max-steps",
                "12",
                "--workers",
                "0",
                "--seed",
                str(seed),
                "--out",
                str(episodes),
            ]
        )
        != 0
    ):
        raise RuntimeError(f"collection of refusal episodes failed ({episodes})")
    wm = root / "wm_all"
    if build_wm(["--input", str(episodes), "--out-dir", str(wm), "--val-fraction", "0", "--history", "0"]) not in (
        0,
        None,
    ):
        raise RuntimeError(f"build_wm_dataset failed ({wm})")
    rows = [
        r
        for r in pq.read_table(wm / "train.parquet").to_pylist()
        if r["reward_model"]["ground_truth"].startswith(REFUSAL)
    ]
    if len(rows) < PROMPTS:
        raise RuntimeError(f"only {len(rows)} refusal triplets in {wm}; the check needs {PROMPTS}")
    rows = random.Random(seed).sample(rows, PROMPTS)
    out = root / "wm"
    out.mkdir(parents=True, exist_ok=True)
    for i, row in enumerate(rows):
        row["extra_info"]["index"] = i
    for split in ("train", "val"):
        pq.write_table(pa.Table.from_pylist(rows), out / f"{split}.parquet")
    return out


def warm_up(model_dir: Path, data: Path, out: Path, steps: int = 300, lr: float = 3e-3, seed: int = 0) -> Path:
    """The model of `model_dir` taught to answer each prompt of `data` with one of `answers()`, equally often."""
    import pyarrow.parquet as pq

    prompts = [row["prompt"] for row in pq.read_table(data / "train.parquet").to_pylist()]
    loss = sft(model_dir, chat_examples(model_dir, prompts, answers()), out, steps=steps, lr=lr, batch=6, seed=seed)
    print(f"learn-check stage 1 warm-up: {steps} SFT steps, final loss {loss:.3f}")
    return out


def train(
    model: Path, data: Path, out: Path, *, invert: bool, steps: int, seed: int = 0, lr: float = LR
) -> dict[int, dict[str, float]]:
    """GRPO through `main_rwml` (stage-1 config) with the check's reward manager; verl's metrics per step."""
    overrides = [
        f"actor_rollout_ref.model.path={model}",
        f"data.train_files={data / 'train.parquet'}",
        f"data.val_files={data / 'val.parquet'}",
        "data.train_batch_size=4",
        f"actor_rollout_ref.rollout.n={SAMPLES}",
        "actor_rollout_ref.actor.ppo_mini_batch_size=4",
        "data.max_response_length=64",
        *optimizer(lr),
        "reward.reward_kwargs.mode=facts",
        "reward.reward_manager.name=LearnCheckRewardManager",
        "reward.reward_manager.module.path=pkg://recipe.rwml.learn_check.reward",
        f"+reward.learn_check_invert={'true' if invert else 'false'}",
    ]
    return run_trainer("rwml_trainer", overrides, out, steps=steps, seed=seed)


def check(out: Path, *, seed: int = 0, steps: int = STEPS) -> CheckResult:
    """The stage-1 check: the same data and warm-up, GRPO on the project's reward and on its inverse."""
    from recipe.rwml.base_models import make_tiny_model

    data = build_data(out / "data", seed=seed)
    model = warm_up(make_tiny_model(out / "tiny"), data, out / "warmup_hf", seed=seed)
    curves = []
    for invert in (False, True):
        metrics = train(model, data, out / ("inverted" if invert else "reward"), invert=invert, steps=steps, seed=seed)
        scores = [metrics[s]["critic/score/mean"] for s in sorted(metrics)]
        curves.append(Curve("trained on 1 - reward" if invert else "trained on reward", scores))
    curves[1].values = [1.0 - x for x in curves[1].values]  # the project's reward of the inverted run
    return CheckResult(
        "stage1", "project reward (sim-to-real, facts)", curves[0], curves[1], K, MARGIN, fall_margin=FALL_MARGIN
    )

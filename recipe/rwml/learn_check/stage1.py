"""Stage-1 learn check: RWML's GRPO must raise the sim-to-real reward on a problem the model certainly can learn.

Data: real ALFWorld refusal triplets. ALFWorld's expert plays the bundled games with stale commands
(`collect_trajectories --invalid`: a command the game offered earlier and does not accept now), the game answers
"Nothing happens.", and `build_wm_dataset` turns those steps into world-model prompts as for stage 1.
Start: the tiny random model taught (a few hundred plain SFT steps on CPU, seconds) to answer every prompt in the
world-model format with one of three next states, about equally often: the refusal (the true one) or one of two
plausible ALFWorld observations. GRPO through `main_rwml` with the project's reward manager then must move the
samples to the refusal (the reward rises from ~1/3); trained on the inverted reward, away from it (it falls).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from recipe.rwml.cpu.checks import CPU_ENV
from recipe.rwml.train_log import parse_steps
from reward_score.answer_format import target_response, with_status

REPO = Path(__file__).resolve().parents[3]
REFUSAL = "Nothing happens."
DISTRACTORS = (
    "You arrive at drawer 1. The drawer 1 is closed.",
    "You pick up the tomato 1 from the countertop 1.",
)
PROMPTS = 8  # distinct refusal prompts trained on


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
    if build_wm(["--input", str(episodes), "--out-dir", str(wm), "--val-fraction", "0"]) not in (0, None):
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
    """The model of `model_dir` taught to answer each prompt of `data` with one of `answers()`, equally often
    (plain next-token SFT on the response tokens, batch 6, AdamW), saved in fp32 to `out`."""
    import pyarrow.parquet as pq
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    rows = pq.read_table(data / "train.parquet").to_pylist()
    examples = []
    for row in rows:
        text = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=False)
        prompt = tokenizer.encode(text, add_special_tokens=False)
        for answer in answers():
            response = tokenizer.encode(answer, add_special_tokens=False) + [tokenizer.eos_token_id]
            examples.append((prompt, response))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    rng = random.Random(seed)
    model.train()
    for _ in range(steps):
        batch = rng.sample(examples, 6)
        width = max(len(p) + len(r) for p, r in batch)
        ids = torch.full((len(batch), width), tokenizer.pad_token_id)
        labels = torch.full((len(batch), width), -100)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, (p, r) in enumerate(batch):
            ids[i, : len(p) + len(r)] = torch.tensor(p + r)
            labels[i, len(p) : len(p) + len(r)] = torch.tensor(r)
            mask[i, : len(p) + len(r)] = 1
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def train(
    model: Path, data: Path, out: Path, *, invert: bool, steps: int, seed: int = 0, lr: float = 2e-3
) -> dict[int, dict[str, float]]:
    """GRPO through `main_rwml` (stage-1 config, CPU backend) with the check's reward manager; verl's metrics per
    step. The console log is `out/train.log`."""
    manager = ["reward.reward_manager.name=LearnCheckRewardManager"]
    manager += ["reward.reward_manager.module.path=pkg://recipe.rwml.learn_check.reward"]
    overrides = [
        "+platform=cpu",
        f"actor_rollout_ref.model.path={model}",
        f"data.train_files={data / 'train.parquet'}",
        f"data.val_files={data / 'val.parquet'}",
        "data.train_batch_size=4",
        "actor_rollout_ref.rollout.n=4",
        "actor_rollout_ref.actor.ppo_mini_batch_size=4",
        "data.max_response_length=48",
        f"actor_rollout_ref.actor.optim.lr={lr}",
        f"trainer.total_training_steps={steps}",
        f"trainer.total_epochs={steps}",
        f"data.seed={seed}",
        f"actor_rollout_ref.rollout.seed={seed}",
        "trainer.val_before_train=false",
        "trainer.test_freq=-1",
        "trainer.save_freq=-1",
        f"trainer.default_local_dir={out / 'ckpt'}",
        "reward.reward_kwargs.mode=facts",
        f"+reward.learn_check_invert={'true' if invert else 'false'}",
        *manager,
    ]
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **CPU_ENV, "TENSORBOARD_DIR": str(out / "tensorboard"), "PYTHONPATH": str(REPO)}
    log = out / "train.log"
    cmd = [sys.executable, "-m", "recipe.rwml.main_rwml", "--config-name", "rwml_trainer", *overrides]
    with log.open("w") as f:
        rc = subprocess.run(cmd, cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        raise RuntimeError(f"the stage-1 learn check's training failed (exit {rc}); see {log}")
    return parse_steps(log.read_text(errors="replace"))

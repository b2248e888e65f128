"""Stage-2 learn check: task-success GRPO through the project's env agent loop must raise the success rate.

Env: the toy `button_room` (envs/button_room.py), registered like ALFWorld and tau2: three buttons, the green one
opens the door; six tasks list them in every order. Rows: `data_prep.build_policy_dataset.policy_row`, as for
ALFWorld. Start: the tiny random model taught (plain SFT on CPU, seconds) to answer every prompt the loop can show it
-- the first turn, and the second after a wrong button, in the windowed and in the multi-turn layout -- with one of
the three buttons, equally often. An episode has two env steps, so about 5/9 of them succeed at the start; trained
on the loop's reward (success - 0.1 x invalid actions), GRPO must make the policy press green first.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from envs.button_room import COLOURS, WINNING, button_action, list_button_room_tasks
from envs.registry import make_env
from recipe.rwml.learn_check.curves import CheckResult, Curve
from recipe.rwml.learn_check.trainer_run import optimizer, run_trainer
from recipe.rwml.learn_check.warm_up import chat_examples, sft

MAX_STEPS = 2  # env steps per episode
STEPS = 10  # GRPO steps per run
K = 3  # steps averaged at each end
# A step's success rate is over 24 episodes near p = 1/2: a k = 3 window's mean has SD ~sqrt(p(1-p)/72) = 0.059, a
# flat run's rise SD ~0.083, so a rise of 0.2 is ~2.4 SD. Measured rises over seeds 0-4: windowed 0.21-0.47,
# multi_turn 0.28-0.40 (README, "Learnability check").
MARGIN = 0.2
LR = 0.2  # plain SGD (trainer_run.optimizer); 0.5 learned in 5 steps, then broke the format by step 9
# verl.trainer.ppo.padding_utils names its filler samples so
_PADDING_KEY = re.compile(r"^pad[0-9a-f]{32}_\d+_0$")
AGENT_LOOP_YAML = Path(__file__).resolve().parents[1] / "config" / "agent_loop.yaml"


def answer(colour: str) -> str:
    """A policy turn in the loop's format, pressing `colour`."""
    from data_prep.policy_actions import ACTION_CLOSE, ACTION_OPEN
    from reward_score.answer_format import THINK_CLOSE, THINK_OPEN

    return f"{THINK_OPEN}\n\n{THINK_CLOSE}\n{ACTION_OPEN}{button_action(colour)}{ACTION_CLOSE}"


def build_data(root: Path) -> Path:
    """The button-room tasks as stage-2 rows (`train.parquet`, `val.parquet`: the same six tasks)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from data_prep.build_policy_dataset import policy_row

    rows = [policy_row(task, i) for i, task in enumerate(list_button_room_tasks("train"))]
    root.mkdir(parents=True, exist_ok=True)
    for split in ("train", "val"):
        pq.write_table(pa.Table.from_pylist(rows), root / f"{split}.parquet")
    return root


def contexts() -> list[list[dict]]:
    """Every prompt (as chat messages) the loop shows in an episode of the check, in both context modes."""
    from data_prep.policy_prompts import build_policy_messages, observation_message

    out = []
    for task in list_button_room_tasks("train"):
        env = make_env("button_room")
        reset = env.reset(task)
        first = build_policy_messages(
            "button_room", reset.task, reset.observation, [], reset.observation, env.admissible_actions, reset.info, 2
        )
        out.append(first)
        for colour in COLOURS:
            if colour == WINNING:
                continue
            env.reset(task)
            action = button_action(colour)
            step = env.step(action)
            history = [(action, step.observation)]
            out.append(
                build_policy_messages(
                    "button_room",
                    reset.task,
                    reset.observation,
                    history,
                    step.observation,
                    env.admissible_actions,
                    reset.info,
                    2,
                )
            )  # windowed: the prompt rebuilt with the last steps
            out.append(
                [
                    *first,
                    {"role": "assistant", "content": answer(colour)},
                    observation_message("button_room", action, step.observation, 0, env.admissible_actions),
                ]
            )  # multi-turn: the conversation goes on
    return out


def warm_up(model_dir: Path, out: Path, steps: int = 400, lr: float = 3e-3, seed: int = 0) -> Path:
    """The model of `model_dir` taught to answer every prompt of `contexts()` with each button equally often."""
    examples = chat_examples(model_dir, contexts(), [answer(c) for c in COLOURS])
    loss = sft(model_dir, examples, out, steps=steps, lr=lr, batch=8, seed=seed)
    print(f"learn-check stage 2 warm-up: {steps} SFT steps, final loss {loss:.3f}")
    return out


def train(
    model: Path, data: Path, out: Path, *, context: str, steps: int, seed: int = 0, lr: float = LR
) -> dict[int, dict[str, float]]:
    """GRPO through `main_rwml` (stage-2 config, the project's env agent loop in `context` mode)."""
    env = "actor_rollout_ref.rollout.custom.rwml_env"
    overrides = [
        f"actor_rollout_ref.model.path={model}",
        f"data.train_files={data / 'train.parquet'}",
        f"data.val_files={data / 'val.parquet'}",
        "data.train_batch_size=6",
        "actor_rollout_ref.rollout.n=4",
        "actor_rollout_ref.actor.ppo_mini_batch_size=6",
        "data.max_prompt_length=512",
        "data.max_response_length=256" if context == "multi_turn" else "data.max_response_length=32",
        *optimizer(lr),
        f"actor_rollout_ref.rollout.agent.agent_loop_config_path={AGENT_LOOP_YAML}",
        f"{env}.context={context}",
        f"+{env}.envs.button_room.max_steps={MAX_STEPS}",
        f"+{env}.envs.button_room.history_window=2",
        f"+{env}.envs.button_room.max_tokens_per_turn=32",
    ]
    return run_trainer("policy_trainer", overrides, out, steps=steps, seed=seed)


def success_rate(rollouts: Path) -> list[float]:
    """The share of episodes that opened the door, per step, from verl's dump of the step's samples. A windowed
    episode is several samples (one per env step) with the episode's reward: samples are grouped back into episodes
    by their key (`<prompt>_<rollout>_<output>`); reward = success - 0.1 x invalid, so success is reward > 0.5.
    The samples verl adds to fill the last mini-batch (`pad<hex>_<i>_0`, reward 0) are not episodes."""
    files = sorted(rollouts.glob("*.jsonl"), key=lambda p: int(p.stem))
    if not files:
        raise RuntimeError(f"no rollout dumps in {rollouts}")
    rates = []
    for path in files:
        episodes: dict[str, float] = {}
        for n, line in enumerate(path.read_text().splitlines(), 1):
            sample = json.loads(line)
            key = str(sample.get("uid", ""))
            if _PADDING_KEY.match(key):
                continue
            parts = key.rsplit("_", 2)
            if len(parts) != 3:
                raise RuntimeError(f"{path}:{n}: sample key {key!r} is not <prompt>_<rollout>_<output>")
            episodes[f"{parts[0]}_{parts[1]}"] = float(sample["score"])
        rates.append(sum(score > 0.5 for score in episodes.values()) / len(episodes))
    return rates


def prepare(out: Path, *, seed: int = 0) -> tuple[Path, Path]:
    """The rows and the warmed-up model both context modes train from."""
    from recipe.rwml.base_models import make_tiny_model

    data = build_data(out / "data")
    return data, warm_up(make_tiny_model(out / "tiny"), out / "warmup_hf", seed=seed)


def check(
    out: Path, *, context: str, seed: int = 0, steps: int = STEPS, prepared: tuple[Path, Path] | None = None
) -> CheckResult:
    """The stage-2 check in one context mode: the success rate per step must rise."""
    return checks(out, contexts=(context,), seed=seed, steps=steps, prepared=prepared)[context]


def checks(
    out: Path,
    *,
    contexts: tuple[str, ...] = ("windowed", "multi_turn"),
    seed: int = 0,
    steps: int = STEPS,
    prepared: tuple[Path, Path] | None = None,
) -> dict[str, CheckResult]:
    """The stage-2 check in each of `contexts`, one after the other from the same rows and warmed-up model; the
    runs of `context` go to `out/stage2-<context>/<context>`."""
    data, model = prepared or prepare(out / "stage2", seed=seed)
    runs = {c: out / f"stage2-{c}" / c for c in contexts}
    for c, run in runs.items():
        train(model, data, run, context=c, steps=steps, seed=seed)
    return {
        c: CheckResult(
            f"stage2-{c}",
            "episodes that opened the door",
            Curve(f"{c} success rate", success_rate(run / "rollouts")),
            None,
            K,
            MARGIN,
        )
        for c, run in runs.items()
    }

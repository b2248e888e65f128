"""Real ALFWorld transition pairs for testing and calibrating the reward: the real outcome vs another action's.

Games are played with envs.alfworld_env.AlfWorldEnv: the handcoded expert (with a share of random
admissible actions) plays a trajectory. At some steps t the game is reset, the first t actions replayed,
and a different admissible action taken instead: its observation is what the world would have shown had
the agent done something else in the very same state. Replays are checked against the recorded
observations (the games are deterministic). Every observation gets the task-status line the dataset
builder appends to ground truths.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from envs.base import EnvError, ResetResult, StepResult, TaskSpec, TextEnv
from envs.registry import list_tasks, make_env
from reward_score.answer_format import with_status


@dataclass(frozen=True)
class BranchPair:
    game: str  # task id: <task folder>/<trial>
    t: int  # step index of the branch
    task: str  # the goal as the agent sees it
    observation: str  # what the agent saw before acting (the previous observation)
    action: str
    next_state: str  # the real next observation + status line
    other_action: str
    other_next_state: str  # the other action's observation + status line

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def play(
    env: TextEnv, task: TaskSpec, max_steps: int, epsilon: float, rng: random.Random
) -> tuple[ResetResult, list[tuple[str, list[str], str, StepResult]]]:
    """One trajectory of the expert with `epsilon` random admissible actions: (reset, steps).

    Each step is (observation before, admissible actions, action, step result).
    """
    reset = env.reset(task)
    obs, info = reset.observation, reset.info
    steps = []
    for _ in range(max_steps):
        admissible = list(env.admissible_actions or [])
        expert = info.get("expert_action")
        others = [a for a in admissible if a != expert]
        action = rng.choice(others) if others and (not expert or rng.random() < epsilon) else expert
        if not action:
            break
        result = env.step(action)
        steps.append((obs, admissible, action, result))
        obs, info = result.observation, result.info
        if result.done:
            break
    return reset, steps


def replay(env: TextEnv, task: TaskSpec, recorded: list[tuple[str, str]], *, where: str) -> None:
    """Reset `env` to `task` and take the recorded (action, observation) steps again; a different observation
    raises EnvError naming `where` and the step (the games are deterministic)."""
    env.reset(task)
    for i, (action, observation) in enumerate(recorded):
        if env.step(action).observation != observation:
            raise EnvError(f"{where}: replay of step {i} ({action!r}) diverged")


def branch_pairs(
    env: TextEnv,
    task: TaskSpec,
    *,
    branches: int = 3,
    max_steps: int = 12,
    epsilon: float = 0.2,
    seed: int = 0,
) -> list[BranchPair]:
    """Up to `branches` (real, other-action) pairs from one game; deterministic for a seed."""
    rng = random.Random(f"{seed}:{task.task_id}")
    reset, steps = play(env, task, max_steps, epsilon, rng)
    candidates = [t for t, (_, admissible, action, _) in enumerate(steps) if any(a != action for a in admissible)]
    pairs = []
    for t in sorted(rng.sample(candidates, min(branches, len(candidates)))):
        obs_t, admissible, action, real = steps[t]
        other = rng.choice([a for a in admissible if a != action])
        replay(env, task, [(s[2], s[3].observation) for s in steps[:t]], where=task.task_id)
        alt = env.step(other)
        pairs.append(
            BranchPair(
                game=task.task_id,
                t=t,
                task=reset.task,
                observation=obs_t,
                action=action,
                next_state=with_status(real.observation, real.success),
                other_action=other,
                other_next_state=with_status(alt.observation, alt.success),
            )
        )
    return pairs


def collect_pairs(
    data_root: str | Path,
    split: str,
    *,
    games: int | None = None,
    branches: int = 3,
    max_steps: int = 12,
    epsilon: float = 0.2,
    seed: int = 0,
    progress: bool = True,
) -> list[BranchPair]:
    """Branch pairs from the first `games` games of a split (spread over task types by a seeded shuffle)."""
    tasks = list_tasks("alfworld", split, data_root=data_root)
    random.Random(seed).shuffle(tasks)
    tasks = tasks[:games] if games else tasks
    env = make_env("alfworld")
    out: list[BranchPair] = []
    try:
        for task in tqdm(tasks, desc=f"ALFWorld {split} pairs", disable=not progress):
            out.extend(branch_pairs(env, task, branches=branches, max_steps=max_steps, epsilon=epsilon, seed=seed))
    finally:
        env.close()
    return out

"""Real ALFWorld transition pairs for testing and calibrating the reward: the real outcome vs another action's.

Games are played with envs.alfworld_env.AlfWorldEnv: the handcoded expert (with a share of random
admissible actions) plays a trajectory. At some steps t the game is reset, the first t actions replayed,
and a different admissible action taken instead: its observation is what the world would have shown had
the agent done something else in the very same state. Replays are checked against the recorded
observations (the games are deterministic). Every observation gets the task-status line the dataset
builder appends to ground truths. Pairs also come from collected episodes (`pairs_from_episodes`: replay, then act
differently) and are kept one JSON object per line (`read_pairs`, `write_pairs`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from data_prep.atomic_file import write_atomic
from data_prep.wm_episodes import env_transitions, iter_records
from envs.base import EnvError, ResetResult, StepResult, TaskSpec, TextEnv
from envs.episode import Episode
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


def pairs_from_episodes(
    path: str | Path, data_root: str | Path, *, branches: int = 3, seed: int = 0, max_episodes: int | None = None
) -> list[BranchPair]:
    """Branch pairs from collected ALFWorld episodes (envs/episode.py JSONL): replay, then act differently.

    The episodes are read and validated as the world-model builders read them (data_prep.wm_episodes.iter_records).
    Only environment transitions are replayed and branched: format-error steps (no action) are dropped first.
    """
    rng = random.Random(seed)
    episodes: list[Episode] = []
    for _, _, record in iter_records([path]):  # a bad line: BadRecord (a ValueError) naming file, line and field
        ep = env_transitions(record)  # format-error steps never reached the env
        if ep.env == "alfworld" and ep.steps:
            episodes.append(ep)
    if max_episodes:
        episodes = episodes[:max_episodes]
    if not episodes:
        raise ValueError(f"{path}: no ALFWorld episodes with steps")
    specs = {
        (t.split, t.task_id): t
        for split in sorted({ep.split for ep in episodes})
        for t in list_tasks("alfworld", split, data_root=data_root)
    }
    env = make_env("alfworld")
    pairs: list[BranchPair] = []
    try:
        for ep in tqdm(episodes, desc="replaying episodes"):
            task = specs.get((ep.split, ep.task_id))
            if task is None:
                raise EnvError(f"{path}: episode {ep.episode_id}: game {ep.task_id!r} not under {data_root}/{ep.split}")
            last = len(ep.steps) - 1
            for t in sorted(rng.sample(range(len(ep.steps)), min(branches, len(ep.steps)))):
                recorded = [(s.action, s.next_observation) for s in ep.steps[:t]]
                replay(env, task, recorded, where=f"{path}: episode {ep.episode_id}")
                step = ep.steps[t]
                others = [a for a in (env.admissible_actions or []) if a != step.action]
                if not others:
                    continue
                other = rng.choice(others)
                alt = env.step(other)
                pairs.append(
                    BranchPair(
                        game=ep.task_id,
                        t=t,
                        task=ep.task,
                        observation=step.observation,
                        action=step.action,
                        next_state=with_status(step.next_observation, ep.success and t == last),
                        other_action=other,
                        other_next_state=with_status(alt.observation, alt.success),
                    )
                )
    finally:
        env.close()
    return pairs


def read_pairs(path: Path) -> list[BranchPair]:
    """Pairs saved one JSON object per line (`write_pairs`, e.g. by `alfworld_families --pairs-cache`)."""
    out = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                out.append(BranchPair(**json.loads(line)))
            except (ValueError, TypeError) as e:
                raise ValueError(f"{path}:{i}: not a transition pair ({type(e).__name__}: {e})") from None
    return out


def write_pairs(path: Path, pairs: Iterable[BranchPair]) -> None:
    """`pairs` one JSON object per line, written whole (`read_pairs` reads them back)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, "".join(json.dumps(p.to_dict()) + "\n" for p in pairs))

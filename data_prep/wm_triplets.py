"""World-model triplets: (recent history, action, real next state) from the steps of one episode.

`episode_triplets` turns an episode into triplets: format-error steps are removed first (data_prep.wm_episodes),
each remaining step whose next state the world model predicts becomes one triplet with its prompt
(data_prep.wm_prompts) and ground truth. Ground truths: ALFWorld `with_status(next observation, won at this step)`;
tau2 user replies `with_status(reply, conversation over)`; tau2 tool responses as they are. `wm_row` makes a
triplet into one row of the world-model parquet (`WM_SCHEMA`, verl's RLHFDataset layout).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from data_prep import wm_prompts
from data_prep.history_windows import HISTORY_WINDOW
from data_prep.wm_episodes import KEEP_KINDS, domain_of, env_transitions
from envs.episode import Episode, StepRecord
from reward_score.answer_format import with_status

MESSAGES_TYPE = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
EXTRA_INFO_TYPE = pa.struct(
    [
        ("index", pa.int64()),
        ("split", pa.string()),
        ("env", pa.string()),
        ("domain", pa.string()),
        ("task_id", pa.string()),
        ("episode_id", pa.string()),
        ("step", pa.int64()),
        ("action", pa.string()),
        ("state_kind", pa.string()),
        ("observation", pa.string()),
        ("task", pa.string()),
        ("valid", pa.bool_()),
        ("done", pa.bool_()),
        ("history", pa.int64()),
    ]
)


@dataclass
class Triplet:
    """One (history, action, next state) sample with what the rows need."""

    env: str
    domain: str
    data_source: str
    task_id: str
    episode_id: str
    step: int  # the step's index in the episode record
    action: str
    observation: str  # the state the action was taken in
    state_kind: str
    ground_truth: str
    system: str
    user: str
    task: str
    valid: bool
    done: bool
    history: int

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]

    def extra_info(self, split: str, index: int) -> dict[str, Any]:
        return {
            "index": index,
            "split": split,
            "env": self.env,
            "domain": self.domain,
            "task_id": self.task_id,
            "episode_id": self.episode_id,
            "step": self.step,
            "action": self.action,
            "state_kind": self.state_kind,
            "observation": self.observation,
            "task": self.task,
            "valid": self.valid,
            "done": self.done,
            "history": self.history,
        }


WM_SCHEMA = pa.schema(
    [
        ("data_source", pa.string()),
        ("prompt", MESSAGES_TYPE),
        ("ability", pa.string()),
        ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
        ("extra_info", EXTRA_INFO_TYPE),
    ]
)


def wm_row(t: Triplet, split: str, index: int) -> dict[str, Any]:
    """One world-model RL row (verl RLHFDataset layout)."""
    return {
        "data_source": t.data_source,
        "prompt": t.messages(),
        "ability": "world_model",
        "reward_model": {"style": "sim_to_real", "ground_truth": t.ground_truth},
        "extra_info": t.extra_info(split, index),
    }


def ground_truth(env: str, step: StepRecord) -> str:
    """The real next state as the reward compares it (with the task-status line where the env has one)."""
    obs = str(step.next_observation)
    if env == "alfworld":
        won = step.info.get("won")
        if won is None:  # records without the flag: a win is the positive reward ALFWorld gives at the goal
            won = bool(step.done) and float(step.reward) > 0
        return with_status(obs, bool(won))
    if step.state_kind == "user_reply":
        return with_status(obs, bool(step.done))
    return obs


def episode_triplets(ep: Episode, history: int | None, dropped: Counter | None = None) -> Iterator[Triplet]:
    """The triplets of one episode; format-error steps, and steps whose next state the world model does not
    predict, count in `dropped` by "<env>:<state kind>"."""
    ep = env_transitions(ep, dropped)
    env = ep.env
    h = HISTORY_WINDOW[env] if history is None else history
    domain = domain_of(ep)
    source = wm_prompts.data_source(env, domain or None)
    steps = ep.steps
    for i, step in enumerate(steps):
        if step.state_kind not in KEEP_KINDS[env]:
            if dropped is not None:
                dropped[f"{env}:{step.state_kind}"] += 1
            continue
        system, user = wm_prompts.episode_step_prompt(ep, i, h)
        yield Triplet(
            env=env,
            domain=domain,
            data_source=source,
            task_id=str(ep.task_id),
            episode_id=str(ep.episode_id),
            step=int(step.t),
            action=str(step.action),
            observation=str(steps[i - 1].next_observation if i else ep.initial_observation),
            state_kind=str(step.state_kind),
            ground_truth=ground_truth(env, step),
            system=system,
            user=user,
            task=str(ep.task),
            valid=bool(step.valid),
            done=bool(step.done),
            history=h,
        )


def triplet_hash(t: Triplet) -> int:
    """A 64-bit key of the triplet's content (source, prompt, ground truth) for exact de-duplication."""
    h = hashlib.blake2b(digest_size=8)
    for part in (t.data_source, t.user, t.ground_truth):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return int.from_bytes(h.digest(), "little")

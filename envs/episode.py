"""The episode record: one JSON line per episode in the collection output.

Every stage after collection (world-model triplets, SFT data, calibration, evaluation) reads this
shape, so it lives in one place. `steps[i]` is the transition `(observation, action) -> next_observation`;
the history of a step is the steps before it plus the episode's initial observation.

`Episode.from_dict` is the one parser of a record (data_prep.wm_episodes validates the dict first). A field the
record leaves out takes its default, and a null `task`, `info`, step `reward` or step `info` reads as left out, as
every reader has read them. Two nulls are kept as the readers met them: a null step `valid` reads as false (not
marked valid), and a null step `t` stays null (the world-model builders reject that record). Unknown keys are
ignored, so the `num_steps`/`num_invalid_actions` that `to_dict` adds read back too.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

# The state kind of a step whose policy output had no usable action: the env was not stepped, the agent was shown a
# format reminder (data_prep.policy_actions), and world-model data leaves the step out.
FORMAT_ERROR_KIND = "format_error"


@dataclass(kw_only=True)
class StepRecord:
    t: int  # the step's index in the episode record (a record without it: its position there)
    observation: str = ""  # what the agent saw before acting (a record without it: the state before the step)
    raw_output: str = ""  # the policy's full text (reasoning + tagged action), or the scripted policy's note
    action: str | None  # the parsed action sent to the env; None: the output had none (the env was not stepped)
    next_observation: str  # what the env answered (after action None: the format reminder the agent was shown)
    reward: float = 0.0
    done: bool
    valid: bool = True  # False when the env could not apply the action ("Nothing happens.", bad tool call)
    state_kind: str  # "observation" (ALFWorld) | "tool_response" | "user_reply" (tau2) | "format_error" (no action)
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any], index: int, before: str) -> StepRecord:
        """Step `index` of a record; `before` is the state it was taken in (the last step's next observation, or
        the episode's initial one), its observation when the record has none."""
        return cls(
            t=d.get("t", index),
            observation=before if d.get("observation") is None else d["observation"],
            raw_output=d.get("raw_output") or "",
            action=d["action"],
            next_observation=d["next_observation"],
            reward=float(d.get("reward") or 0.0),
            done=d["done"],
            valid=bool(d.get("valid", True)),
            state_kind=d["state_kind"],
            info=d.get("info") or {},
        )


@dataclass(kw_only=True)
class Episode:
    episode_id: str  # "<env>/<split>/<task_id>/<episode_index>": the resume key
    env: str
    split: str = ""
    task_id: str
    episode_index: int = 0
    policy: dict[str, Any] = field(default_factory=dict)
    task: str = ""  # the goal as shown to the agent
    initial_observation: str
    steps: list[StepRecord]
    success: bool = False
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def num_invalid(self) -> int:
        return sum(not s.valid for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["num_steps"] = len(self.steps)
        d["num_invalid_actions"] = self.num_invalid
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Episode:
        """An episode from its record (the layout `to_dict` writes; see the module docstring for left-out fields).
        KeyError or TypeError when a required field is missing or not of its kind."""
        steps, before = [], d["initial_observation"]
        for i, s in enumerate(d["steps"]):
            steps.append(StepRecord.from_dict(s, i, before))
            before = steps[-1].next_observation
        optional = {k: d[k] for k in ("split", "episode_index", "policy", "success") if d.get(k) is not None}
        return cls(
            episode_id=d["episode_id"],
            env=d["env"],
            task_id=str(d["task_id"]),
            task=d.get("task") or "",
            initial_observation=d["initial_observation"],
            steps=steps,
            info=d.get("info") or {},
            **optional,
        )


def episode_id(env: str, split: str, task_id: str, episode_index: int) -> str:
    return f"{env}/{split}/{task_id}/{episode_index}"

"""The episode record: one JSON line per episode in the collection output.

Every stage after collection (world-model triplets, SFT data, calibration, evaluation) reads this
shape, so it lives in one place. `steps[i]` is the transition `(observation, action) -> next_observation`;
the history of a step is the steps before it plus the episode's initial observation.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

# The state kind of a step whose policy output had no usable action: the env was not stepped, the agent was shown a
# format reminder (data_prep.policy_actions), and world-model data leaves the step out.
FORMAT_ERROR_KIND = "format_error"


@dataclass
class StepRecord:
    t: int
    observation: str  # what the agent saw before acting
    raw_output: str  # the policy's full text (reasoning + tagged action), or the scripted policy's note
    action: str | None  # the parsed action sent to the env; None: the output had none (the env was not stepped)
    next_observation: str  # what the env answered (after action None: the format reminder the agent was shown)
    reward: float
    done: bool
    valid: bool  # False when the env could not apply the action ("Nothing happens.", bad tool call)
    state_kind: str  # "observation" (ALFWorld) | "tool_response" | "user_reply" (tau2) | "format_error" (no action)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Episode:
    episode_id: str  # "<env>/<split>/<task_id>/<episode_index>": the resume key
    env: str
    split: str
    task_id: str
    episode_index: int
    policy: dict[str, Any]
    task: str  # the goal as shown to the agent
    initial_observation: str
    steps: list[StepRecord]
    success: bool
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
        steps = [StepRecord(**s) for s in d["steps"]]
        keys = {k: d[k] for k in cls.__dataclass_fields__ if k != "steps" and k in d}
        return cls(steps=steps, **keys)


def episode_id(env: str, split: str, task_id: str, episode_index: int) -> str:
    return f"{env}/{split}/{task_id}/{episode_index}"

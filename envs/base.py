"""One small text-environment interface shared by ALFWorld and tau2-bench.

An environment is reset to one task (a game file, or a tau2 domain + task id) and then stepped with
action strings. Every step returns the next observation text, whether the episode is over, whether the
task is solved, and an info dict. `state_kind` in the info names what produced the observation
(`observation` for ALFWorld, `tool_response` / `user_reply` for tau2); the world-model dataset keeps it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


class EnvError(RuntimeError):
    """An environment could not be built or reset (missing data root, unknown task, ...)."""


@dataclass
class TaskSpec:
    """What a worker needs to build and reset an environment for one task; JSON-serialisable."""

    env: str  # "alfworld" | "tau2"
    task_id: str
    split: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"env": self.env, "task_id": self.task_id, "split": self.split, "kwargs": dict(self.kwargs)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TaskSpec:
        return cls(env=d["env"], task_id=d["task_id"], split=d["split"], kwargs=dict(d.get("kwargs") or {}))


@dataclass
class StepResult:
    observation: str
    reward: float
    done: bool
    success: bool
    valid: bool
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class ResetResult:
    observation: str
    task: str  # the goal as the agent sees it ("Your task is to: ...", or the tau2 policy + first user turn)
    info: dict[str, Any] = field(default_factory=dict)


class TextEnv(ABC):
    """A text environment reset to one task at a time."""

    name: str = "base"

    def seed(self, seed: int) -> None:  # noqa: B027 - optional hook
        """Seed the env's own randomness (ALFWorld: the handcoded expert) for the next `reset`; default: none."""

    @abstractmethod
    def reset(self, task: TaskSpec) -> ResetResult:
        """Start a new episode of `task`."""

    @abstractmethod
    def step(self, action: str) -> StepResult:
        """Apply one action string; an action the env cannot apply is `valid=False`, never an exception."""

    @property
    def admissible_actions(self) -> list[str] | None:
        """Actions valid in the current state, where the environment knows them (ALFWorld); else None."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

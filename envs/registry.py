"""Build an environment or list its tasks by name, so callers never import env modules directly.

The env modules import heavy stacks (TextWorld, tau2 + litellm); importing them lazily keeps
`import envs` cheap and lets an ALFWorld-only worker run without loading tau2.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from envs.base import EnvError, TaskSpec, TextEnv

ENV_NAMES = ("alfworld", "tau2", "button_room")
# Envs that take one text command per step from a list of admissible commands (ALFWorld's protocol): the policy
# prompts and the action parser treat them alike. button_room is the learnability checks' toy room.
COMMAND_ENVS = frozenset({"alfworld", "button_room"})


def make_env(name: str, **kwargs: Any) -> TextEnv:
    """A fresh environment of kind `name` (one of ENV_NAMES); kwargs go to its constructor."""
    if name == "alfworld":
        from envs.alfworld_env import AlfWorldEnv

        return AlfWorldEnv(**kwargs)
    if name == "tau2":
        from envs.tau2_env import Tau2Env

        return Tau2Env(**kwargs)
    if name == "button_room":
        from envs.button_room import ButtonRoomEnv

        return ButtonRoomEnv(**kwargs)
    raise EnvError(f"unknown environment {name!r}; expected one of {', '.join(ENV_NAMES)}")


def list_tasks(
    name: str, split: str, *, data_root: str | Path | None = None, domain: str | None = None
) -> list[TaskSpec]:
    """The tasks of one split: ALFWorld games under `data_root`, or tau2 tasks of `domain`."""
    if name == "alfworld":
        from envs.alfworld_env import list_alfworld_tasks, resolve_data_root

        return list_alfworld_tasks(resolve_data_root(str(data_root) if data_root else None), split)
    if name == "tau2":
        from envs.tau2_tasks import list_tau2_tasks

        if not domain:
            raise EnvError("tau2 needs a domain (airline, retail or telecom)")
        return list_tau2_tasks(domain, split)
    if name == "button_room":
        from envs.button_room import list_button_room_tasks

        return list_button_room_tasks(split)
    raise EnvError(f"unknown environment {name!r}; expected one of {', '.join(ENV_NAMES)}")


def task_group(task: TaskSpec) -> str:
    """What a task is an instance of: the ALFWorld task type, or the tau2 domain."""
    return str(task.kwargs.get("task_type") or task.kwargs.get("domain") or task.env)


def spread_tasks(tasks: list[TaskSpec], n: int | None, seed: int = 0) -> list[TaskSpec]:
    """At most `n` of `tasks`, drawn round-robin over their groups (task types / domains), seeded.

    The first N in sorted order would be one or two ALFWorld task types; this gives every type its share. The
    result keeps the input order, so the same arguments give the same tasks; `n=None` keeps them all.
    """
    if n is None or n >= len(tasks):
        return list(tasks)
    if n < 1:
        raise EnvError(f"--max-tasks must be >= 1, got {n}")
    rng = random.Random(seed)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, task in enumerate(tasks):
        groups[task_group(task)].append(i)
    queues = [rng.sample(idx, len(idx)) for _, idx in sorted(groups.items())]
    rng.shuffle(queues)
    chosen: list[int] = []
    while len(chosen) < n:
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(queue.pop())
    return [tasks[i] for i in sorted(chosen)]

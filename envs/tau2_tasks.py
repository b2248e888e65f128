"""tau2-bench tasks: the domains' task files and splits (tau2's registry), one task's `Task`, its gold actions.

`list_tau2_tasks(domain, split)` lists tau2's own splits as `TaskSpec`s; `gold_action_strings` turns a reset's
info into the scripted gold policy's actions (the replay that scores 1.0 with tau2's evaluator).
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before tau2 imports litellm

from tau2.data_model.tasks import RewardType, Task  # noqa: E402
from tau2.registry import registry  # noqa: E402

from envs.base import EnvError, TaskSpec  # noqa: E402

DOMAINS = ("airline", "retail", "telecom")
STOP_TOKEN = "###STOP###"
TRANSFER_TOOL = "transfer_to_human_agents"


@cache
def _domain_tasks(domain: str) -> tuple[dict[str, Task], dict[str, tuple[str, ...]]]:
    """Every task in the domain's task file by id (file order), and tau2's named splits of it."""
    if domain not in DOMAINS:
        raise EnvError(f"unknown tau2 domain {domain!r}; expected one of {', '.join(DOMAINS)}")
    tasks = registry.get_tasks_loader(domain)(None)
    splits_loader = registry.get_task_splits_loader(domain)
    splits = {name: tuple(ids) for name, ids in (splits_loader() if splits_loader else {}).items()}
    return {t.id: t for t in tasks}, splits


def tau2_splits(domain: str) -> list[str]:
    """The split names `list_tau2_tasks` accepts for `domain`: "all" plus tau2's own (base, train, test, ...)."""
    return ["all", *_domain_tasks(domain)[1]]


def list_tau2_tasks(domain: str, split: str) -> list[TaskSpec]:
    """The tasks of one tau2 split, in the order of tau2's task file.

    Splits are tau2's own (`split_tasks.json` beside each domain's tasks): `train`, `test`, and `base` (the
    benchmark's standard set, train + test); "all" is `base`. telecom also has `small` and `full` (the 2285
    generated tasks in its task file).
    """
    tasks, splits = _domain_tasks(domain)
    name = "base" if split == "all" else split
    if name not in splits:
        raise EnvError(f"unknown tau2 split {split!r} for domain {domain!r}; expected one of {tau2_splits(domain)}")
    wanted = set(splits[name])
    missing = wanted - tasks.keys()
    if missing:
        raise EnvError(f"tau2 {domain} split {name!r} names tasks missing from the task file: {sorted(missing)[:5]}")
    return [TaskSpec(env="tau2", task_id=tid, split=split, kwargs={"domain": domain}) for tid in tasks if tid in wanted]


def get_tau2_task(domain: str, task_id: str) -> Task:
    """tau2's `Task` object for one task id."""
    tasks, _ = _domain_tasks(domain)
    if task_id not in tasks:
        raise EnvError(f"unknown tau2 task id {task_id!r} in domain {domain!r} ({len(tasks)} tasks)")
    return tasks[task_id]


def gold_action_strings(info: dict[str, Any]) -> list[str]:
    """The scripted gold policy's actions for a reset `info`: the gold tool calls in order, then one message
    that tells the user the task's communicate_info (where the reward basis counts it) and ends with ###STOP###
    (no final message after a transfer to a human, which ends the conversation itself).

    User-requestor calls (telecom) carry `"requestor": "user"`; they need `allow_user_tool_calls=True`.
    """
    actions = []
    for act in info["gold_actions"]:
        call: dict[str, Any] = {"name": act["name"], "arguments": act["arguments"]}
        if act.get("requestor", "assistant") != "assistant":
            call["requestor"] = act["requestor"]
        actions.append(json.dumps(call, ensure_ascii=False))
    if any(a["name"] == TRANSFER_TOOL for a in info["gold_actions"]):
        return actions  # the transfer ends the conversation
    said = [str(x) for x in info.get("communicate_info") or []]
    if said and RewardType.COMMUNICATE.value in info.get("reward_basis", []):
        actions.append(f"Here is the information you asked for: {' ; '.join(said)}. {STOP_TOKEN}")
    else:
        actions.append(STOP_TOKEN)
    return actions

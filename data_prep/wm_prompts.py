"""World-model prompts: "here is the recent history and the action; predict the next state".

One place for the text a world model sees, used by the world-model (RL) and SFT dataset builders and usable by
anything else that queries a world model. The answer format (reasoning in <think>, the predicted state in
<next_state>, the task-status line) comes from `reward_score.answer_format`, the same module the reward parser
reads, so the prompt and the parser cannot drift apart.

A prompt is two chat messages. The system message makes the model a world model of one environment (ALFWorld, or
one tau2-bench domain with a compact list of its tools). The user message holds the agent's task, the last
`history` steps before the current one (state, action, state, ...), the current state, the action to simulate, and
the format instruction. ALFWorld ground truths, and tau2 user replies, end with a task-status line
(`reward_score.answer_format.with_status`); the system message says so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from data_prep.history_windows import HISTORY_WINDOW
from envs.episode import Episode
from reward_score.answer_format import FORMAT_INSTRUCTION, STATUS_RULE

ALFWORLD_SYSTEM = (
    "You are a world model of ALFWorld, a text-based household environment. An agent acts in a house to complete a "
    "task; the environment answers each action with a short observation (what the agent now sees, holds or "
    'changed; "Nothing happens." when the action cannot be applied). Given the recent history and the agent\'s '
    "next action, predict the environment's next observation exactly as the environment would write it, followed "
    "by a new line with the task status after that action. " + STATUS_RULE
)

TAU2_SYSTEM = (
    "You are a world model of the tau2-bench {domain} customer-service environment. A customer-service agent helps "
    "a customer by calling the domain's tools, which read and change the {domain} database, and by sending "
    "messages to the customer. Given the recent history and the agent's next action, predict what comes back:\n"
    "- after a tool call, the tool's response exactly as the tool returns it (JSON, or a short text or error);\n"
    "- after a message to the customer, the customer's reply, followed by a new line with the task status after "
    "that reply (completed once the customer ends the conversation). " + STATUS_RULE + "\n\n"
    "The domain's tools:\n{tools}"
)

_STATE_LABEL = {
    "alfworld": {"observation": "Observation"},
    "tau2": {"tool_response": "Tool response", "user_reply": "Customer reply", "offline": "Conversation start"},
}
_ACTION_LABEL = {
    "alfworld": {"observation": "Action"},
    "tau2": {"tool_response": "Agent tool call", "user_reply": "Agent message to the customer"},
}


def check_env(env: str) -> str:
    """'alfworld' or 'tau2' from an env name; anything else is an error naming it."""
    if env not in HISTORY_WINDOW:
        raise ValueError(f"unknown environment {env!r}; expected one of {sorted(HISTORY_WINDOW)}")
    return env


def data_source(env: str, domain: str | None = None) -> str:
    """The dataset's `data_source`: "rwml_alfworld" or "rwml_tau2_<domain>". The reward reads the env from
    `extra_info["env"]` and falls back to this name when a row has none; a row whose two disagree scores 0,
    `env_mismatch` (reward_score.settings.env_of_sample)."""
    if check_env(env) == "tau2":
        if not domain:
            raise ValueError("a tau2 data source needs a domain")
        return f"rwml_tau2_{domain}"
    return "rwml_alfworld"


def _param_text(name: str, schema: dict[str, Any], required: set[str]) -> str:
    kind = schema.get("type") or ("/".join(s.get("type", "?") for s in schema.get("anyOf", [])) or "any")
    return f"{name}: {kind}" + ("" if name in required else " (optional)")


def tools_summary(tools: Sequence[dict[str, Any]]) -> str:
    """One line per OpenAI function schema: `name(arg: type, ...): description` (a compact tool list)."""
    lines = []
    for tool in tools:
        fn = tool.get("function", tool)
        params = fn.get("parameters") or {}
        required = set(params.get("required") or [])
        args = ", ".join(_param_text(k, v, required) for k, v in (params.get("properties") or {}).items())
        desc = " ".join(str(fn.get("description") or "").split())
        lines.append(f"- {fn['name']}({args}): {desc}")
    return "\n".join(lines)


@cache
def tau2_tools(domain: str) -> tuple[dict[str, Any], ...]:
    """The agent tools of a tau2 domain (OpenAI schemas), from tau2's own registry (imports tau2 on first use)."""
    from envs.tau2_tasks import DOMAINS, registry

    if domain not in DOMAINS:
        raise ValueError(f"unknown tau2 domain {domain!r}; expected one of {', '.join(DOMAINS)}")
    env = registry.get_env_constructor(domain)()
    return tuple(t.openai_schema for t in env.get_tools())


@cache
def system_prompt(env: str, domain: str | None = None) -> str:
    """The system message text for `env` (tau2: for one domain, with its tools)."""
    if check_env(env) == "alfworld":
        return ALFWORLD_SYSTEM
    if not domain:
        raise ValueError("a tau2 world-model prompt needs a domain")
    return TAU2_SYSTEM.format(domain=domain, tools=tools_summary(tau2_tools(domain)))


@dataclass(frozen=True)
class Turn:
    """One past step as the prompt shows it: the action and what the environment answered."""

    action: str
    state: str
    state_kind: str


def _state_label(env: str, kind: str) -> str:
    return _STATE_LABEL[env].get(kind, "State")


def _action_label(env: str, kind: str) -> str:
    return _ACTION_LABEL[env].get(kind, "Action")


def _action_text(env: str, action: str) -> str:
    if env == "tau2":
        try:  # a tool call: print its JSON compactly and canonically
            return json.dumps(json.loads(action), ensure_ascii=False)
        except ValueError:
            return action
    return action


def user_prompt(
    env: str,
    task: str,
    first_state: str,
    first_state_kind: str,
    turns: Sequence[Turn],
    action: str,
    action_kind: str,
    *,
    earlier_steps: int = 0,
) -> str:
    """The user message: task, history (`first_state`, then `turns`), the current action, the format instruction.

    `first_state` is the oldest state shown; the last state of the history (the last turn's, or `first_state`
    when there are no turns) is the one the action is taken in. `earlier_steps` counts steps left out before it.
    `action_kind` is the state kind the action leads to (tau2: a tool call or a message to the customer).
    """
    env = check_env(env)
    parts = [f"The agent's task: {task.strip()}" if task.strip() else "The agent's task is not stated."]
    lines = []
    if earlier_steps:
        lines.append(f"({earlier_steps} earlier step{'s' if earlier_steps != 1 else ''} not shown)")
    step = earlier_steps
    lines.append(f"[{_state_label(env, first_state_kind)} {step}]\n{first_state.strip()}")
    for turn in turns:
        lines.append(f"[{_action_label(env, turn.state_kind)} {step}]\n{_action_text(env, turn.action).strip()}")
        step += 1
        lines.append(f"[{_state_label(env, turn.state_kind)} {step}]\n{turn.state.strip()}")
    parts.append("Recent history (oldest first; the last state is the current one):\n" + "\n\n".join(lines))
    parts.append(f"The agent's next action ({_action_label(env, action_kind)} {step}):\n{_action_text(env, action)}")
    parts.append("Predict the environment's next state after this action. " + FORMAT_INSTRUCTION)
    return "\n\n".join(parts)


def messages(env: str, domain: str | None, user: str) -> list[dict[str, str]]:
    """The [system, user] chat of one world-model prompt."""
    return [{"role": "system", "content": system_prompt(env, domain)}, {"role": "user", "content": user}]


def episode_step_prompt(episode: Episode, index: int, history: int | None = None) -> tuple[str, str]:
    """(system, user) texts for step `index` of an episode (envs.episode.Episode), with `history` steps.

    Every step of `episode.steps` must be an environment transition: drop format-error steps first
    (data_prep.wm_episodes.env_transitions).
    """
    env = check_env(episode.env)
    h = HISTORY_WINDOW[env] if history is None else history
    if h < 0:
        raise ValueError(f"history must be >= 0, got {h}")
    steps = episode.steps
    start = max(0, index - h)
    if start == 0:
        first_state = episode.initial_observation
        first_kind = episode.info.get("state_kind") or ("observation" if env == "alfworld" else "")
    else:
        prev = steps[start - 1]
        first_state, first_kind = prev.next_observation, prev.state_kind
    turns = [Turn(s.action, s.next_observation, s.state_kind) for s in steps[start:index]]
    cur = steps[index]
    user = user_prompt(
        env,
        episode.task,
        first_state,
        first_kind,
        turns,
        cur.action,
        cur.state_kind,
        earlier_steps=start,
    )
    return system_prompt(env, episode.info.get("domain")), user

"""The policy prompt: the one chat builder for collection, evaluation and the stage-2 agent loop.

A prompt is a chat: the system instructions (tau2: with the domain policy, then the agent's greeting), the task
with the first observation (tau2: the simulated user's first message), then for each past step the
assistant's action and the environment's answer (a user turn for ALFWorld; a tool turn or the simulated user's
reply for tau2; the format reminder after an unparsable output). `history_window=H` keeps only the last H steps
(the default of collection, evaluation and stage 2 alike: the table of `data_prep.history_windows`), so long episodes
stay within the context. Past steps show the action only, not its reasoning. tau2 tools go natively
(`tools_in_prompt=False`: the schemas to the chat template or the API's `tools`) everywhere by default. The answer
format and its parser are in `data_prep.policy_actions`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from data_prep.policy_actions import (
    ACTION_CLOSE,
    ACTION_OPEN,
    TOOL_CALL_CLOSE,
    TOOL_CALL_OPEN,
    as_tool_call,
)
from envs.registry import COMMAND_ENVS, ENV_NAMES
from reward_score.answer_format import THINK_CLOSE, THINK_OPEN

ALFWORLD_SYSTEM = (
    "You are an expert agent in ALFWorld, a text-based household environment. You are given a task and what you "
    "observe; act one step at a time to complete the task in as few steps as possible. "
    f"Each turn, first reason step by step about the current situation inside {THINK_OPEN}...{THINK_CLOSE}. "
    f"Then choose exactly one admissible action and write it inside {ACTION_OPEN}...{ACTION_CLOSE}, "
    "and nothing after it."
)

BUTTON_ROOM_SYSTEM = (
    "You are an agent in a text-based room. You are given a task and what you observe; act one step at a time to "
    f"complete the task in as few steps as possible. Each turn, first reason inside {THINK_OPEN}...{THINK_CLOSE}. "
    f"Then choose exactly one admissible action and write it inside {ACTION_OPEN}...{ACTION_CLOSE}, and nothing "
    "after it."
)

TAU2_INSTRUCTIONS = (
    "You are a customer service agent. Help the user according to the policy below. "
    "In each turn, either send one message to the user or make one tool call, never both. "
    "Follow the policy strictly and only use information from the user or from tool results."
)

# tau2's orchestrator opens every conversation with this agent greeting; the user simulator answers it.
TAU2_GREETING = "Hi! How can I help you today?"


def tau2_tools_in_prompt(tools: Sequence[dict[str, Any]]) -> str:
    """The tool schemas and the call format as system-prompt text, for endpoints without native tool calling."""
    schemas = "\n".join(json.dumps(t, ensure_ascii=False) for t in tools)
    return (
        "# Tools\n\nYou may call one of the functions below per turn. Their JSON schemas are inside <tools></tools>:\n"
        f"<tools>\n{schemas}\n</tools>\n\n"
        "To call a function, write a JSON object with its name and arguments inside "
        f"{TOOL_CALL_OPEN}{TOOL_CALL_CLOSE}:\n"
        f'{TOOL_CALL_OPEN}\n{{"name": <function-name>, "arguments": <args-json-object>}}\n{TOOL_CALL_CLOSE}'
    )


# ----------------------------------------------------------------------------------------------- prompt


def tool_schemas(info: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The tau2 tools (OpenAI function schemas) from the env's info."""
    return list((info or {}).get("tools") or [])


def system_message(env: str, task: str, info: dict[str, Any] | None = None, *, tools_in_prompt: bool = True) -> dict:
    if env == "alfworld":
        return {"role": "system", "content": ALFWORLD_SYSTEM}
    if env == "button_room":
        return {"role": "system", "content": BUTTON_ROOM_SYSTEM}
    if env == "tau2":
        policy = (info or {}).get("policy") or ""
        content = f"<instructions>\n{TAU2_INSTRUCTIONS}\n</instructions>"
        if policy:
            content += f"\n<policy>\n{policy}\n</policy>"
        tools = tool_schemas(info)
        if tools_in_prompt and tools:
            content += "\n\n" + tau2_tools_in_prompt(tools)
        return {"role": "system", "content": content}
    raise ValueError(f"unknown environment {env!r}; expected one of {', '.join(ENV_NAMES)}")


def _admissible_text(admissible: Sequence[str] | None) -> str:
    if not admissible:
        return ""
    return "\n\nAdmissible actions: " + ", ".join(admissible)


def first_user_message(
    env: str,
    task: str,
    initial_observation: str,
    admissible: Sequence[str] | None = None,
    *,
    omitted_steps: int = 0,
) -> dict:
    """The task and the first observation (with the admissible actions when it is also the current one)."""
    if env in COMMAND_ENVS:
        content = initial_observation.strip()
        if task and task.strip() not in content:
            content = f"{task.strip()}\n\n{content}"
    else:
        content = initial_observation.strip()
    if omitted_steps:
        content += f"\n\n[{omitted_steps} earlier step(s) are not shown.]"
    return {"role": "user", "content": content + _admissible_text(admissible)}


def assistant_message(
    env: str, action: str | None, step: int, *, raw_output: str | None = None, tools_in_prompt: bool = True
) -> dict:
    """A past assistant turn. `raw_output` (the model's full text) replaces the compact action when given.

    `action=None` (the output had no usable action) shows as an empty action.
    """
    if action is None:
        action = ""
    if env == "tau2":
        call = as_tool_call(action)
        if call is not None and not tools_in_prompt:
            return {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": tool_call_id(step),
                        "type": "function",
                        "function": {"name": call["name"], "arguments": call["arguments"]},
                    }
                ],
            }
        if raw_output is not None:
            return {"role": "assistant", "content": raw_output}
        if call is not None:
            return {
                "role": "assistant",
                "content": f"{TOOL_CALL_OPEN}\n{json.dumps(call, ensure_ascii=False)}\n{TOOL_CALL_CLOSE}",
            }
        return {"role": "assistant", "content": action}
    if raw_output is not None:
        return {"role": "assistant", "content": raw_output}
    return {"role": "assistant", "content": f"{ACTION_OPEN}{action}{ACTION_CLOSE}"}


def observation_message(
    env: str,
    action: str | None,
    observation: str,
    step: int,
    admissible: Sequence[str] | None = None,
    *,
    tools_in_prompt: bool = True,
) -> dict:
    """The environment's answer to the action of step `step`: a user turn, or a tool turn for a tau2 tool call.

    `action=None` means the output had no usable action; the answer then is a format reminder.
    """
    if env == "tau2" and action is not None and as_tool_call(action) is not None:
        if tools_in_prompt:
            return {"role": "user", "content": f"<tool_response>\n{observation}\n</tool_response>"}
        return {"role": "tool", "content": observation, "tool_call_id": tool_call_id(step)}
    if env in COMMAND_ENVS:
        return {"role": "user", "content": f"Observation: {observation.strip()}" + _admissible_text(admissible)}
    return {"role": "user", "content": observation}


def tool_call_id(step: int) -> str:
    return f"call_{step}"


def build_policy_messages(
    env: str,
    task: str,
    initial_observation: str,
    history: Sequence[Sequence[str | None]],
    observation: str,
    admissible: Sequence[str] | None = None,
    info: dict[str, Any] | None = None,
    history_window: int | None = None,
    *,
    tools_in_prompt: bool = True,
) -> list[dict[str, Any]]:
    """The chat messages for the next policy step.

    `history` holds the past steps oldest first, each `(action, next_observation)` (extra items are ignored;
    `action=None` marks an output without a usable action); `observation` is the current observation (the last
    step's answer) and `admissible` its admissible actions. `history_window=None` shows every past step, `H` the last H.
    `tools_in_prompt=False` leaves the tau2 tool schemas out of the system prompt and uses native tool-call
    messages instead: the caller passes `tool_schemas(info)` to the chat template (the agent loop) or the API.
    """
    if history_window is not None and history_window < 0:
        raise ValueError(f"history_window must be >= 0 or None, got {history_window}")
    shown_from = 0 if history_window is None else max(0, len(history) - history_window)
    messages = [system_message(env, task, info, tools_in_prompt=tools_in_prompt)]
    if env == "tau2":  # the conversation starts with the agent's greeting, as in tau2's orchestrator
        messages.append({"role": "assistant", "content": (info or {}).get("greeting") or TAU2_GREETING})
    messages.append(
        first_user_message(env, task, initial_observation, None if history else admissible, omitted_steps=shown_from)
    )
    for t in range(shown_from, len(history)):
        action, next_obs = history[t][0], history[t][1]
        is_last = t == len(history) - 1
        messages.append(assistant_message(env, action, t, tools_in_prompt=tools_in_prompt))
        messages.append(
            observation_message(
                env,
                action,
                observation if is_last else next_obs,
                t,
                admissible if is_last else None,
                tools_in_prompt=tools_in_prompt,
            )
        )
    if history and shown_from == len(history):
        # window 0: the current observation still has to be shown
        messages.append(observation_message(env, None, observation, len(history) - 1, admissible))
    return messages

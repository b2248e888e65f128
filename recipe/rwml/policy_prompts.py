"""The stage-2 policy prompt and its action parser, shared by the agent loop, collection and evaluation.

ALFWorld (ReAct style): the model reasons inside <think>...</think>, then writes one admissible action inside
<action>...</action>. tau2-bench: the model either calls one tool in its native Hermes format
(`<tool_call>{"name": ..., "arguments": {...}}</tool_call>`, Qwen's) or writes a plain message to the user.

A prompt is a chat: the system instructions (tau2: with the domain policy, then the agent's greeting), the task
with the first observation (tau2: the simulated user's first message), then for each past step the
assistant's action and the environment's answer (a user turn for ALFWorld; a tool turn or the simulated user's
reply for tau2). `history_window=H` keeps only the last H steps (the paper: 2 for ALFWorld, 5 for tau2), so long
episodes stay within the context. Past steps show the action only, not its reasoning.

Actions are strings in the env's own format: an ALFWorld command, or for tau2 either the JSON
`{"name": ..., "arguments": {...}}` of a tool call or the text of a message to the user.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from reward_score.tags import THINK_CLOSE, THINK_OPEN

ACTION_OPEN, ACTION_CLOSE = "<action>", "</action>"
# Sent to the env (collection, evaluation) when an output holds no usable action: the env answers it as the invalid
# action it is, and the history keeps this short marker instead of the whole unparsable output, which would
# otherwise push later prompts past the model's context. The full text stays in the step's `raw_output`.
NO_ACTION = "(no parsable action)"
TOOL_CALL_OPEN, TOOL_CALL_CLOSE = "<tool_call>", "</tool_call>"

ALFWORLD_SYSTEM = (
    "You are an expert agent in ALFWorld, a text-based household environment. You are given a task and what you "
    "observe; act one step at a time to complete the task in as few steps as possible. "
    f"Each turn, first reason step by step about the current situation inside {THINK_OPEN}...{THINK_CLOSE}. "
    f"Then choose exactly one admissible action and write it inside {ACTION_OPEN}...{ACTION_CLOSE}, "
    "and nothing after it."
)

TAU2_INSTRUCTIONS = (
    "You are a customer service agent. Help the user according to the policy below. "
    "In each turn, either send one message to the user or make one tool call, never both. "
    "Follow the policy strictly and only use information from the user or from tool results."
)

# tau2's orchestrator opens every conversation with this agent greeting; the user simulator answers it.
TAU2_GREETING = "Hi! How can I help you today?"

TAU2_TOOLS_IN_PROMPT = (
    "# Tools\n\nYou may call one of the functions below per turn. Their JSON schemas are inside <tools></tools>:\n"
    "<tools>\n{tools}\n</tools>\n\n"
    f"To call a function, write a JSON object with its name and arguments inside {TOOL_CALL_OPEN}{TOOL_CALL_CLOSE}:\n"
    f'{TOOL_CALL_OPEN}\n{{"name": <function-name>, "arguments": <args-json-object>}}\n{TOOL_CALL_CLOSE}'
)

# ----------------------------------------------------------------------------------------------- parsing


_ACTION_RE = re.compile(re.escape(ACTION_OPEN) + r"(.*?)" + re.escape(ACTION_CLOSE), re.DOTALL)
_TOOL_CALL_RE = re.compile(re.escape(TOOL_CALL_OPEN) + r"(.*?)" + re.escape(TOOL_CALL_CLOSE), re.DOTALL)
_THINK_RE = re.compile(re.escape(THINK_OPEN) + r".*?" + re.escape(THINK_CLOSE), re.DOTALL)


def parse_action(text: str, env: str) -> tuple[str | None, bool]:
    """The action in a model output, and whether the output followed the format.

    ALFWorld: the (last) <action> block, whitespace-normalised and lower-cased; `ok` needs a closed reasoning
    block before it and exactly one action block. tau2: the first Hermes tool call as env JSON (`ok` needs exactly
    one well-formed call), else the message text outside the reasoning block. `(None, False)` when there is no
    usable action at all.
    """
    if env == "alfworld":
        blocks = _ACTION_RE.findall(text or "")
        if not blocks:
            return None, False
        action = " ".join(blocks[-1].split()).rstrip(".").lower()
        if not action:
            return None, False
        reasoned = THINK_CLOSE in text[: text.rfind(ACTION_OPEN)]
        return action, reasoned and len(blocks) == 1
    if env == "tau2":
        visible = strip_reasoning(text or "")
        calls = _TOOL_CALL_RE.findall(visible)
        if calls or TOOL_CALL_OPEN in visible:
            parsed = [_parse_tool_call_json(c) for c in calls]
            return tau2_action_from_calls(parsed, n_blocks=max(len(calls), visible.count(TOOL_CALL_OPEN)))
        message = visible.strip()
        return (message, True) if message else (None, False)
    raise ValueError(f"unknown environment {env!r}; expected 'alfworld' or 'tau2'")


def strip_reasoning(text: str) -> str:
    """The text outside <think> blocks (and after a dangling </think> whose opening tag was in the prompt)."""
    text = _THINK_RE.sub("", text)
    if THINK_CLOSE in text:
        text = text.rsplit(THINK_CLOSE, 1)[1]
    return text


def _parse_tool_call_json(raw: str) -> tuple[str, Any] | None:
    try:
        call = json.loads(raw)
    except json.JSONDecodeError:
        return None
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        return None
    return call["name"], call.get("arguments", {})


def tau2_action_from_calls(
    calls: Sequence[tuple[str, Any] | None], n_blocks: int | None = None
) -> tuple[str | None, bool]:
    """Turn parsed tool calls `(name, arguments)` into the env's action JSON; None entries are malformed calls.

    `arguments` may be a dict or its JSON text (verl's tool parser returns text). Only the first call is acted
    on; `ok` is False when a call was malformed or there was more than one (`n_blocks` counts the tool-call blocks
    in the output, parsed or not).
    """
    n_blocks = len(calls) if n_blocks is None else n_blocks
    if not calls or calls[0] is None:
        return None, False
    name, arguments = calls[0]
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            return None, False
    if not isinstance(arguments, dict):
        return None, False
    action = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
    return action, n_blocks == 1 and all(c is not None for c in calls)


def as_tool_call(action: str) -> dict[str, Any] | None:
    """The `{"name", "arguments"}` dict when a tau2 action is a tool call, else None (a message to the user)."""
    try:
        call = json.loads(action)
    except (json.JSONDecodeError, TypeError):
        return None
    if isinstance(call, dict) and isinstance(call.get("name"), str) and isinstance(call.get("arguments"), dict):
        return call
    return None


# ----------------------------------------------------------------------------------------------- prompt


def tool_schemas(info: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The tau2 tools (OpenAI function schemas) from the env's info."""
    return list((info or {}).get("tools") or [])


def system_message(env: str, task: str, info: dict[str, Any] | None = None, *, tools_in_prompt: bool = True) -> dict:
    if env == "alfworld":
        return {"role": "system", "content": ALFWORLD_SYSTEM}
    if env == "tau2":
        policy = (info or {}).get("policy") or ""
        content = f"<instructions>\n{TAU2_INSTRUCTIONS}\n</instructions>"
        if policy:
            content += f"\n<policy>\n{policy}\n</policy>"
        tools = tool_schemas(info)
        if tools_in_prompt and tools:
            content += "\n\n" + TAU2_TOOLS_IN_PROMPT.format(tools="\n".join(json.dumps(t) for t in tools))
        return {"role": "system", "content": content}
    raise ValueError(f"unknown environment {env!r}; expected 'alfworld' or 'tau2'")


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
    if env == "alfworld":
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
    if env == "alfworld":
        return {"role": "user", "content": f"Observation: {observation.strip()}" + _admissible_text(admissible)}
    return {"role": "user", "content": observation}


def tool_call_id(step: int) -> str:
    return f"call_{step}"


def format_error_message(env: str) -> str:
    """What the agent is told when its output had no usable action."""
    if env == "alfworld":
        return (
            f"Invalid output: no action found. Reason inside {THINK_OPEN}...{THINK_CLOSE}, then write exactly one "
            f"admissible action inside {ACTION_OPEN}...{ACTION_CLOSE}."
        )
    return (
        "Invalid output: the tool call could not be parsed. Call one tool as "
        f'{TOOL_CALL_OPEN}{{"name": ..., "arguments": {{...}}}}{TOOL_CALL_CLOSE}, or write a message to the user.'
    )


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

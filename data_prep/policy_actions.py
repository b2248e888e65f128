"""The policy's action format: parsing a model output into an env action, and the rule for an unparsable one.

One parser for every place a policy acts -- collection and evaluation (`data_prep.policies.OpenAIPolicy`) and the
stage-2 agent loop (`recipe.rwml.agent_loop`):
- ALFWorld: the model reasons inside <think>...</think>, then writes one admissible action inside
  <action>...</action>.
- tau2-bench: one tool call in the Hermes format (`<tool_call>{"name": ..., "arguments": {...}}</tool_call>`, Qwen's
  native one; an API's structured `tool_calls` are rendered to that text first), or a plain message to the user.

The unparsable-output rule: an output with no usable action is an invalid step that is NEVER shown to the env (nor
to tau2's user simulator). The agent is answered with `format_error_message(env)` instead; episodes record the step
with `action=None` and `state_kind="format_error"` (`envs.episode.FORMAT_ERROR_KIND`), and world-model data leaves
it out (it is not a transition).

Actions are strings in the env's own format: an ALFWorld command, or for tau2 either the JSON
`{"name": ..., "arguments": {...}}` of a tool call or the text of a message to the user.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from envs.registry import COMMAND_ENVS, ENV_NAMES
from reward_score.answer_format import THINK_CLOSE, THINK_OPEN

ACTION_OPEN, ACTION_CLOSE = "<action>", "</action>"
TOOL_CALL_OPEN, TOOL_CALL_CLOSE = "<tool_call>", "</tool_call>"

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
    if env in COMMAND_ENVS:
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
    raise ValueError(f"unknown environment {env!r}; expected one of {', '.join(ENV_NAMES)}")


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


def tool_calls_text(calls: Sequence[tuple[str, Any]]) -> str:
    """An API's structured tool calls `(name, arguments)` as the Hermes text the parser reads."""
    blocks = []
    for name, arguments in calls:
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except json.JSONDecodeError:
                pass  # kept as text: the parser then reports the call as malformed
        blocks.append(
            f"{TOOL_CALL_OPEN}{json.dumps({'name': name, 'arguments': arguments}, ensure_ascii=False)}{TOOL_CALL_CLOSE}"
        )
    return "\n".join(blocks)


def format_error_message(env: str) -> str:
    """What the agent is told when its output had no usable action."""
    if env in COMMAND_ENVS:
        return (
            f"Invalid output: no action found. Reason inside {THINK_OPEN}...{THINK_CLOSE}, then write exactly one "
            f"admissible action inside {ACTION_OPEN}...{ACTION_CLOSE}."
        )
    return (
        "Invalid output: the tool call could not be parsed. Call one tool as "
        f'{TOOL_CALL_OPEN}{{"name": ..., "arguments": {{...}}}}{TOOL_CALL_CLOSE}, or write a message to the user.'
    )

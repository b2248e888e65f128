"""The world model's answer format, defined once: its tags, the task-status line, and reading a response.

A world-model answer is `<think>reasoning</think><next_state>predicted state</next_state>`. The prompt builder
(`data_prep.wm_prompts`) states the format with `FORMAT_INSTRUCTION` and `STATUS_RULE`; the SFT data writes it with
`target_response`; the reward reads it with `parse_response`. Ground truths end with a task-status line
(`with_status`), and so should predictions: the tau2 reward compares the two lines (`status_of`).

The predicted state is the content of the last complete <next_state>...</next_state> pair; anything after it, or an
unclosed tag, does not count. Responses arrive as text decoded by verl, or as raw bytes from scripts; bytes that are
not UTF-8 are decoded with replacement characters so they stay visible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
STATE_OPEN, STATE_CLOSE = "<next_state>", "</next_state>"

FORMAT_INSTRUCTION = (
    f"First reason step by step about what the environment will do, inside {THINK_OPEN}...{THINK_CLOSE}. "
    f"Then write the exact next state the environment returns inside {STATE_OPEN}...{STATE_CLOSE}, "
    "and nothing after it."
)

# The status line the dataset builder appends to ground truths (ALFWorld observations, tau2 user replies).
STATUS_DONE = "Task completed."
STATUS_NOT_DONE = "Task is not yet completed."
STATUS_RULE = f'The task-status line is exactly "{STATUS_DONE}" or "{STATUS_NOT_DONE}".'
_STATUS_RE = re.compile(r"^\s*task\s+(is\s+not\s+yet\s+completed|completed)\s*\.?\s*$", re.IGNORECASE)

REPLACEMENT_CHAR = "\ufffd"


def with_status(observation: str, done: bool) -> str:
    """`observation` with the task-status line the dataset builder appends."""
    return f"{observation.rstrip()}\n{STATUS_DONE if done else STATUS_NOT_DONE}"


def status_of(state: str) -> bool | None:
    """True/False for a 'Task completed.' / 'Task is not yet completed.' line in `state`; None if absent.

    The last status line wins, as the builder appends it at the end.
    """
    found: bool | None = None
    for line in state.splitlines():
        m = _STATUS_RE.match(line)
        if m:
            found = m.group(1).lower() == "completed"
    return found


def status_and_body(state: str) -> tuple[bool | None, str]:
    """(the task-status line's value as `status_of` reads it, `state` without its status lines, stripped)."""
    status = status_of(state)
    if status is None:
        return None, state.strip()
    return status, "\n".join(line for line in state.splitlines() if status_of(line) is None).strip()


def target_response(next_state: str, reasoning: str = "") -> str:
    """An answer in the world model's format: the reasoning block, then the state inside the state tags."""
    return f"{THINK_OPEN}\n{reasoning.strip()}\n{THINK_CLOSE}\n{STATE_OPEN}\n{next_state.strip()}\n{STATE_CLOSE}"


def as_text(response: str | bytes | None) -> str:
    """The response as text; invalid UTF-8 bytes become U+FFFD instead of raising."""
    if response is None:
        return ""
    if isinstance(response, bytes | bytearray):
        return bytes(response).decode("utf-8", errors="replace")
    return str(response)


def extract_state(text: str) -> str | None:
    """Content of the last complete <next_state>...</next_state> pair, or None when there is none."""
    close = text.rfind(STATE_CLOSE)
    if close < 0:
        return None
    start = text.rfind(STATE_OPEN, 0, close)
    if start < 0:
        return None
    return text[start + len(STATE_OPEN) : close]


def extract_reasoning(text: str) -> str:
    """The reasoning before the predicted state: the last <think> block, or '' when there is none.

    A response whose chat template already opened <think> in the prompt starts inside the block, so a
    lone </think> counts: the reasoning is everything before it.
    """
    state_at = text.rfind(STATE_OPEN)
    head = text if state_at < 0 else text[:state_at]
    close = head.rfind(THINK_CLOSE)
    if close < 0:
        return ""
    start = head.rfind(THINK_OPEN, 0, close)
    return head[start + len(THINK_OPEN) : close] if start >= 0 else head[:close]


@dataclass(frozen=True)
class ParsedResponse:
    prediction: str | None  # stripped state text; None when there is no complete tag pair
    reasoning: str
    invalid_utf8: bool  # the prediction holds U+FFFD: bytes that were not text


def parse_response(response: str | bytes | None) -> ParsedResponse:
    """A model response split into its predicted state and its reasoning."""
    text = as_text(response)
    state = extract_state(text)
    if state is None:
        return ParsedResponse(None, extract_reasoning(text), False)
    state = state.strip()
    return ParsedResponse(state, extract_reasoning(text), REPLACEMENT_CHAR in state)

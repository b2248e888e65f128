"""Texts made from tau2 tasks for the calibrations: the record each is kept in, and one text of each kind kept.

`TaskText` holds what every such record shares -- the domain, task and split it comes from, its `key` and its
`to_dict` row -- for the tool responses of reward_calibration/tau2_tool_responses.py and the user replies of
reward_calibration/tau2_user_replies.py; `first_of_each_text` keeps the first record of each distinct text.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass
from typing import Any, Protocol, TypeVar


@dataclass(frozen=True)
class TaskText:
    """A text made from one tau2 task; subclasses add the text and what made it."""

    domain: str
    task_id: str
    split: str  # tau2's split of the task: train or test

    @property
    def key(self) -> str:
        return f"{self.domain}/{self.task_id}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _HasText(Protocol):
    @property
    def text(self) -> str: ...


_T = TypeVar("_T", bound=_HasText)


def first_of_each_text(records: Iterable[_T], exclude: Collection[str] = frozenset()) -> list[_T]:
    """The first record of each text, in order, without the texts in `exclude`."""
    seen, out = set(exclude), []
    for r in records:
        if r.text not in seen:
            seen.add(r.text)
            out.append(r)
    return out

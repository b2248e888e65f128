"""What a config check reports: one `ConfigProblem` per problem, and `ConfigCheckError` carrying them as data.

Every check of a composed stage config (recipe/rwml/config_checks.py, reward_checks.py, legacy_keys.py) returns a
list of problems; each prints as `error: <what>, <key = value>, <what to do>`. The helpers here are the ones those
checks share: how a key and its value are shown, the schedule's placeholder for an unset setting, and whether an
OpenAI-compatible endpoint answers.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from omegaconf import OmegaConf

from data_prep.cli_errors import UsageError, error_line

PLACEHOLDER = "UNSET_"  # the schedule's stand-in for a setting a real run needs (its preflight names it)
ENDPOINT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a config: what, where (`key = value`), what to do."""

    what: str
    where: str = ""
    fix: str = ""

    @property
    def line(self) -> str:
        return error_line(self.what, self.where, self.fix)


class ConfigCheckError(UsageError):
    """A config that would fail only after GPUs are allocated; `lines` holds one error line per problem."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.what, first.where, first.fix)

    @property
    def lines(self) -> list[str]:
        return [p.line for p in self.problems]


def show(value: Any) -> str:
    """A config value as an override would write it (`[a,b]`, `null`)."""
    if OmegaConf.is_config(value):
        value = OmegaConf.to_container(value, resolve=False)
    if isinstance(value, list):
        return "[" + ",".join(str(v) for v in value) + "]"
    return "null" if value is None else str(value)


def at(key: str, value: Any) -> str:
    """The `where` of a problem: `key = value`."""
    return f"{key} = {show(value)}"


def is_unset(value: Any) -> bool:
    """Whether a value is the schedule's `UNSET_<NAME>` placeholder."""
    return isinstance(value, str) and value.startswith(PLACEHOLDER)


def answers(url: str, timeout: float = ENDPOINT_TIMEOUT_S) -> bool:
    """Whether GET <url>/models answers with a success status (an OpenAI-compatible /v1 endpoint)."""
    try:
        with urllib.request.urlopen(url.removesuffix("/") + "/models", timeout=timeout) as response:
            return response.status < 400
    except (OSError, ValueError):
        return False

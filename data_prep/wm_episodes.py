"""Episode records as the world-model builders read them: validated, keyed by task, environment transitions only.

An episode is one JSON line in the envs.episode layout (collect_trajectories writes them); `iter_records` reads
them line by line as bytes, so a bad line -- not UTF-8, not JSON, a field missing or of the wrong type -- is named
by file, line and field, and `skip_bad` skips exactly those lines. Each good line is parsed once, into an
`envs.episode.Episode` (defaults for the fields it leaves out), and read by attribute from then on. A step whose policy
output had no parsable action (`state_kind` "format_error", `action` null, `next_observation` the format reminder
the agent was shown) never reached the environment, so it is no transition: `env_transitions` removes it before
any triplet is built, and it appears neither as a triplet nor in the history of a later one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from data_prep import wm_prompts
from data_prep.episode_store import EpisodeFileError
from envs.episode import FORMAT_ERROR_KIND, Episode

# The state kinds the world model predicts, per environment; other steps are dropped (and counted).
KEEP_KINDS = {"alfworld": frozenset({"observation"}), "tau2": frozenset({"tool_response", "user_reply"})}
EPISODE_FIELDS = ("env", "task_id", "initial_observation", "steps")
STEP_FIELDS = ("action", "next_observation", "state_kind", "done")
MAX_LINE_BYTES = 64 << 20  # an episode is kilobytes; a longer line is not one (a binary file, a missing newline)


class BuildError(RuntimeError):
    """The input cannot be turned into a dataset (no triplets, bad arguments)."""


class BadRecord(EpisodeFileError):
    """One line of an episode file that is not a valid episode: `<file>:<line>: <what is wrong>`."""

    def __init__(self, path: str, lineno: int, problem: str) -> None:
        self.path, self.lineno, self.problem = path, lineno, problem
        super().__init__(f"{path}:{lineno}: {problem}")


def _domain(env: Any, info: dict[str, Any]) -> str:
    """The tau2 domain named in an episode's info ('' for ALFWorld)."""
    return str(info.get("domain") or "") if env == "tau2" else ""


def domain_of(ep: Episode) -> str:
    """The tau2 domain of an episode ('' for ALFWorld)."""
    return _domain(ep.env, ep.info)


def task_key(ep: Episode) -> tuple[str, str]:
    """(group, task): the split unit. The group is the env (and tau2 domain) the split is stratified by."""
    group = f"{ep.env}/{domain_of(ep)}" if ep.env == "tau2" else ep.env
    return group, str(ep.task_id)


def _kind(value: Any) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {str: "a string", list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _expect(record: dict[str, Any], key: str, name: str, types: tuple[type, ...], what: str, *, optional: bool) -> None:
    """Raise ValueError unless `record[key]` has one of `types` (or is absent/null when `optional`)."""
    if key not in record:
        if optional:
            return
        raise ValueError(f"field {name!r} is missing")
    value = record[key]
    if value is None and optional:
        return
    if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
        raise ValueError(f"field {name!r} is {_kind(value)}, expected {what}")


def check_episode(ep: dict[str, Any]) -> None:
    """Raise ValueError naming the first field that keeps `ep` from being read as an episode (missing, wrong type)."""
    for key in EPISODE_FIELDS:
        if key not in ep:
            raise ValueError(f"episode {ep.get('episode_id')!r} has no field {key!r}")
    _expect(ep, "episode_id", "episode_id", (str,), "a string", optional=False)
    _expect(ep, "env", "env", (str,), "a string", optional=False)
    if ep["env"] not in KEEP_KINDS:
        raise ValueError(f"field 'env': unknown environment {ep['env']!r}; expected one of {sorted(KEEP_KINDS)}")
    _expect(ep, "task_id", "task_id", (str, int), "a string", optional=False)
    _expect(ep, "initial_observation", "initial_observation", (str,), "a string", optional=False)
    _expect(ep, "task", "task", (str,), "a string", optional=True)
    _expect(ep, "info", "info", (dict,), "an object", optional=True)
    info = ep.get("info") or {}
    _expect(info, "state_kind", "info.state_kind", (str,), "a string", optional=True)
    if ep["env"] == "tau2":
        _expect(info, "domain", "info.domain", (str,), "a string", optional=True)
        if not _domain(ep["env"], info):
            raise ValueError("tau2 episode has no field 'info.domain'")
        try:
            wm_prompts.system_prompt("tau2", _domain(ep["env"], info))
        except ValueError as err:
            raise ValueError(f"field 'info.domain': {err}") from None
    _expect(ep, "steps", "steps", (list,), "a list", optional=False)
    for i, step in enumerate(ep["steps"]):
        if not isinstance(step, dict):
            raise ValueError(f"field 'steps[{i}]' is {_kind(step)}, expected an object")
        for key in STEP_FIELDS:
            if key not in step:
                raise ValueError(f"field 'steps[{i}].{key}' is missing")
        _expect(step, "state_kind", f"steps[{i}].state_kind", (str,), "a string", optional=False)
        if step["action"] is None and step["state_kind"] != FORMAT_ERROR_KIND:
            raise ValueError(f"field 'steps[{i}].action' is null, which only a {FORMAT_ERROR_KIND!r} step may be")
        _expect(step, "action", f"steps[{i}].action", (str,), "a string", optional=True)
        _expect(step, "next_observation", f"steps[{i}].next_observation", (str,), "a string", optional=False)
        _expect(step, "done", f"steps[{i}].done", (bool,), "true or false", optional=False)
        _expect(step, "valid", f"steps[{i}].valid", (bool,), "true or false", optional=True)
        _expect(step, "reward", f"steps[{i}].reward", (int, float), "a number", optional=True)
        _expect(step, "t", f"steps[{i}].t", (int,), "an integer", optional=True)
        _expect(step, "info", f"steps[{i}].info", (dict,), "an object", optional=True)
        _expect(step.get("info") or {}, "won", f"steps[{i}].info.won", (bool,), "true or false", optional=True)


def _lines(path: str | Path) -> Iterator[tuple[int, bytes | None]]:
    """(line number, raw line) of a file, blank lines left out; None for a line longer than MAX_LINE_BYTES."""
    with open(path, "rb") as f:
        lineno = 0
        while True:
            raw = f.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            lineno += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # read past the rest of it without holding it
                    raw = f.readline(MAX_LINE_BYTES)
                yield lineno, None
            elif raw.strip():
                yield lineno, raw


def _parse_line(raw: bytes | None) -> Episode:
    """One line as an episode, validated by `check_episode`; ValueError saying what is wrong with it."""
    if raw is None:
        raise ValueError(f"the line is longer than {MAX_LINE_BYTES >> 20} MiB: not an episode record")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"invalid UTF-8 byte 0x{raw[err.start]:02x} at column {err.start + 1}") from None
    try:
        ep = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON ({err.msg} at column {err.pos + 1})") from None
    if not isinstance(ep, dict):
        raise ValueError(f"the line is {_kind(ep)}, not an episode record (a JSON object)")
    if "episode_id" not in ep or "steps" not in ep:
        raise ValueError("not an episode record (needs 'episode_id' and 'steps')")
    check_episode(ep)
    return Episode.from_dict(ep)


def iter_records(
    paths: Sequence[str | Path], *, skip_bad: bool = False, on_bad: Callable[[BadRecord], None] | None = None
) -> Iterator[tuple[str, int, Episode]]:
    """(file, line number, episode) from JSONL files, each line validated by `check_episode`, then parsed.

    A bad line (not UTF-8, not JSON, too long, a field missing or of the wrong type) raises BadRecord naming file,
    line and field; with `skip_bad` it is skipped and handed to `on_bad` (to count it) instead.
    """
    for path in paths:
        if not Path(path).is_file():
            if Path(path).is_dir():
                what = "is a folder, not an episode file"
            elif Path(path).exists():
                what = "is not a regular file (a FIFO, a device or a socket)"
            else:
                what = "does not exist"
            raise BuildError(f"input file {path} {what}")
        for lineno, raw in _lines(path):
            try:
                ep = _parse_line(raw)
            except ValueError as err:
                bad = BadRecord(str(path), lineno, str(err))
                if not skip_bad:
                    raise bad from None
                if on_bad is not None:
                    on_bad(bad)
                continue
            yield str(path), lineno, ep


def env_transitions(ep: Episode, dropped: Counter | None = None) -> Episode:
    """`ep` without its format-error steps (counted in `dropped` as "<env>:format_error").

    Every kept step keeps its index in the record as `t` (`Episode.from_dict` gives a step without one its
    position), so a triplet still names the step it came from.
    """
    steps = []
    for step in ep.steps:
        if step.state_kind == FORMAT_ERROR_KIND:
            if dropped is not None:
                dropped[f"{ep.env}:{FORMAT_ERROR_KIND}"] += 1
            continue
        steps.append(step)
    return replace(ep, steps=steps)

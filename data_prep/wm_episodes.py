"""Episode records as the world-model builders read them: validated, keyed by task, environment transitions only.

An episode is one JSON line in the envs.episode layout (collect_trajectories writes them). A step whose policy
output had no parsable action (`state_kind` "format_error", `action` null, `next_observation` the format reminder
the agent was shown) never reached the environment, so it is no transition: `env_transitions` removes it before
any triplet is built, and it appears neither as a triplet nor in the history of a later one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from data_prep.episode_store import EpisodeFileError, iter_episode_dicts
from envs.episode import FORMAT_ERROR_KIND

# The state kinds the world model predicts, per environment; other steps are dropped (and counted).
KEEP_KINDS = {"alfworld": frozenset({"observation"}), "tau2": frozenset({"tool_response", "user_reply"})}
EPISODE_FIELDS = ("env", "task_id", "initial_observation", "steps")
STEP_FIELDS = ("action", "next_observation", "state_kind", "done")


class BuildError(RuntimeError):
    """The input cannot be turned into a dataset (no triplets, bad arguments)."""


def domain_of(ep: dict[str, Any]) -> str:
    """The tau2 domain of an episode ('' for ALFWorld)."""
    return str((ep.get("info") or {}).get("domain") or "") if ep.get("env") == "tau2" else ""


def task_key(ep: dict[str, Any]) -> tuple[str, str]:
    """(group, task): the split unit. The group is the env (and tau2 domain) the split is stratified by."""
    group = f"{ep['env']}/{domain_of(ep)}" if ep["env"] == "tau2" else ep["env"]
    return group, str(ep["task_id"])


def check_episode(ep: dict[str, Any]) -> None:
    """Raise ValueError naming the first field that keeps `ep` from being read as an episode."""
    for key in EPISODE_FIELDS:
        if key not in ep:
            raise ValueError(f"episode {ep.get('episode_id')!r} has no field {key!r}")
    if ep["env"] not in KEEP_KINDS:
        raise ValueError(f"field 'env': unknown environment {ep['env']!r}; expected one of {sorted(KEEP_KINDS)}")
    if ep["env"] == "tau2" and not domain_of(ep):
        raise ValueError("tau2 episode has no field 'info.domain'")
    if not isinstance(ep["steps"], list):
        raise ValueError("field 'steps' is not a list")
    for i, step in enumerate(ep["steps"]):
        if not isinstance(step, dict):
            raise ValueError(f"field 'steps[{i}]' is not an object")
        for key in STEP_FIELDS:
            if key not in step:
                raise ValueError(f"field 'steps[{i}].{key}' is missing")
        if step["action"] is None and step["state_kind"] != FORMAT_ERROR_KIND:
            raise ValueError(f"field 'steps[{i}].action' is null, which only a {FORMAT_ERROR_KIND!r} step may be")


def iter_episodes(
    paths: Sequence[str | Path], *, skip_bad: bool = False, on_bad: Callable[[EpisodeFileError], None] | None = None
) -> Iterator[dict[str, Any]]:
    """Episode dicts from JSONL files; a malformed line or episode raises naming file and line unless `skip_bad`."""
    for path in paths:
        if not Path(path).is_file():
            raise BuildError(f"input file {path} does not exist")
        for lineno, ep in iter_episode_dicts(path, skip_bad=skip_bad, on_bad=on_bad):
            try:
                check_episode(ep)
            except ValueError as err:
                bad = EpisodeFileError(f"{path}:{lineno}: {err}")
                if not skip_bad:
                    raise bad from err
                if on_bad is not None:
                    on_bad(bad)
                continue
            yield ep


def env_transitions(ep: dict[str, Any], dropped: Counter | None = None) -> dict[str, Any]:
    """`ep` without its format-error steps (counted in `dropped` as "<env>:format_error").

    Every kept step keeps its index in the record as "t", so a triplet still names the step it came from.
    """
    steps = []
    for i, step in enumerate(ep["steps"]):
        if step["state_kind"] == FORMAT_ERROR_KIND:
            if dropped is not None:
                dropped[f"{ep['env']}:{FORMAT_ERROR_KIND}"] += 1
            continue
        steps.append(step if "t" in step else {**step, "t": i})
    return {**ep, "steps": steps}

"""Done markers that remember what made the output: a stage's commands and its inputs' fingerprints.

`<output>.done` holds JSON: the stage's commands exactly as printed (every setting that reaches the stage is in
them) and, per input, a fingerprint (size and modification time; a folder's own entry count and time). A rerun
compares the stage it would skip with what it would run now; a difference stops the schedule before anything runs,
naming the stage and what changed, and `--from <stage>` redoes it (the old output is moved aside). A marker written
by an older version (an empty file) records nothing and is taken as it is.
"""

from __future__ import annotations

import difflib
import json
import os
from typing import Any

from data_prep.atomic_file import write_json_atomic
from recipe.rwml.schedule.settings import Settings
from recipe.rwml.schedule.stages import Stage
from recipe.rwml.schedule.steps import Command, ConfigCheck, Logged, MakeDir, Serve, StopServer, shell_quote


def _describe(step: Any) -> str:
    if isinstance(step, (Command, Logged, Serve)):
        return shell_quote(step.argv)
    if isinstance(step, ConfigCheck):
        return "config " + shell_quote([step.config, *step.overrides])
    if isinstance(step, MakeDir):
        return "mkdir -p " + shell_quote([step.path])
    if isinstance(step, StopServer):
        return "stop server"
    return repr(step)


def fingerprint(path: str) -> str:
    """Size and modification time of a file; entry count and time of a folder (not its contents: a game folder
    holds thousands of files); "missing" when it is not there."""
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    if os.path.isdir(path):
        return f"folder of {len(os.listdir(path))} entries, mtime {st.st_mtime_ns}"
    return f"{st.st_size} bytes, mtime {st.st_mtime_ns}"


def stage_record(stage: Stage, s: Settings) -> dict[str, Any]:
    return {
        "commands": [_describe(step) for step in stage.steps(s)],
        "inputs": {path: fingerprint(path) for path in stage.inputs(s)},
    }


def write_marker(stage: Stage, s: Settings) -> str:
    marker = stage.marker_path(s)
    write_json_atomic(marker, stage_record(stage, s))
    return marker


def read_marker(marker: str) -> dict[str, Any] | None:
    """What a marker recorded; None for an old, empty marker (or one that is not a record)."""
    try:
        with open(marker, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    if not text.strip():
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _word_changes(old: str, new: str) -> str:
    """The words of a command that differ: `-a b +c d`, shortened."""
    diff = [w for w in difflib.ndiff(old.split(), new.split()) if w[:1] in "+-"]
    text = " ".join(f"{w[0]}{w[2:]}" for w in diff)
    return text if len(text) <= 200 else text[:197] + "..."


def changes(stage: Stage, s: Settings) -> list[str]:
    """How the done stage's recorded commands and inputs differ from what it would run now ([] when they agree)."""
    recorded = read_marker(stage.marker_path(s))
    if recorded is None:
        return []
    now = stage_record(stage, s)
    out = []
    old_cmds, new_cmds = recorded.get("commands", []), now["commands"]
    if old_cmds != new_cmds:
        if len(old_cmds) == len(new_cmds):
            out += [_word_changes(o, n) for o, n in zip(old_cmds, new_cmds, strict=True) if o != n]
        else:
            out.append(f"{len(old_cmds)} commands recorded, {len(new_cmds)} now")
    old_inputs = recorded.get("inputs", {})
    for path, now_print in now["inputs"].items():
        if path in old_inputs and old_inputs[path] != now_print:
            out.append(f"input {path} changed since ({old_inputs[path]} -> {now_print})")
    return out

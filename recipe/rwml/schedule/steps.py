"""What a stage does, as data: the steps its table entry lists, which the runner prints (`+ ...`) and runs.

A step is a command (argv list), a command whose console output is kept in `$CKPT_DIR/logs/<stage>.log`, a config
check, or starting / stopping the model server a stage calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLAIN = re.compile(r"^[A-Za-z0-9_./:=,@%+-]+$")


def shell_quote(argv: list[str]) -> str:
    """argv the way a shell reads it back: plain words as they are, anything else in single quotes."""
    out = []
    for arg in argv:
        plain = _PLAIN.match(arg) or arg == "&"
        out.append(arg if plain else "'" + arg.replace("'", "'\\''") + "'")
    return " ".join(out)


@dataclass(frozen=True)
class Command:
    """Run argv; a failure stops the schedule with its exit status."""

    argv: list[str]


@dataclass(frozen=True)
class Logged:
    """Run argv with its console output also appended to `$CKPT_DIR/logs/<log>.log` (the final table reads it)."""

    log: str
    argv: list[str]


@dataclass(frozen=True)
class ConfigCheck:
    """Compose a stage config with its overrides against the installed verl (`python -m recipe.rwml.compose`)."""

    config: str
    overrides: list[str]


@dataclass(frozen=True)
class Serve:
    """Start a model server (argv) in the background, in its own process group, and wait until it answers."""

    model: str
    name: str
    argv: list[str]


@dataclass(frozen=True)
class StopServer:
    """Stop the server the stage started."""


@dataclass(frozen=True)
class MakeDir:
    """Create a folder a command writes into (a real run only; not printed)."""

    path: str


Step = Command | Logged | ConfigCheck | Serve | StopServer | MakeDir

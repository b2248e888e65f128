"""Files written whole or not at all: a temporary file beside the target, renamed over it, with ordinary permissions.

`tempfile.mkstemp` creates its file with mode 0600; a result left like that is private to one user on a shared
cluster. Every temporary file made here gets the mode the target had, or else what the umask gives a new file.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def new_file_mode() -> int:
    """The mode `open(path, "w")` would give a new file under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def temp_beside(path: str | Path, suffix: str = ".tmp") -> str:
    """An empty temporary file in `path`'s folder (so the final rename is atomic), with `path`'s mode if it exists."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else new_file_mode()
    os.chmod(tmp, mode)
    return tmp


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[str]:
    """Yield a temporary path to write; on success it replaces `path`, on any error it is removed."""
    tmp = temp_beside(path, suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | Path, data: str | bytes, *, fsync: bool = False) -> None:
    """Replace `path` with `data` (text is UTF-8)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        if fsync:
            f.flush()
            os.fsync(f.fileno())


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Replace `path` with `data` as indented JSON with sorted keys and a final newline."""
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")

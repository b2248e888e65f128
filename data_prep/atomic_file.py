"""Files written whole or not at all: a temporary file beside the target, renamed over it, with ordinary permissions.

`tempfile.mkstemp` creates its file with mode 0600; a result left like that is private to one user on a shared
cluster. Every temporary file made here gets the mode the target had, or else what the umask gives a new file.

A temporary file is named `.<target name>.<random>.<pid><suffix>`: a process killed with `kill -9` cannot remove
its own, so the next write of the same target removes those whose process is gone (and says so on stderr), never
one a live process is still writing. On any failure the temporary file is removed; a full disk raises
`DiskFullError`, which names the folder and is both an OSError and a one-line `UsageError`.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from data_prep.cli_errors import UsageError, error_line


class DiskFullError(UsageError, OSError):
    """No space left on the device while writing `path`: one line that says where, and to free space."""

    def __init__(self, path: str | Path) -> None:
        folder = Path(path).parent
        super().__init__(f"disk full at {folder}", f"writing {Path(path).name}", "free space there and rerun")
        self.errno, self.filename = errno.ENOSPC, str(path)

    def __str__(self) -> str:
        return error_line(self.what, self.where, self.fix, prefix=False)


def is_disk_full(err: BaseException) -> bool:
    """True for "No space left on device" (and a full quota), from Python or pyarrow."""
    return isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one of another user counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(path: str | Path, suffix: str = ".tmp") -> list[Path]:
    """Remove the temporary files of `path` left by processes that are gone (killed mid-write); return them."""
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.[^.]+\.(\d+){re.escape(suffix)}$")
    removed = []
    try:
        names = os.listdir(path.parent)
    except FileNotFoundError:
        return removed
    for name in sorted(names):
        match = pattern.match(name)
        if match and int(match.group(1)) != os.getpid() and not pid_alive(int(match.group(1))):
            stale = path.parent / name
            stale.unlink(missing_ok=True)
            removed.append(stale)
            print(f"removed {stale}: a temporary file left by process {match.group(1)}, which is gone", file=sys.stderr)
    return removed


def new_file_mode() -> int:
    """The mode `open(path, "w")` would give a new file under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def temp_beside(path: str | Path, suffix: str = ".tmp") -> str:
    """An empty temporary file in `path`'s folder (so the final rename is atomic), with `path`'s mode if it exists."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path, suffix)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".{os.getpid()}{suffix}")
    try:
        os.close(fd)
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else new_file_mode()
        os.chmod(tmp, mode)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


@contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[str]:
    """Yield a temporary path to write; on success it replaces `path`, on any error it is removed.

    A full disk (while writing or renaming) raises DiskFullError.
    """
    try:
        tmp = temp_beside(path, suffix)
    except OSError as err:
        if is_disk_full(err):
            raise DiskFullError(path) from err
        raise
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if is_disk_full(err) and not isinstance(err, DiskFullError):
            raise DiskFullError(path) from err
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

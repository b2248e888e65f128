"""One writer per output: a lock beside the output, held for the writer's life.

`OutputLock(path)` takes an exclusive `flock` on `.<name>.lock` beside `path` and writes the holder's pid and command
into it; a second writer is refused at once with `OutputLockedError`, which names the holder. The kernel releases a
flock when its process dies, however it dies, so the lock of a killed writer is simply taken over (the file it left
is rewritten). `release` removes the lock file.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from pathlib import Path

from data_prep.cli_errors import UsageError


class OutputLockedError(UsageError):
    """Another live process writes the same output."""


def lock_path(path: str | Path) -> Path:
    path = Path(path)
    return path.parent / f".{path.name}.lock"


class OutputLock:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.lock = lock_path(self.path)
        self.lock.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise OutputLockedError(
                    f"{self.path} is being written by another process ({holder})",
                    str(self.lock),
                    "wait for it to finish or stop it; two writers would interleave their output",
                ) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.lock).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a lock file its last holder removed between our open and our flock
                break
            os.close(fd)
        self.fd: int | None = fd
        try:  # who holds it, for the refusal's message; the flock is the lock (a full disk only loses the name)
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"pid": os.getpid(), "command": " ".join(sys.argv)}).encode())
        except OSError:
            pass

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.unlink(self.lock)
        except FileNotFoundError:
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> OutputLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        return f"pid {holder['pid']}: {holder['command']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "pid unknown"

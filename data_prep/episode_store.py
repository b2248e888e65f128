"""Append-only episode JSONL with resume: finished episodes are on disk the moment they finish.

Each episode is one line, written with flush + fsync, so a `kill -9` loses at most the episode in
flight. On reopen, a torn last line (the kill landed mid-write) is cut off -- one truncation, found by reading
the file's tail only -- and every complete line's `episode_id` counts as done. A write that fails
(a full disk) is cut back off before the error is raised: the file never holds half an episode. Errors
name the file and line and say what to do, on one line.

One writer at a time: the store holds a lock beside the file (data_prep/output_lock.py) until `close`; a second
collection into the same file is refused, naming the first. The file must be a regular file: a symlink is written
through (to the file it points to, never replaced), a FIFO, a device or a folder is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from data_prep.atomic_file import write_json_atomic
from data_prep.output_lock import OutputLock


class EpisodeFileError(ValueError):
    """A line of an episode file is not a valid episode record."""


_FIX_LINE = "fix or delete that line (every other episode is kept), or pass another --out"


def _parse_line(raw: bytes) -> dict[str, Any]:
    """One line's episode record; ValueError (UnicodeDecodeError included) saying what is wrong with it."""
    try:
        d = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ValueError(f"not UTF-8 text (byte 0x{raw[err.start]:02x} at column {err.start + 1})") from err
    if not isinstance(d, dict) or "episode_id" not in d or "steps" not in d:
        raise ValueError("not an episode record (needs 'episode_id' and 'steps')")
    if not isinstance(d["episode_id"], str):
        raise ValueError(f"episode_id must be a string, got {type(d['episode_id']).__name__}")
    return d


def iter_episode_dicts(
    path: str | Path, *, skip_bad: bool = False, on_bad: Callable[[EpisodeFileError], None] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield `(line_number, episode dict)`; a bad line raises with file and line unless `skip_bad`.

    With `skip_bad`, `on_bad` (if given) receives the error of each skipped line, e.g. to count them.
    """
    with open(path, "rb") as f:  # decoded line by line, so a bad byte is reported with its line
        for lineno, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                d = _parse_line(raw)
            except ValueError as err:
                bad = EpisodeFileError(f"{path}:{lineno}: {err}; {_FIX_LINE}")
                if skip_bad:
                    if on_bad is not None:
                        on_bad(bad)
                    continue
                raise bad from err
            yield lineno, d


TAIL_CHUNK = 1 << 16


def regular_file_target(path: Path) -> Path:
    """The file that writes to `path` reach: `path`, or the file its symlink points to. Refuses a folder, and a
    FIFO, a device or a socket (reading one hangs or never ends)."""
    target = path.resolve() if path.is_symlink() else path
    shown = f"{path}" + (f" (a link to {target})" if target != path else "")
    if target.is_dir():
        raise EpisodeFileError(f"{shown}: is a folder, not an episode file; pass a file such as {path}/episodes.jsonl")
    if target.exists() and not target.is_file():
        raise EpisodeFileError(
            f"{shown}: is not a regular file (a FIFO, a device or a socket); pass an episode file as --out"
        )
    return target


class EpisodeStore:
    """The output JSONL of a collection run."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.done: set[str] = set()
        self.file = regular_file_target(self.path)  # where the lines go: a symlink's target
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            self._lock = OutputLock(self.file)
        except OSError as err:
            raise EpisodeFileError(f"{self.path}: cannot open ({err.strerror or err}); pass another --out") from err
        try:
            if self.file.exists():
                self._repair_tail()
                for _, d in iter_episode_dicts(self.file):
                    self.done.add(d["episode_id"])
        except OSError as err:
            self.close()
            raise EpisodeFileError(f"{self.path}: cannot open ({err.strerror or err}); pass another --out") from err
        except EpisodeFileError:
            self.close()
            raise

    def close(self) -> None:
        """Release the writer's lock (the process's end releases it too)."""
        self._lock.release()

    def __enter__(self) -> EpisodeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def settings_path(self) -> Path:
        """The sidecar manifest: the settings the episodes were made with, beside the episode file."""
        return self.file.with_name(self.file.name + ".settings.json")

    def check_settings(self, settings: dict[str, Any]) -> None:
        """Refuse to add episodes made with other `settings` than those already in the file; record them.

        The manifest is (re)written, atomically, when the file holds no episode yet, and when an older file
        has none (its episodes are taken as made with these settings).
        """
        manifest = self.settings_path
        if self.done and manifest.exists():
            try:
                previous = json.loads(manifest.read_text(encoding="utf-8"))
                if not isinstance(previous, dict):
                    raise ValueError("not a JSON object")
            except (ValueError, OSError) as err:
                raise EpisodeFileError(
                    f"{manifest}: unreadable settings manifest ({err}); delete it to keep the episodes of "
                    f"{self.path} with the settings given now, or pass another --out"
                ) from err
            diff = sorted(k for k in previous.keys() | settings.keys() if previous.get(k) != settings.get(k))
            if diff:
                was = ", ".join(f"{k}={previous.get(k)!r} now {settings.get(k)!r}" for k in diff)
                raise EpisodeFileError(
                    f"{self.path} holds {len(self.done)} episodes made with other settings ({was}; recorded in "
                    f"{manifest}); pass another --out, or rerun with the recorded settings to resume"
                )
            return
        write_json_atomic(manifest, settings)

    def _repair_tail(self) -> None:
        """Cut a torn last line off, reading only the end of the file."""
        with open(self.file, "rb+") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return
            f.seek(size - 1)
            if f.read(1) == b"\n":
                return
            cut, end = 0, size
            while end > 0:
                start = max(0, end - TAIL_CHUNK)
                f.seek(start)
                newline = f.read(end - start).rfind(b"\n")
                if newline >= 0:
                    cut = start + newline + 1
                    break
                end = start
            f.truncate(cut)  # keep every complete line, drop the torn one
            f.flush()
            os.fsync(f.fileno())

    def append(self, episode: dict[str, Any]) -> None:
        """Add one episode as one line, on disk (fsync'ed) when this returns; on a failed write, nothing of it."""
        data = memoryview((json.dumps(episode, ensure_ascii=False) + "\n").encode("utf-8"))
        fd = os.open(self.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)  # 0o666: the umask decides
        try:
            start = os.fstat(fd).st_size
            try:
                while data:
                    data = data[os.write(fd, data) :]
                os.fsync(fd)
            except OSError as err:
                os.ftruncate(fd, start)  # a full disk leaves no torn line behind
                raise EpisodeFileError(
                    f"{self.path}: cannot write episode {episode['episode_id']} ({err.strerror or err}); "
                    "free space (or fix the folder), then rerun the same command: the episodes written so far are kept"
                ) from err
        finally:
            os.close(fd)
        self.done.add(episode["episode_id"])

"""Append-only episode JSONL with resume: finished episodes are on disk the moment they finish.

Each episode is one line, written with flush + fsync, so a `kill -9` loses at most the episode in
flight. On reopen, a torn last line (the kill landed mid-write) is cut off -- atomically, through a
temporary file and a rename -- and every complete line's `episode_id` counts as done. A write that fails
(a full disk) is cut back off before the error is raised: the file never holds half an episode. Errors
name the file and line and say what to do, on one line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from data_prep.atomic_file import write_atomic, write_json_atomic


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


class EpisodeStore:
    """The output JSONL of a collection run."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.done: set[str] = set()
        if self.path.is_dir():
            raise EpisodeFileError(
                f"{self.path}: is a folder, not an episode file; pass a file such as {self.path}/episodes.jsonl"
            )
        try:
            if self.path.exists():
                self._repair_tail()
                for _, d in iter_episode_dicts(self.path):
                    self.done.add(d["episode_id"])
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise EpisodeFileError(f"{self.path}: cannot open ({err.strerror or err}); pass another --out") from err

    @property
    def settings_path(self) -> Path:
        """The sidecar manifest: the settings the episodes were made with, beside the episode file."""
        return self.path.with_name(self.path.name + ".settings.json")

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
        data = self.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return
        cut = data.rfind(b"\n") + 1  # keep every complete line, drop the torn one
        write_atomic(self.path, data[:cut], fsync=True)  # keeps the file's mode

    def append(self, episode: dict[str, Any]) -> None:
        """Add one episode as one line, on disk (fsync'ed) when this returns; on a failed write, nothing of it."""
        data = memoryview((json.dumps(episode, ensure_ascii=False) + "\n").encode("utf-8"))
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)  # 0o666: the umask decides
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

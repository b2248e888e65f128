"""Append-only episode JSONL with resume: finished episodes are on disk the moment they finish.

Each episode is one line, written with flush + fsync, so a `kill -9` loses at most the episode in
flight. On reopen, a torn last line (the kill landed mid-write) is cut off -- atomically, through a
temporary file and a rename -- and every complete line's `episode_id` counts as done.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from data_prep.atomic_file import write_atomic


class EpisodeFileError(ValueError):
    """A line of an episode file is not a valid episode record."""


def iter_episode_dicts(
    path: str | Path, *, skip_bad: bool = False, on_bad: Callable[[EpisodeFileError], None] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield `(line_number, episode dict)`; a bad line raises with file and line unless `skip_bad`.

    With `skip_bad`, `on_bad` (if given) receives the error of each skipped line, e.g. to count them.
    """
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                if not isinstance(d, dict) or "episode_id" not in d or "steps" not in d:
                    raise ValueError("not an episode record (needs 'episode_id' and 'steps')")
            except ValueError as err:
                bad = EpisodeFileError(f"{path}:{lineno}: {err}")
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
        if self.path.exists():
            self._repair_tail()
            for _, d in iter_episode_dicts(self.path):
                self.done.add(d["episode_id"])
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def _repair_tail(self) -> None:
        data = self.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return
        cut = data.rfind(b"\n") + 1  # keep every complete line, drop the torn one
        write_atomic(self.path, data[:cut], fsync=True)  # keeps the file's mode

    def append(self, episode: dict[str, Any]) -> None:
        line = json.dumps(episode, ensure_ascii=False) + "\n"
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        self.done.add(episode["episode_id"])

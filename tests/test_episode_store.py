"""Resumable episode output: finished lines survive a kill, a torn tail is cut, bad lines are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_prep.episode_store import EpisodeFileError, EpisodeStore, iter_episode_dicts


def _ep(i: int) -> dict:
    return {"episode_id": f"alfworld/train/game{i}/0", "steps": [], "success": i % 2 == 0}


def test_store_appends_and_reopens_with_done_ids(tmp_path):
    path = tmp_path / "eps.jsonl"
    with EpisodeStore(path) as store:
        for i in range(3):
            store.append(_ep(i))
    with EpisodeStore(path) as again:
        assert again.done == {f"alfworld/train/game{i}/0" for i in range(3)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eps.jsonl"]  # the writer's lock is gone with it


def test_a_second_writer_is_refused_naming_the_first_and_a_dead_writers_lock_is_taken_over(tmp_path):
    """The reported attack: two collections into one --out both reported success, every episode twice."""
    import os
    import subprocess
    import sys

    from data_prep.output_lock import OutputLockedError, lock_path

    path = tmp_path / "eps.jsonl"
    with EpisodeStore(path) as first:
        first.append(_ep(0))
        with pytest.raises(OutputLockedError, match=rf"being written by another process \(pid {os.getpid()}: "):
            EpisodeStore(path)
        other = subprocess.run(
            [sys.executable, "-c", f"from data_prep.episode_store import EpisodeStore; EpisodeStore({str(path)!r})"],
            capture_output=True, text=True,
        )  # fmt: skip
        assert other.returncode != 0 and "being written by another process" in other.stderr
    # a writer killed with kill -9 leaves its lock file; the kernel released its flock, so the next one takes over
    dead = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    lock_path(path).write_text(f'{{"pid": {dead.pid}, "command": "collect"}}')
    dead.kill()
    dead.wait()
    with EpisodeStore(path) as again:
        assert again.done == {"alfworld/train/game0/0"}


def test_special_files_are_refused_and_a_symlink_is_written_through(tmp_path):
    """The reported attacks: --out a symlink to /dev/zero grew memory to 10 GB, a FIFO hung, and a symlink to a file
    with a torn last line was replaced by a regular file, the episodes never reaching the real file."""
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for special in (fifo, Path("/dev/zero")):
        link = tmp_path / f"link_to_{special.name}"
        link.symlink_to(special)
        for out in (special, link):
            with pytest.raises(EpisodeFileError, match="is not a regular file"):
                EpisodeStore(out)
    real = tmp_path / "real.jsonl"
    real.write_text(json.dumps(_ep(0)) + "\n" + json.dumps(_ep(1))[:10])
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    with EpisodeStore(link) as store:
        store.append(_ep(2))
    assert link.is_symlink() and link.resolve() == real
    assert [json.loads(x)["episode_id"] for x in real.read_text().splitlines()] == [
        "alfworld/train/game0/0",
        "alfworld/train/game2/0",
    ]


def test_torn_last_line_is_cut_and_complete_lines_kept(tmp_path):
    path = tmp_path / "eps.jsonl"
    full = "".join(json.dumps(_ep(i)) + "\n" for i in range(2))
    path.write_text(full + json.dumps(_ep(2))[:17])  # a kill -9 in the middle of the third write
    store = EpisodeStore(path)
    assert store.done == {"alfworld/train/game0/0", "alfworld/train/game1/0"}
    assert path.read_text() == full
    assert not list(tmp_path.glob(".*.tmp"))


def test_repairing_a_torn_tail_keeps_the_files_permissions(tmp_path):
    path = tmp_path / "eps.jsonl"
    path.write_text(json.dumps(_ep(0)) + "\n" + json.dumps(_ep(1))[:9])
    path.chmod(0o664)  # a shared episode file
    EpisodeStore(path)
    assert path.stat().st_mode & 0o777 == 0o664


def test_bad_line_in_the_middle_names_file_and_line(tmp_path):
    path = tmp_path / "eps.jsonl"
    path.write_text(json.dumps(_ep(0)) + "\n{not json\n" + json.dumps(_ep(1)) + "\n")
    with pytest.raises(EpisodeFileError, match=r"eps.jsonl:2"):
        EpisodeStore(path)
    assert [d["episode_id"] for _, d in iter_episode_dicts(path, skip_bad=True)] == [
        "alfworld/train/game0/0",
        "alfworld/train/game1/0",
    ]

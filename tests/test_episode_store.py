"""Resumable episode output: finished lines survive a kill, a torn tail is cut, bad lines are named."""

from __future__ import annotations

import json

import pytest

from data_prep.episode_store import EpisodeFileError, EpisodeStore, iter_episode_dicts


def _ep(i: int) -> dict:
    return {"episode_id": f"alfworld/train/game{i}/0", "steps": [], "success": i % 2 == 0}


def test_store_appends_and_reopens_with_done_ids(tmp_path):
    path = tmp_path / "eps.jsonl"
    store = EpisodeStore(path)
    for i in range(3):
        store.append(_ep(i))
    again = EpisodeStore(path)
    assert again.done == {f"alfworld/train/game{i}/0" for i in range(3)}


def test_torn_last_line_is_cut_atomically_and_complete_lines_kept(tmp_path):
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

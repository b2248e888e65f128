"""Stage-2 policy parquet: benchmark splits, rows the agent loop can play, verl's RLHFDataset loads them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from data_prep import build_policy_dataset
from envs.base import TaskSpec
from envs.registry import list_tasks


def rows(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


def task_of(row: dict[str, Any]) -> TaskSpec:
    return TaskSpec.from_dict(json.loads(row["extra_info"]["task"]))


def test_alfworld_default_splits_and_rows_the_env_can_reset(tmp_path: Path, tiny_model_dir: Path) -> None:
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from envs.registry import make_env

    assert build_policy_dataset.main(["--env", "alfworld", "--data-root", "bundled", "--out-dir", str(tmp_path)]) == 0
    train, val = rows(tmp_path / "train.parquet"), rows(tmp_path / "val.parquet")
    assert {task_of(r).task_id for r in train} == {
        t.task_id for t in list_tasks("alfworld", "train", data_root="bundled")
    }
    assert {task_of(r).task_id for r in val} == {
        t.task_id for t in list_tasks("alfworld", "valid_seen", data_root="bundled")
    }
    assert all(r["agent_name"] == "rwml_env_agent" and r["data_source"] == "alfworld" for r in train + val)
    assert [r["extra_info"]["index"] for r in train] == list(range(len(train)))

    ds = RLHFDataset(
        [str(tmp_path / "train.parquet")],
        AutoTokenizer.from_pretrained(tiny_model_dir),
        OmegaConf.create({"max_prompt_length": 1024, "filter_overlong_prompts": False}),
    )
    assert len(ds) == len(train) and ds[0]["agent_name"] == "rwml_env_agent"

    env = make_env("alfworld")  # the game named by a row is found and played
    try:
        task = task_of(val[0])
        reset = env.reset(task)
        assert reset.task.startswith("Your task is to:") and Path(task.kwargs["game_file"]).is_absolute()
    finally:
        env.close()


def test_alfworld_shared_games_with_stored_data_root(tmp_path: Path, shared_alfworld: Path) -> None:
    args = ["--env", "alfworld", "--data-root", str(shared_alfworld), "--out-dir", str(tmp_path)]
    args += ["--train-split", "valid_train", "--val-split", "valid_seen", "--max-tasks", "5"]
    assert build_policy_dataset.main([*args, "--stored-data-root", "/mnt/alfworld"]) == 0
    train, val = rows(tmp_path / "train.parquet"), rows(tmp_path / "val.parquet")
    assert len(train) == len(val) == 5
    for r in train + val:
        task = task_of(r)
        game = Path(task.kwargs["game_file"])
        assert game.parts[:3] == ("/", "mnt", "alfworld")
        assert (shared_alfworld / game.relative_to("/mnt/alfworld")).is_file()
        assert r["extra_info"]["split"] == task.split
    assert {task_of(r).split for r in val} == {"valid_seen"}


def test_tau2_train_and_test_per_domain(tmp_path: Path) -> None:
    assert (
        build_policy_dataset.main(["--env", "tau2", "--domain", "retail", "airline", "--out-dir", str(tmp_path)]) == 0
    )
    train, val = rows(tmp_path / "train.parquet"), rows(tmp_path / "val.parquet")
    for split, got in (("train", train), ("test", val)):
        want = {("retail", t.task_id) for t in list_tasks("tau2", split, domain="retail")}
        want |= {("airline", t.task_id) for t in list_tasks("tau2", split, domain="airline")}
        assert {(task_of(r).kwargs["domain"], task_of(r).task_id) for r in got} == want
    assert {r["data_source"] for r in train} == {"tau2_retail", "tau2_airline"}
    ids = {s: {(task_of(r).kwargs["domain"], task_of(r).task_id) for r in rs} for s, rs in (("t", train), ("v", val))}
    assert not ids["t"] & ids["v"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "alfworld", "--data-root", "bundled", "--val-split", "valid_unseen"], "no split 'valid_unseen'"),
        (["--env", "tau2", "--domain", "retail", "--train-split", "base"], "in both train and val"),
        (["--env", "tau2"], "needs --domain"),
    ],
)
def test_bad_requests_are_clear_errors(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    assert build_policy_dataset.main([*args, "--out-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "train.parquet").exists() and not (tmp_path / "val.parquet").exists()

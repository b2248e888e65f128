"""ALFWorld through the official TextWorld stack: bundled games of our own and the real shared games."""

from __future__ import annotations

import json

import pytest

from envs.alfworld_env import (
    BUNDLED_DATA_ROOT,
    TASK_TYPES,
    AlfWorldEnv,
    list_alfworld_tasks,
    resolve_data_root,
    task_type_of,
)
from envs.base import EnvError


@pytest.fixture(scope="module")
def env():
    e = AlfWorldEnv()
    yield e
    e.close()


def _play_expert(env, task, max_steps=60):
    res = env.reset(task)
    info, steps = res.info, 0
    while steps < max_steps:
        step = env.step(info["expert_action"])
        steps += 1
        assert step.valid
        if step.done:
            return step, steps
        info = step.info
    raise AssertionError(f"expert did not finish {task.task_id} in {max_steps} steps")


@pytest.mark.parametrize("split", ["train", "valid_seen"])
def test_expert_wins_every_bundled_game(env, split):
    tasks = list_alfworld_tasks(BUNDLED_DATA_ROOT, split)
    assert tasks
    for task in tasks:
        step, n = _play_expert(env, task)
        assert step.success and step.info["won"]
        walkthrough = json.load(open(task.kwargs["game_file"]))["walkthrough"]
        assert n == len(walkthrough)  # the shipped walkthrough is the expert's own solution


def test_bundled_games_cover_kitchen_and_bathroom_tasks():
    types = {t.kwargs["task_type"] for s in ("train", "valid_seen") for t in list_alfworld_tasks(BUNDLED_DATA_ROOT, s)}
    assert {"pick_heat_then_place_in_recep", "pick_clean_then_place_in_recep", "look_at_obj_in_light"} <= types


def test_expert_wins_a_real_shared_game(env, shared_alfworld):
    task = list_alfworld_tasks(shared_alfworld, "valid_seen", task_types=["pick_cool_then_place_in_recep"])[0]
    res = env.reset(task)
    assert res.task.startswith("Your task is to:") and "cool" in res.task
    step, _ = _play_expert(env, task)
    assert step.success


def test_invalid_action_gives_nothing_happens_and_is_marked_invalid(env):
    task = list_alfworld_tasks(BUNDLED_DATA_ROOT, "train")[0]
    res = env.reset(task)
    assert res.info["expert_action"] in env.admissible_actions
    assert "go to countertop 1" in env.admissible_actions
    step = env.step("fly to the moon")
    assert step.observation == "Nothing happens."
    assert not step.valid and not step.done and not step.success
    ok = env.step("  Go To   CounterTop 1 ")  # actions are normalised like alfworld's parser expects
    assert ok.valid and ok.observation.startswith("You arrive at countertop 1")


def test_listing_the_shared_split_is_complete_and_deterministic(shared_alfworld):
    a = list_alfworld_tasks(shared_alfworld, "valid_seen")
    b = list_alfworld_tasks(shared_alfworld, "valid_seen")
    assert [t.task_id for t in a] == [t.task_id for t in b]
    assert len(a) == len(list((shared_alfworld / "json_2.1.1" / "valid_seen").glob("*/*/game.tw-pddl")))
    assert {t.kwargs["task_type"] for t in a} == set(TASK_TYPES)
    assert all(task_type_of(t.task_id) == t.kwargs["task_type"] for t in a)


def test_missing_root_or_split_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(EnvError, match="does not exist"):
        resolve_data_root(str(tmp_path / "nowhere"))
    with pytest.raises(EnvError, match="no json_2.1.1"):
        resolve_data_root(str(tmp_path))
    with pytest.raises(EnvError, match=r"no split 'valid_unseen'.*\['train', 'valid_seen'\]"):
        list_alfworld_tasks(BUNDLED_DATA_ROOT, "valid_unseen")
    monkeypatch.setenv("ALFWORLD_DATA", str(tmp_path / "from_env"))
    with pytest.raises(EnvError, match="from_env"):
        resolve_data_root(None)
    monkeypatch.delenv("ALFWORLD_DATA")
    assert resolve_data_root(None) == BUNDLED_DATA_ROOT == resolve_data_root("bundled")


def test_walkthrough_expert_wins_a_pick_two_game_the_handcoded_expert_searches_longer(env, shared_alfworld):
    from data_prep.policies import make_policy
    from data_prep.rollout import run_episode

    task = list_alfworld_tasks(shared_alfworld, "valid_seen", task_types=["pick_two_obj_and_place"])[0]
    walkthrough = json.load(open(task.kwargs["game_file"]))["walkthrough"]
    assert env.reset(task).info["walkthrough"] == walkthrough
    ep = run_episode(env, make_policy({"name": "expert", "source": "walkthrough"}), task, 0, max_steps=30)
    assert ep.success and [s.action for s in ep.steps] == walkthrough
    handcoded = run_episode(env, make_policy({"name": "expert", "source": "handcoded"}), task, 0, max_steps=30)
    assert len(handcoded.steps) > len(walkthrough)  # it searches receptacles one by one

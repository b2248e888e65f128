"""ALFWorld through the official TextWorld stack: bundled games of our own and the real shared games."""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
from tests.conftest import REPO_ROOT


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
    assert resolve_data_root("bundled") == BUNDLED_DATA_ROOT


@pytest.mark.parametrize("user_value", [None, "from_env"])
def test_data_root_comes_from_the_users_alfworld_data_even_after_alfworld_is_imported(tmp_path, user_value):
    # importing alfworld sets $ALFWORLD_DATA to its own empty cache folder when the user left it unset
    env = {k: v for k, v in os.environ.items() if k != "ALFWORLD_DATA"} | {"HOME": str(tmp_path)}
    if user_value:
        env["ALFWORLD_DATA"] = str(tmp_path / user_value)
    code = (
        "import os\n"
        "from envs.alfworld_env import resolve_data_root\n"
        "import alfworld.info\n"
        "assert os.environ['ALFWORLD_DATA']\n"
        "try:\n    print(resolve_data_root(None))\nexcept Exception as err:\n    print('error:', err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    if user_value:
        assert out.stdout.startswith("error:") and "from_env" in out.stdout
    else:
        assert out.stdout.strip() == str(BUNDLED_DATA_ROOT)


def test_walkthrough_expert_wins_a_pick_two_game_the_handcoded_expert_searches_longer(env, shared_alfworld):
    from data_prep.play_episode import run_episode
    from data_prep.policies import make_policy

    task = list_alfworld_tasks(shared_alfworld, "valid_seen", task_types=["pick_two_obj_and_place"])[0]
    walkthrough = json.load(open(task.kwargs["game_file"]))["walkthrough"]
    assert env.reset(task).info["walkthrough"] == walkthrough
    ep = run_episode(env, make_policy({"name": "expert", "source": "walkthrough"}), task, 0, max_steps=30)
    assert ep.success and [s.action for s in ep.steps] == walkthrough
    handcoded = run_episode(env, make_policy({"name": "expert", "source": "handcoded"}), task, 0, max_steps=30)
    assert len(handcoded.steps) > len(walkthrough)  # it searches receptacles one by one

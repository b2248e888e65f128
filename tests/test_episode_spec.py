"""Collection and evaluation build who plays an episode through one function (`data_prep.episode_spec`).

For every env and every policy kind, the policy spec and env keywords that collection hands its pool jobs equal
the ones evaluation hands its own, from the same flags (the reported drift: collection let the gold policy make the
customer's own tool calls in tau2, evaluation's copy did not, so the gold baseline had its user-device calls refused).
"""

from __future__ import annotations

import pytest

from data_prep import collect_trajectories
from data_prep.episode_spec import PolicySettings, episode_spec
from data_prep.history_windows import HISTORY_WINDOW
from data_prep.policies import POLICY_NAMES, PolicyError
from envs.base import TaskSpec
from envs.registry import ENV_NAMES
from envs.user_sim_args import UserSimFlags
from recipe.rwml.evaluate import cli, episodes

MODEL = ["--base-url", "http://h:8000/v1", "--model", "m", "--temperature", "0.7", "--max-tokens", "64"]
USER = ["--user-model", "openai/u", "--user-base-url", "http://h:1/v1", "--user-temperature", "0.5"]


def collection_job(env: str, policy: str, *flags: str) -> dict:
    """The first pool job collection makes for one task of `env`."""
    args = collect_trajectories.build_parser().parse_args(
        ["--env", env, "--split", "train", "--policy", policy, "--out", "x.jsonl", *MODEL, *USER, *flags]
    )
    task = TaskSpec(env=env, task_id="t0", split="train")
    return collect_trajectories.collection_jobs(args, [task], collect_trajectories.collection_spec(args), 5)[0]


def evaluation_job(env: str, policy: str, *flags: str) -> dict:
    """The first pool job evaluation makes for one task of `env`."""
    args = cli.build_parser().parse_args(["--policy", policy, "--out-dir", "x", *MODEL, *USER, *flags])
    planned = {f"{env}/suite": [TaskSpec(env=env, task_id="t0", split="test")]}
    return episodes.make_jobs(cli.episode_settings(args), planned)[0]


@pytest.mark.parametrize("policy", POLICY_NAMES)
@pytest.mark.parametrize("env", ENV_NAMES)
def test_collection_and_evaluation_build_the_same_policy_and_env(env: str, policy: str) -> None:
    collected, evaluated = collection_job(env, policy), evaluation_job(env, policy)
    assert (collected["policy"], collected["env_kwargs"]) == (evaluated["policy"], evaluated["env_kwargs"])
    assert collected["env_kwargs"].get("allow_user_tool_calls", False) is (env == "tau2" and policy == "gold")
    if policy == "openai":
        assert collected["policy"]["history_window"] == HISTORY_WINDOW.get(env)  # the table's, or every step


@pytest.mark.parametrize("env", ["alfworld", "tau2"])
def test_a_history_window_and_prompt_tools_set_by_flag_reach_both_alike(env: str) -> None:
    collected = collection_job(env, "openai", "--history-window", "3", "--tau2-tools-in-prompt")
    evaluated = evaluation_job(env, "openai", f"--{env}-history", "3", "--tau2-tools-in-prompt")
    assert collected["policy"] == evaluated["policy"]
    assert collected["policy"]["history_window"] == 3 and collected["policy"]["native_tools"] is False


def test_the_spec_of_each_policy_kind() -> None:
    user = UserSimFlags(user_model="openai/u")
    expert = PolicySettings("expert", epsilon=0.3, invalid=0.1, expert_source="handcoded")
    assert episode_spec("alfworld", expert, user).policy == {
        "name": "expert",
        "epsilon": 0.3,
        "source": "handcoded",
        "invalid": 0.1,
    }
    assert "invalid" not in episode_spec("alfworld", PolicySettings("expert"), user).policy
    gold = episode_spec("tau2", PolicySettings("gold", epsilon=0.2), user)
    assert gold.policy == {"name": "gold", "epsilon": 0.2}
    assert gold.env_kwargs == {"user_temperature": 0.0, "user_max_tokens": 512, "user_model": "openai/u",
                               "allow_user_tool_calls": True}  # fmt: skip
    with pytest.raises(PolicyError, match="--invalid applies to the expert policy only, not --policy gold"):
        episode_spec("tau2", PolicySettings("gold", invalid=0.1), user)

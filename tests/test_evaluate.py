"""The evaluation (recipe/rwml/evaluate/, scripts/evaluate.py) on real ALFWorld games: scripted baselines, a model
behind a stand-in OpenAI-compatible server on 127.0.0.1 (real HTTP), resume, missing splits, and the world-model
reward on a held-out parquet."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.openai_stub import openai_stub

SCRIPT = REPO_ROOT / "scripts" / "evaluate.py"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def evaluate(*argv: str) -> int:
    from recipe.rwml.evaluate.cli import main

    return main(list(argv))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("command", [[str(SCRIPT)], ["-m", "recipe.rwml.evaluate"]], ids=["by-path", "module"])
def test_help_documents_the_flags(command: list[str], tmp_path: Path) -> None:
    # from another folder: verl's wheel installs its own top-level `scripts` package, ours must not be needed
    out = subprocess.run([sys.executable, *command, "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for flag in (
        "--policy",
        "--base-url",
        "--model",
        "--runs",
        "--max-steps",
        "--alfworld-splits",
        "--tau2-domains",
        "--user-base-url",
        "--wm-parquet",
        "--out-dir",
        "valid_unseen",
    ):
        assert flag in out.stdout


def test_pool_workers_find_the_episode_job() -> None:
    from envs.ray_workers import load_job_fn
    from recipe.rwml.evaluate.episodes import EVAL_JOB, eval_episode_job

    assert load_job_fn(EVAL_JOB) is eval_episode_job


@pytest.fixture(scope="module")
def expert_vs_random(shared_alfworld: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for policy in ("expert", "random"):
        d = tmp_path_factory.mktemp(policy)
        rc = evaluate(
            "--policy",
            policy,
            "--data-root",
            str(shared_alfworld),
            "--alfworld-splits",
            "valid_seen",
            "--max-tasks",
            "4",
            "--runs",
            "1",
            "--max-steps",
            "30",
            "--workers",
            "0",
            "--out-dir",
            str(d),
        )
        assert rc == 0
        out[policy] = d
    return out


def test_expert_wins_every_game_and_random_does_not(expert_vs_random: dict[str, Path]) -> None:
    expert = json.loads((expert_vs_random["expert"] / "summary.json").read_text())
    random = json.loads((expert_vs_random["random"] / "summary.json").read_text())
    e, r = expert["suites"]["alfworld/valid_seen"], random["suites"]["alfworld/valid_seen"]
    # the expert follows each game's stored walkthrough, so it wins all four
    assert e["episodes"] == 4 and e["success"] == 1.0 and e["invalid_action_rate"] == 0.0
    assert r["episodes"] == 4 and r["success"] <= 0.25 < e["success"]
    assert r["mean_steps"] > e["mean_steps"]
    assert expert["task_types"]["alfworld/valid_seen"]  # per-task-type breakdown present


def test_outputs_table_episodes_and_chart(expert_vs_random: dict[str, Path]) -> None:
    d = expert_vs_random["expert"]
    table = (d / "results.md").read_text()
    assert re.search(r"\| alfworld/valid_seen \| 4 \| 1 \| \d+\.\d ± 0\.0 \| 0\.0 \|", table), table
    assert "by task type" in table
    episodes = read_jsonl(d / "episodes.jsonl")
    assert len(episodes) == 4 and all(e["steps"] and e["policy"]["name"] == "expert" for e in episodes)
    assert {e["suite"] for e in episodes} == {"alfworld/valid_seen"}
    assert (d / "success.png").read_bytes()[:8] == PNG_MAGIC
    # ordinary files that teammates can read (mkstemp alone would leave them 0600)
    for name in ("results.md", "summary.json", "success.png", "run.json"):
        assert (d / name).stat().st_mode & 0o044 == 0o044, name


def test_rerun_resumes_and_other_settings_are_refused(
    expert_vs_random: dict[str, Path], shared_alfworld: Path, capsys: pytest.CaptureFixture
) -> None:
    d = expert_vs_random["expert"]
    common = [
        "--policy",
        "expert",
        "--data-root",
        str(shared_alfworld),
        "--alfworld-splits",
        "valid_seen",
        "--max-tasks",
        "4",
        "--workers",
        "0",
        "--out-dir",
        str(d),
    ]
    capsys.readouterr()
    assert evaluate(*common, "--runs", "1") == 0
    assert "0 to run" in capsys.readouterr().out
    assert len(read_jsonl(d / "episodes.jsonl")) == 4
    assert evaluate(*common, "--runs", "1", "--max-steps", "10") == 2
    assert "max_steps" in capsys.readouterr().err


def test_missing_split_is_skipped_with_a_warning_or_an_error_if_alone(
    shared_alfworld: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert not (shared_alfworld / "json_2.1.1" / "valid_unseen").exists()
    common = ["--policy", "expert", "--data-root", str(shared_alfworld), "--runs", "1", "--workers", "0"]
    assert evaluate(*common, "--alfworld-splits", "valid_unseen", "--out-dir", str(tmp_path / "a")) == 2
    assert "valid_unseen" in capsys.readouterr().err
    with pytest.warns(UserWarning, match="valid_unseen"):
        rc = evaluate(
            *common,
            "--alfworld-splits",
            "valid_seen",
            "valid_unseen",
            "--max-tasks",
            "1",
            "--out-dir",
            str(tmp_path / "b"),
        )
    assert rc == 0
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert list(summary["suites"]) == ["alfworld/valid_seen"]


# ----------------------------------------------------------------------------------------------- model endpoint


@pytest.fixture(scope="module")
def walkthroughs(shared_alfworld: Path) -> dict[str, tuple[list[str], bool]]:
    """The handcoded expert's actions and outcome on the two valid_seen games `--max-tasks 2` picks, by initial
    observation."""
    from data_prep.play_episode import run_episode
    from data_prep.policies import AlfworldExpertPolicy
    from envs.registry import list_tasks, make_env, spread_tasks

    env = make_env("alfworld")
    out = {}
    for task in spread_tasks(list_tasks("alfworld", "valid_seen", data_root=shared_alfworld), 2, seed=0):
        ep = run_episode(env, AlfworldExpertPolicy(), task, 0, 30)
        out[ep.initial_observation] = ([s.action for s in ep.steps], ep.success)
    env.close()
    return out


def model_responder(walkthroughs: dict[str, tuple[list[str], bool]]) -> Any:
    """A 'model' that reads the prompt as a policy must: which game (first observation), which step (the window
    note plus the past turns shown), and answers with the expert's action for that step."""

    def respond(req: dict[str, Any]) -> str:
        messages = req["messages"]
        user0 = messages[1]["content"]
        if "PREDICT" in user0:  # a world-model request
            truth = user0.split("REAL:", 1)[1].strip()
            return f"<think>The agent moves; the room answers.</think><next_state>{truth}</next_state>"
        (actions,) = [a for obs, (a, _) in walkthroughs.items() if user0.startswith(obs)]
        omitted = re.search(r"\[(\d+) earlier step", user0)
        step = (int(omitted.group(1)) if omitted else 0) + sum(m["role"] == "assistant" for m in messages)
        return f"<think>Step {step}: I follow my plan.</think><action>{actions[step]}</action>"

    return respond


def test_served_model_over_http_with_world_model_reward(
    walkthroughs: dict[str, list[str]], shared_alfworld: Path, tmp_path: Path
) -> None:
    import pandas as pd

    wm = tmp_path / "wm_val.parquet"
    truths = [
        "You arrive at countertop 1. On the countertop 1, you see a apple 1.\nTask is not yet completed.",
        "You open the fridge 1. The fridge 1 is open. In it, you see nothing.\nTask is not yet completed.",
    ]
    pd.DataFrame(
        [
            {
                "data_source": "alfworld",
                "prompt": [
                    {"role": "system", "content": "world model"},
                    {"role": "user", "content": f"PREDICT the next state. REAL: {t}"},
                ],
                "reward_model": {"style": "model", "ground_truth": t},
                "extra_info": {"state_kind": "observation"},
            }
            for t in truths
        ]
    ).to_parquet(wm)
    with openai_stub(model_responder(walkthroughs), model="rwml-policy") as server:
        rc = evaluate(
            "--policy",
            "openai",
            "--base-url",
            server.base_url,
            "--model",
            "rwml-policy",
            "--data-root",
            str(shared_alfworld),
            "--envs",
            "alfworld",
            "--alfworld-splits",
            "valid_seen",
            "--max-tasks",
            "2",
            "--runs",
            "2",
            "--workers",
            "0",
            "--wm-parquet",
            str(wm),
            "--out-dir",
            str(tmp_path / "out"),
        )
        assert rc == 0
        policy_requests = [r for r in server.requests if "PREDICT" not in r["messages"][1]["content"]]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    s = summary["suites"]["alfworld/valid_seen"]
    # replaying the expert through the prompt reproduces its outcome on every game, in both runs
    expected = sum(won for _, won in walkthroughs.values()) / len(walkthroughs)
    assert s["episodes"] == 4 and s["runs"] == 2 and s["run_success"] == [expected, expected]
    assert s["invalid_action_rate"] == 0.0 and expected > 0
    assert sum(len(a) for a, _ in walkthroughs.values()) * 2 == len(policy_requests)
    # the window: never more than 2 past steps in a prompt
    assert max(sum(m["role"] == "assistant" for m in r["messages"]) for r in policy_requests) <= 2
    assert all(r["temperature"] == 1.0 and r["max_tokens"] == 1024 for r in policy_requests)
    assert summary["world_model"]["samples"] == 2 and summary["world_model"]["mean_reward"] == pytest.approx(1.0)
    assert "World model (next-state reward)" in (tmp_path / "out" / "results.md").read_text()
    assert len(read_jsonl(tmp_path / "out" / "wm_predictions.jsonl")) == 2


def test_unreachable_endpoint_is_a_clear_error(
    shared_alfworld: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from tests.openai_stub import free_port_url

    url = free_port_url()
    rc = evaluate(
        "--policy",
        "openai",
        "--base-url",
        url,
        "--model",
        "m",
        "--data-root",
        str(shared_alfworld),
        "--envs",
        "alfworld",
        "--alfworld-splits",
        "valid_seen",
        "--workers",
        "0",
        "--out-dir",
        str(tmp_path),
    )
    assert rc == 2 and url in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------- tau2


def test_tau2_gold_replay_scores_with_taus_evaluator(tmp_path: Path) -> None:
    rc = evaluate(
        "--policy",
        "gold",
        "--tau2-domains",
        "retail",
        "--max-tasks",
        "2",
        "--runs",
        "1",
        "--workers",
        "0",
        "--out-dir",
        str(tmp_path),
    )
    assert rc == 0
    s = json.loads((tmp_path / "summary.json").read_text())["suites"]["tau2/retail"]
    assert s["episodes"] == 2 and s["success"] == 1.0


def test_tau2_model_gets_native_tools_and_talks_to_the_user_simulator(tmp_path: Path) -> None:
    from envs.registry import list_tasks, make_env
    from envs.tau2_tasks import gold_action_strings

    task = list_tasks("tau2", "test", domain="retail")[0]
    env = make_env("tau2")
    gold = gold_action_strings(env.reset(task).info)
    env.close()
    first = "Hello, I want to return something I bought. I'm Mei Kovacs, zip 28236."

    def respond(req: dict[str, Any]) -> str:
        if "tools" not in req:  # tau2's user simulator
            return first
        messages = req["messages"]
        omitted = re.search(r"\[(\d+) earlier step", messages[2]["content"])
        step = (int(omitted.group(1)) if omitted else 0) + sum(m["role"] == "assistant" for m in messages) - 1
        action = gold[step]
        return f"<think>step {step}</think>" + (
            f"<tool_call>{action}</tool_call>" if action.startswith("{") else action
        )

    with openai_stub(respond, model="agent") as server:
        rc = evaluate(
            "--policy",
            "openai",
            "--base-url",
            server.base_url,
            "--model",
            "agent",
            "--envs",
            "tau2",
            "--tau2-domains",
            "retail",
            "--max-tasks",
            "1",
            "--runs",
            "1",
            "--workers",
            "0",
            "--user-model",
            "openai/agent",
            "--user-base-url",
            server.base_url,
            "--out-dir",
            str(tmp_path),
        )
        requests = list(server.requests)
    assert rc == 0
    s = json.loads((tmp_path / "summary.json").read_text())["suites"]["tau2/retail"]
    assert s["success"] == 1.0 and s["invalid_action_rate"] == 0.0
    policy = [r for r in requests if "tools" in r]
    assert len(policy) == len(gold) and all(r["tool_choice"] == "auto" for r in policy)
    assert {t["function"]["name"] for t in policy[0]["tools"]} >= {"get_order_details", "get_user_details"}
    # past tool calls go back as native messages, and the window keeps at most 5 past steps
    last = policy[-1]["messages"]
    assert any(m["role"] == "tool" for m in last) and any(m.get("tool_calls") for m in last)
    assert sum(m["role"] == "assistant" for m in last) <= 5 + 1
    assert last[1] == {"role": "assistant", "content": "Hi! How can I help you today?"} and last[2][
        "content"
    ].startswith(first)
    episode = read_jsonl(tmp_path / "episodes.jsonl")[0]
    assert episode["initial_observation"] == first

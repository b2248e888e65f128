"""Trajectory collection end to end: real ALFWorld games, scripted and OpenAI-compatible policies, resume."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from data_prep.collect_trajectories import main as collect_main
from envs.episode import Episode
from tests.conftest import REPO_ROOT
from tests.openai_stub import free_port_url, openai_stub


def _read(path):
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def test_expert_with_epsilon_on_real_games_gives_successes_and_failures(shared_alfworld, tmp_path, capsys):
    out = tmp_path / "alf.jsonl"
    args = [
        "--env",
        "alfworld",
        "--data-root",
        str(shared_alfworld),
        "--split",
        "valid_seen",
        "--policy",
        "expert",
        "--epsilon",
        "0.5",
        "--max-steps",
        "12",
        "--max-tasks",
        "4",
        "--workers",
        "0",
        "--out",
        str(out),
    ]
    assert collect_main(args) == 0
    eps = _read(out)
    assert len(eps) == 4
    assert {e["success"] for e in eps} == {True, False}
    for e in eps:
        assert Episode.from_dict(e).to_dict() == e  # the record round-trips through the shared schema
        assert e["policy"] == {"name": "expert", "epsilon": 0.5, "source": "walkthrough"}
        assert e["task"].startswith("Your task is to:")
        assert e["num_steps"] == len(e["steps"]) <= 12
        for a, b in zip(e["steps"], e["steps"][1:], strict=False):
            assert b["observation"] == a["next_observation"]  # steps chain into one trajectory
        assert all(s["state_kind"] == "observation" for s in e["steps"])
    summary = capsys.readouterr().out
    assert re.search(r"success rate\s+\d+\.\d%", summary) and "invalid actions" in summary

    # Same command again: everything is already there, nothing is duplicated.
    assert collect_main(args) == 0
    assert len(_read(out)) == 4
    assert "0 to run" in capsys.readouterr().out


def test_expert_with_invalid_actions_gives_nothing_happens_transitions(tmp_path):
    """--invalid plays commands the game offered earlier but not now: ALFWorld answers "Nothing happens." and the
    world-model data then holds that transition kind (the expert's admissible-only randomness never produces it)."""
    out = tmp_path / "alf.jsonl"
    args = ["--env", "alfworld", "--split", "valid_seen", "--policy", "expert", "--epsilon", "0.3", "--invalid", "0.3"]
    args += ["--episodes-per-task", "4", "--max-steps", "12", "--workers", "0", "--out", str(out)]
    assert collect_main(args) == 0
    steps = [s for e in _read(out) for s in e["steps"]]
    stale = [s for s in steps if s["raw_output"].startswith("[expert+invalid]")]
    assert len(stale) >= 3
    for s in stale:
        assert s["info"]["action_admissible"] is False and s["next_observation"] == "Nothing happens."
        assert s["valid"] is False
    assert {e["policy"]["invalid"] for e in _read(out)} == {0.3}
    assert json.loads((tmp_path / "alf.jsonl.settings.json").read_text())["invalid"] == 0.3


def test_kill_9_mid_run_then_resume_loses_nothing_and_duplicates_nothing(tmp_path):
    out = tmp_path / "alf.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "data_prep.collect_trajectories",
        "--env",
        "alfworld",
        "--data-root",
        "bundled",
        "--split",
        "train",
        "--policy",
        "expert",
        "--epsilon",
        "0.2",
        "--episodes-per-task",
        "3",
        "--workers",
        "0",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 2):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {json.loads(line)["episode_id"] for line in out.read_text().splitlines() if line.endswith("}")}
    assert len(before) >= 2

    done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    ids = [e["episode_id"] for e in _read(out)]
    assert len(ids) == len(set(ids))
    assert before <= set(ids)
    n_games = len({i.rsplit("/", 1)[0] for i in ids})
    assert len(ids) == 3 * n_games


def _react_responder(request):
    """Answer like a ReAct model: reason, then pick the first admissible action listed in the prompt."""
    prompt = request["messages"][-1]["content"]
    m = re.search(r"admissible actions?[^\n]*:\s*\n?(.*)", prompt, flags=re.IGNORECASE)
    candidates = re.findall(r"(go to [a-z]+ \d+|look|inventory)", m.group(1) if m else prompt)
    action = candidates[0] if candidates else "look"
    return f"<think>I should explore the room first.</think>\n<action>{action}</action>"


def test_openai_policy_against_a_local_http_server(tmp_path):
    out = tmp_path / "oa.jsonl"
    with openai_stub(_react_responder, model="stub-react") as server:
        rc = collect_main(
            [
                "--env",
                "alfworld",
                "--data-root",
                "bundled",
                "--split",
                "train",
                "--policy",
                "openai",
                "--base-url",
                server.base_url,
                "--model",
                "stub-react",
                "--temperature",
                "1.0",
                "--max-steps",
                "3",
                "--max-tasks",
                "1",
                "--workers",
                "0",
                "--out",
                str(out),
            ]
        )
        assert rc == 0
        assert len(server.requests) == 3
        assert all(r["temperature"] == 1.0 and r["model"] == "stub-react" for r in server.requests)
        assert server.requests[0]["messages"][0]["role"] == "system"
    (ep,) = _read(out)
    assert ep["policy"]["name"] == "openai" and ep["policy"]["model"] == "stub-react"
    assert len(ep["steps"]) == 3
    for s in ep["steps"]:
        assert s["raw_output"].startswith("<think>")
        assert s["action"] in s["raw_output"] and "<action>" not in s["action"]


def test_unparsable_model_output_is_an_invalid_step_the_env_never_sees(tmp_path):
    from data_prep.policy_actions import format_error_message
    from envs.episode import FORMAT_ERROR_KIND

    junk = "I am not sure what to do here. " * 100  # no <action> block, ~3k characters
    out = tmp_path / "junk.jsonl"
    with openai_stub(lambda request: junk) as server:
        args = ["--env", "alfworld", "--data-root", "bundled", "--split", "train", "--policy", "openai"]
        args += ["--base-url", server.base_url, "--model", "stub-model", "--max-steps", "3", "--max-tasks", "1"]
        assert collect_main([*args, "--workers", "0", "--out", str(out)]) == 0
        later_prompts = [json.dumps(r["messages"]) for r in server.requests[1:]]
    (ep,) = _read(out)
    reminder = format_error_message("alfworld")
    assert [s["action"] for s in ep["steps"]] == [None] * 3
    assert all(s["state_kind"] == FORMAT_ERROR_KIND and not s["valid"] for s in ep["steps"])
    assert all(s["raw_output"] == junk and s["next_observation"] == reminder for s in ep["steps"])
    assert ep["steps"][0]["observation"] == ep["initial_observation"]  # the env was never stepped
    assert later_prompts and all(junk.strip() not in p and json.dumps(reminder)[1:-1] in p for p in later_prompts)


def test_unreachable_endpoint_is_a_clear_error(tmp_path, capsys):
    url = free_port_url()
    rc = collect_main(
        [
            "--env",
            "alfworld",
            "--data-root",
            "bundled",
            "--split",
            "train",
            "--policy",
            "openai",
            "--base-url",
            url,
            "--model",
            "m",
            "--workers",
            "0",
            "--out",
            str(tmp_path / "x.jsonl"),
        ]
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert "cannot reach the policy endpoint" in err and url in err
    assert not (tmp_path / "x.jsonl").exists()


def test_missing_data_root_is_a_clear_error(tmp_path, capsys):
    missing = tmp_path / "nope"
    rc = collect_main(
        [
            "--env",
            "alfworld",
            "--data-root",
            str(missing),
            "--split",
            "train",
            "--policy",
            "expert",
            "--workers",
            "0",
            "--out",
            str(tmp_path / "x.jsonl"),
        ]
    )
    assert rc == 2
    assert str(missing) in capsys.readouterr().err


@pytest.mark.parametrize("policy", ["gold"])
def test_tau2_gold_with_perturbations_gives_successes_and_failures(tmp_path, policy):
    out = tmp_path / "tau2.jsonl"
    rc = collect_main(
        [
            "--env",
            "tau2",
            "--domain",
            "retail",
            "--split",
            "test",
            "--policy",
            policy,
            "--epsilon",
            "0.3",
            "--max-tasks",
            "10",
            "--workers",
            "0",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    eps = _read(out)
    assert len(eps) == 10
    assert {e["success"] for e in eps} == {True, False}
    kinds = {s["state_kind"] for e in eps for s in e["steps"]}
    assert "tool_response" in kinds


def test_same_seed_reproduces_expert_episodes_with_epsilon(shared_alfworld, tmp_path):
    """alfworld's handcoded expert draws from `random`; seeded per episode, two runs give the same episodes."""
    root = tmp_path / "games"
    for game in ("look_at_obj_in_light-Bowl-None-DeskLamp-301", "pick_clean_then_place_in_recep-Cloth-None-Toilet-413"):
        (root / "json_2.1.1" / "valid_seen").mkdir(parents=True, exist_ok=True)
        (root / "json_2.1.1" / "valid_seen" / game).symlink_to(shared_alfworld / "json_2.1.1" / "valid_seen" / game)
    args = ["--env", "alfworld", "--data-root", str(root), "--split", "valid_seen", "--policy", "expert"]
    args += ["--expert-source", "handcoded", "--epsilon", "0.3", "--max-steps", "12", "--workers", "0", "--seed", "5"]
    runs = []
    for name in ("a.jsonl", "b.jsonl"):
        assert collect_main([*args, "--out", str(tmp_path / name)]) == 0
        runs.append(_read(tmp_path / name))
    assert len(runs[0]) == 2
    assert [[s["action"] for s in e["steps"]] for e in runs[0]] == [[s["action"] for s in e["steps"]] for e in runs[1]]
    assert runs[0] == runs[1]

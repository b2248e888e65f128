"""One policy client for collection and evaluation, prompting and parsing as the stage-2 agent loop does.

On a real tau2 retail task with a stand-in OpenAI-compatible endpoint that plays both the agent and tau2's user
simulator (requests carrying `tools` are the agent's):
- an output with no usable action is never shown to the env or the user simulator, and never becomes a
  world-model triplet (it used to reach the user as the text "(no parsable action)");
- collection passes the tool schemas natively, as evaluation and stage 2 do (it used to write them into the prompt).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from tests.openai_stub import openai_stub

USER_FIRST = "Hi, I'm Mei Kovacs (zip 28236) and I'd like to return something."
MALFORMED = (
    '<think>look up the user</think><tool_call>{"name": "get_user_details", "arguments": {"user_id": </tool_call>'
)
MESSAGE = "<think>ask for the order</think>Could you give me your order id, please?"


class Endpoint:
    """Answers the agent from a script (one entry per agent turn) and the user simulator with fixed text."""

    def __init__(self, agent_turns: list[str]) -> None:
        self.agent_turns = agent_turns
        self.agent: list[dict[str, Any]] = []
        self.user: list[dict[str, Any]] = []

    def __call__(self, request: dict[str, Any]) -> str:
        if "tools" in request or "<tools>" in json.dumps(request["messages"]):
            self.agent.append(request)
            return self.agent_turns[min(len(self.agent), len(self.agent_turns)) - 1]
        self.user.append(request)
        return USER_FIRST if len(self.user) == 1 else "It is order #W0000000."


def collect_tau2(out: Path, endpoint: Endpoint, max_steps: int, *extra: str) -> dict[str, Any]:
    from data_prep.collect_trajectories import main as collect

    with openai_stub(endpoint, model="agent") as server:
        args = ["--env", "tau2", "--domain", "retail", "--split", "test", "--max-tasks", "1", "--workers", "0"]
        args += ["--policy", "openai", "--base-url", server.base_url, "--model", "agent"]
        args += ["--user-model", "openai/agent", "--user-base-url", server.base_url]
        assert collect([*args, *extra, "--max-steps", str(max_steps), "--out", str(out)]) == 0
    return json.loads(out.read_text().splitlines()[0])


def test_unparsable_tau2_output_reaches_neither_the_user_simulator_nor_the_world_model_data(tmp_path: Path) -> None:
    from data_prep.build_wm_dataset import main as build_wm
    from data_prep.policy_actions import format_error_message
    from envs.episode import FORMAT_ERROR_KIND

    endpoint = Endpoint([MALFORMED, MESSAGE])
    ep = collect_tau2(tmp_path / "episodes.jsonl", endpoint, max_steps=2)

    reminder = format_error_message("tau2")
    first, second = ep["steps"]
    assert (first["action"], first["state_kind"], first["valid"]) == (None, FORMAT_ERROR_KIND, False)
    assert first["next_observation"] == reminder
    assert second["action"] == "Could you give me your order id, please?" and second["state_kind"] == "user_reply"
    # the user simulator answered the opening and the real message only; it never saw the unparsable turn
    assert len(endpoint.user) == 2
    assert all(
        "no parsable" not in json.dumps(r["messages"]) and "get_user_details" not in json.dumps(r["messages"])
        for r in endpoint.user
    )
    # the agent's next prompt carries the reminder, as stage 2's does
    assert any(m["content"] == reminder for m in endpoint.agent[1]["messages"])

    assert (
        build_wm(
            ["--input", str(tmp_path / "episodes.jsonl"), "--out-dir", str(tmp_path / "wm"), "--val-fraction", "0"]
        )
        == 0
    )
    rows = pq.read_table(tmp_path / "wm" / "train.parquet").to_pylist()
    assert [r["extra_info"]["action"] for r in rows] == [second["action"]]
    assert all(reminder not in json.dumps(r, ensure_ascii=False).replace('\\"', '"') for r in rows)


def test_collection_and_evaluation_prompt_tau2_identically_with_native_tools(tmp_path: Path) -> None:
    from recipe.rwml.evaluate.cli import main as evaluate

    collected = Endpoint([MESSAGE])
    collect_tau2(tmp_path / "episodes.jsonl", collected, max_steps=1)

    evaluated = Endpoint([MESSAGE])
    with openai_stub(evaluated, model="agent") as server:
        args = ["--policy", "openai", "--base-url", server.base_url, "--model", "agent", "--envs", "tau2"]
        args += ["--tau2-domains", "retail", "--max-tasks", "1", "--runs", "1", "--max-steps", "1", "--workers", "0"]
        args += ["--user-model", "openai/agent", "--user-base-url", server.base_url, "--out-dir", str(tmp_path / "ev")]
        assert evaluate(args) == 0

    (c,), (e,) = collected.agent, evaluated.agent
    assert c["tool_choice"] == "auto" and c["tools"] and "<tools>" not in c["messages"][0]["content"]
    assert (c["messages"], c["tools"], c["max_tokens"]) == (e["messages"], e["tools"], e["max_tokens"])


def test_tools_in_the_prompt_for_servers_without_a_tool_parser(tmp_path: Path) -> None:
    """`--tau2-tools-in-prompt`: schemas in the system prompt, the call written as text, parsed by the same parser."""
    call = '<think>find the user</think><tool_call>{"name": "find_user_id_by_name_zip", "arguments": '
    call += '{"first_name": "Mei", "last_name": "Kovacs", "zip": "28236"}}</tool_call>'
    endpoint = Endpoint([call, MESSAGE])
    ep = collect_tau2(tmp_path / "episodes.jsonl", endpoint, 2, "--tau2-tools-in-prompt", "--user-max-tokens", "64")

    first = endpoint.agent[0]
    assert "tools" not in first and "<tools>" in first["messages"][0]["content"]
    assert '"name": "find_user_id_by_name_zip"' in first["messages"][0]["content"]
    step = ep["steps"][0]
    assert json.loads(step["action"])["name"] == "find_user_id_by_name_zip"
    assert step["state_kind"] == "tool_response" and step["valid"]
    # the tool result goes back as a <tool_response> user turn, not a native tool message
    assert any("<tool_response>" in m["content"] for m in endpoint.agent[1]["messages"] if m["role"] == "user")
    # the user simulator's replies are capped (a weak user model otherwise writes until its context is full)
    assert endpoint.user and all(r.get("max_tokens") == 64 for r in endpoint.user)

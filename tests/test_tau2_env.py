"""tau2-bench env: real tau2 tasks, DBs and evaluator; the user simulator over real HTTP to a local stand-in."""

from __future__ import annotations

import json
import time

import pytest

from envs.base import EnvError, TaskSpec
from envs.registry import list_tasks, make_env
from envs.tau2_env import OFFLINE_OBSERVATION, Tau2Env, parse_action
from envs.tau2_tasks import STOP_TOKEN, get_tau2_task, gold_action_strings, list_tau2_tasks
from tests.openai_stub import free_port_url, openai_stub


def _retail_test(n: int) -> list[TaskSpec]:
    return list_tau2_tasks("retail", "test")[:n]


def _db_writes(env: Tau2Env, spec: TaskSpec) -> list[int]:
    """Indices of the gold actions that change the retail DB hash when replayed in order."""
    reset = env.reset(spec)
    writes = []
    for i, act in enumerate(gold_action_strings(reset.info)[:-1]):
        before = env.db_hash()
        env.step(act)
        if env.db_hash() != before:
            writes.append(i)
    return writes


def _replay(env: Tau2Env, spec: TaskSpec, actions: list[str]):
    env.reset(spec)
    result = None
    for act in actions:
        result = env.step(act)
        if result.done:
            break
    return result


# ----------------------------------------------------------------------------------------------- tasks


@pytest.mark.parametrize(
    ("domain", "sizes"),
    [
        ("airline", {"all": 50, "base": 50, "train": 30, "test": 20}),
        ("retail", {"all": 114, "base": 114, "train": 74, "test": 40}),
        ("telecom", {"all": 114, "base": 114, "train": 74, "test": 40, "small": 20, "full": 2285}),
    ],
)
def test_task_lists_follow_tau2_splits(domain: str, sizes: dict[str, int]) -> None:
    lists = {split: list_tau2_tasks(domain, split) for split in sizes}
    assert {split: len(v) for split, v in lists.items()} == sizes
    train = {t.task_id for t in lists["train"]}
    test = {t.task_id for t in lists["test"]}
    assert not train & test and train | test == {t.task_id for t in lists["all"]}
    spec = lists["test"][0]
    assert spec.env == "tau2" and spec.split == "test" and spec.kwargs == {"domain": domain}
    assert get_tau2_task(domain, spec.task_id).id == spec.task_id
    assert [t.to_dict() for t in list_tasks("tau2", "test", domain=domain)] == [t.to_dict() for t in lists["test"]]


def test_unknown_domain_split_or_task_is_a_clear_error() -> None:
    with pytest.raises(EnvError, match="unknown tau2 domain 'shopping'"):
        list_tau2_tasks("shopping", "test")
    with pytest.raises(EnvError, match="unknown tau2 split 'dev'.*'train'"):
        list_tau2_tasks("retail", "dev")
    with pytest.raises(EnvError, match="unknown tau2 task id '9999'"):
        Tau2Env().reset(TaskSpec(env="tau2", task_id="9999", split="test", kwargs={"domain": "retail"}))
    with pytest.raises(EnvError, match="unknown kwargs"):
        Tau2Env().reset(TaskSpec(env="tau2", task_id="0", split="test", kwargs={"domain": "retail", "usr_model": "x"}))


# ----------------------------------------------------------------------------------------------- tools


def test_reset_info_and_db_changing_tool_call() -> None:
    env = make_env("tau2")
    spec = _retail_test(1)[0]
    writes = _db_writes(env, spec)
    assert writes, "the first retail test task should modify the DB"

    reset = env.reset(spec)
    assert reset.observation == OFFLINE_OBSERVATION and reset.info["state_kind"] == "offline"
    assert "retail" in reset.task and spec.task_id in reset.task and len(reset.task) < 300
    assert "# Retail agent policy" in reset.info["policy"]
    names = {t["function"]["name"] for t in reset.info["tools"]}
    assert {"get_order_details", "cancel_pending_order", "transfer_to_human_agents"} <= names
    assert all(t["type"] == "function" and "parameters" in t["function"] for t in reset.info["tools"])
    gold = get_tau2_task("retail", spec.task_id).evaluation_criteria
    assert reset.info["gold_actions"] == [
        {"name": a.name, "arguments": a.arguments, "requestor": "assistant"} for a in gold.actions
    ]
    assert reset.info["reward_basis"] == ["DB", "COMMUNICATE"]

    actions = gold_action_strings(reset.info)
    for act in actions[: writes[0]]:
        env.step(act)
    before = env.db_hash()
    read = env.step(json.dumps({"name": "get_user_details", "arguments": {"user_id": "no_such_user"}}))
    assert env.db_hash() == before and not read.valid
    write = env.step(f"<tool_call>\n{actions[writes[0]]}\n</tool_call>")
    assert write.valid and not write.done and write.info["state_kind"] == "tool_response"
    assert env.db_hash() != before
    assert json.loads(write.observation)  # the tool's JSON answer (the changed order)


def test_bad_tool_calls_are_invalid_with_tau2_error_text() -> None:
    env = Tau2Env("retail")
    env.reset(_retail_test(1)[0])
    before = env.db_hash()
    unknown = env.step('{"name": "refund_everything", "arguments": {}}')
    assert not unknown.valid and not unknown.done
    assert unknown.observation == "Error: Tool 'refund_everything' not found."
    missing = env.step('{"name": "get_order_details", "arguments": {}}')
    assert not missing.valid and missing.observation.startswith("Error:") and "order_id" in missing.observation
    absent = env.step('{"name": "get_order_details", "arguments": {"order_id": "#W0000000"}}')
    assert not absent.valid and absent.observation == "Error: Order not found"
    broken = env.step('<tool_call>{"name": "get_order_details", "arguments": </tool_call>')
    assert not broken.valid and "not valid JSON" in broken.observation
    user_tool = env.step('{"name": "toggle_airplane_mode", "arguments": {}, "requestor": "user"}')
    assert not user_tool.valid and "user tool" in user_tool.observation
    assert env.db_hash() == before
    assert parse_action("Could you give me your order id?").kind == "message"


def test_message_without_user_model_raises_clear_error() -> None:
    env = Tau2Env("retail")
    env.reset(_retail_test(1)[0])
    with pytest.raises(EnvError, match="no user simulator is configured: pass user_model"):
        env.step("Could you give me your order id?")


# ----------------------------------------------------------------------------------------------- gold replay


def test_gold_replay_scores_one_with_tau2_evaluator() -> None:
    env = Tau2Env()
    specs = _retail_test(3)
    with_info = next(
        s
        for s in list_tau2_tasks("retail", "test")
        if get_tau2_task("retail", s.task_id).evaluation_criteria.communicate_info
    )
    endings = set()
    for spec in [*specs, with_info]:
        reset = env.reset(spec)
        result = _replay(env, spec, gold_action_strings(reset.info))
        assert result.done and result.success and result.reward == 1.0, (spec.task_id, result.info)
        transfer = any(a["name"] == "transfer_to_human_agents" for a in reset.info["gold_actions"])
        ending = ("transfer", "tool_response") if transfer else ("agent_stop", "end")
        assert (result.info["termination_reason"], result.info["state_kind"]) == ending
        endings.add(ending[0])
        assert result.info["reward_breakdown"] == {"DB": 1.0, "COMMUNICATE": 1.0}
        assert result.info["reward_info"]["db_check"]["db_match"] is True
    assert result.info["reward_info"]["communicate_checks"][0]["met"] is True
    assert endings == {"agent_stop", "transfer"}  # retail test tasks 5, 9, 12: two stops and one transfer


def test_perturbed_gold_replay_scores_zero() -> None:
    env = Tau2Env()
    spec = _retail_test(1)[0]
    writes = _db_writes(env, spec)
    actions = gold_action_strings(env.reset(spec).info)

    dropped = _replay(env, spec, [a for i, a in enumerate(actions) if i != writes[-1]])
    assert dropped.done and not dropped.success and dropped.reward == 0.0
    assert dropped.info["reward_breakdown"]["DB"] == 0.0

    call = json.loads(actions[writes[-1]])
    key = sorted(call["arguments"])[-1]
    value = call["arguments"][key]
    call["arguments"][key] = value[:-1] if isinstance(value, list) else "changed"
    changed = _replay(env, spec, [json.dumps(call) if i == writes[-1] else a for i, a in enumerate(actions)])
    assert changed.done and not changed.success and changed.info["reward_breakdown"]["DB"] == 0.0

    # without the final message the COMMUNICATE check fails where the task asks for information
    spec_info = next(
        s
        for s in list_tau2_tasks("retail", "test")
        if get_tau2_task("retail", s.task_id).evaluation_criteria.communicate_info
    )
    silent = _replay(env, spec_info, [*gold_action_strings(env.reset(spec_info).info)[:-1], STOP_TOKEN])
    assert silent.done and not silent.success and silent.info["reward_breakdown"] == {"DB": 1.0, "COMMUNICATE": 0.0}


def test_telecom_gold_replay_with_user_device_actions() -> None:
    env = Tau2Env(allow_user_tool_calls=True)
    spec = list_tau2_tasks("telecom", "test")[0]
    reset = env.reset(spec)
    assert any(a["requestor"] == "user" for a in reset.info["gold_actions"])
    result = _replay(env, spec, gold_action_strings(reset.info))
    assert result.success and result.info["reward_breakdown"].get("ENV_ASSERTION") == 1.0
    wrong = _replay(env, spec, [STOP_TOKEN])
    assert wrong.done and not wrong.success


# ----------------------------------------------------------------------------------------------- user simulator


def test_user_simulator_over_http() -> None:
    replies = [
        "Hi, I want to cancel one of my orders.",
        "My name is Yusuf Rossi and my zip code is 19122.",
        f"Great, thank you! {STOP_TOKEN}",
    ]

    answered: list[dict] = []

    def responder(request: dict) -> str:
        answered.append(request)
        return replies[min(len(answered), len(replies)) - 1]

    spec = _retail_test(1)[0]
    scenario = get_tau2_task("retail", spec.task_id).user_scenario.instructions.reason_for_call
    with openai_stub(responder, model="user-sim") as server:
        env = Tau2Env(user_timeout=10, user_num_retries=0)
        kwargs = {"domain": "retail", "user_model": "openai/user-sim", "user_base_url": server.base_url}
        reset = env.reset(TaskSpec("tau2", spec.task_id, "test", kwargs))
        assert reset.observation == replies[0] and reset.info["state_kind"] == "user_reply"
        first = server.requests[0]
        assert first["model"] == "user-sim" and first["temperature"] == 0.0
        assert first["messages"][0]["role"] == "system" and scenario in first["messages"][0]["content"]
        assert first["messages"][-1] == {"role": "user", "content": reset.info["greeting"]}

        ask = env.step("Sure. Could you tell me your name and zip code?")
        assert ask.observation == replies[1] and ask.info["state_kind"] == "user_reply"
        assert ask.valid and not ask.done
        assert server.requests[1]["messages"][-1]["content"] == "Sure. Could you tell me your name and zip code?"

        lookup = env.step(
            '{"name": "find_user_id_by_name_zip", "arguments": '
            '{"first_name": "Yusuf", "last_name": "Rossi", "zip": "19122"}}'
        )
        assert lookup.valid and lookup.observation == "yusuf_rossi_9620" and len(server.requests) == 2

        bye = env.step("You're welcome, goodbye.")
        assert bye.done and bye.info["termination_reason"] == "user_stop"
        assert not bye.success and bye.info["reward_breakdown"]["DB"] == 0.0  # the task's change was never made
    with pytest.raises(EnvError, match="episode is over"):
        env.step("hello?")


def test_unreachable_user_endpoint_is_a_clear_error() -> None:
    url = free_port_url()
    env = Tau2Env("retail", user_model="openai/user-sim", user_base_url=url, user_timeout=5, user_num_retries=0)
    start = time.monotonic()
    with pytest.raises(EnvError, match="tau2 user simulator failed.*" + url.replace(".", r"\.")):
        env.reset(_retail_test(1)[0])
    assert time.monotonic() - start < 20
    with pytest.raises(EnvError, match="episode is over"):
        env.step('{"name": "get_order_details", "arguments": {"order_id": "#W2378156"}}')


def test_step_and_error_limits_end_with_zero_reward() -> None:
    spec = _retail_test(1)[0]
    actions = gold_action_strings(Tau2Env().reset(spec).info)
    capped = Tau2Env(max_steps=2)
    assert _replay(capped, spec, actions[:1]).done is False
    result = _replay(capped, spec, actions)
    assert result.done and result.info["termination_reason"] == "max_steps" and result.reward == 0.0
    assert "prematurely" in result.info["reward_info"]["info"]["note"]
    errors = _replay(Tau2Env(max_errors=2), spec, ['{"name": "nope", "arguments": {}}'] * 3)
    assert errors.done and errors.info["termination_reason"] == "too_many_errors" and not errors.success

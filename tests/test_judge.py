"""The LLM-as-a-judge reward (reward_score/judge.py) against a real OpenAI-compatible server on 127.0.0.1.

The server is recipe/rwml/cpu/openai_server.py on the tiny random model, run by uvicorn on a thread of this process
so the test can count the chat requests that reach it and how many were in flight together. A random model never
writes a verdict: its answers are the unparsable case; the parser reads real verdict shapes from the table below.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest

from recipe.rwml.compose import compose_stage
from recipe.rwml.schedule.schedules import SCHEDULES
from recipe.rwml.schedule.settings import REPO, Settings, resolve_settings
from recipe.rwml.schedule.stages import STAGES
from recipe.rwml.schedule.steps import ConfigCheck, Logged
from reward_score.embedders import EmbeddingBackendError
from reward_score.judge import (
    JUDGE_UNPARSABLE,
    Judge,
    JudgeBackendError,
    JudgeContext,
    judge_prompt,
    parse_verdict,
)
from reward_score.settings import RewardSettings
from tests.conftest import REPO_ROOT

MODEL = "tiny-judge"
MAX_MODEL_LEN = 4096
REAL = "You open the fridge 1. The fridge 1 is open. In it, you see a apple 2, and a egg 1.\nTask is not yet completed."
PRED = "The fridge 1 is now open. Inside: apple 2, egg 1.\nTask is not yet completed."
CONTEXT = JudgeContext("alfworld", "put a cool apple in countertop.", "You arrive at fridge 1.", "open fridge 1")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Traffic:
    """Chat requests seen by the server: how many, and the most in flight at once."""

    requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0

    def reset(self) -> None:
        self.requests = self.in_flight = self.max_in_flight = 0


@dataclass
class Server:
    url: str
    traffic: Traffic
    batch_sizes: list[int]


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path) -> Iterator[Server]:
    import uvicorn

    from recipe.rwml.cpu.openai_server import create_app, load_engine

    tokenizer, generator, defaults = load_engine(tiny_model_dir, max_batch_size=8, max_model_len=MAX_MODEL_LEN)
    app = create_app(tokenizer, generator, MODEL, max_model_len=MAX_MODEL_LEN, sampling_defaults=defaults)
    traffic = Traffic()

    @app.middleware("http")
    async def count(request, call_next):  # noqa: ANN001, ANN202 - starlette's middleware signature
        if request.url.path != "/v1/chat/completions":
            return await call_next(request)
        traffic.requests += 1
        traffic.in_flight += 1
        traffic.max_in_flight = max(traffic.max_in_flight, traffic.in_flight)
        try:
            return await call_next(request)
        finally:
            traffic.in_flight -= 1

    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the judge server did not start on 127.0.0.1")
        time.sleep(0.05)
    try:
        yield Server(f"http://127.0.0.1:{port}/v1", traffic, generator.batch_sizes)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


def _judge(url: str, **kwargs: object) -> Judge:
    settings = {"judge_base_url": url, "judge_model": MODEL, "judge_max_tokens": 2, "max_retries": 0, **kwargs}
    return Judge(RewardSettings(mode="judge", **settings))


def _pairs(n: int, tag: str) -> list[tuple[str, str]]:
    return [(f"{REAL} ({tag} {i})", PRED) for i in range(n)]


# ------------------------------------------------------------------------------------------------ against the server


def test_requests_run_judge_concurrency_at_a_time(server: Server) -> None:
    for concurrency, expected in ((1, {1}), (4, {2, 3, 4})):
        server.traffic.reset()
        judge = _judge(server.url, judge_concurrency=concurrency)
        try:
            verdicts = judge.judge_batch(_pairs(4, f"concurrency {concurrency}"))
        finally:
            judge.close()
        assert len(verdicts) == 4 and server.traffic.requests == 4
        assert server.traffic.max_in_flight in expected, (concurrency, server.traffic)
    assert max(server.batch_sizes) >= 2  # requests in flight together were decoded in one batch


def test_a_repeated_pair_is_asked_once(server: Server) -> None:
    server.traffic.reset()
    judge = _judge(server.url, judge_concurrency=2)
    try:
        (a, b) = _pairs(2, "cache")
        first = judge.judge_batch([a, b, a], [CONTEXT] * 3)
        assert server.traffic.requests == 2  # the batch's own repeat waits for the one request
        again = judge.judge_batch([b, a], [CONTEXT, CONTEXT])
        assert server.traffic.requests == 2  # both from the cache
        assert again == [first[1], first[0]] and first[2] == first[0]
        other = judge.judge_batch([a], [JudgeContext("alfworld", action="look")])
        assert server.traffic.requests == 3  # another action is another question
        assert len(other) == 1
    finally:
        judge.close()


def test_concurrent_awaits_of_one_pair_share_one_request(server: Server) -> None:
    server.traffic.reset()
    judge = _judge(server.url)

    async def ask() -> list:
        return await asyncio.gather(*(judge.judge_async(REAL, PRED + " (async)", CONTEXT) for _ in range(5)))

    try:
        verdicts = asyncio.run(ask())
    finally:
        judge.close()
    assert server.traffic.requests == 1 and len(set(verdicts)) == 1


def test_an_unparsable_answer_scores_zero_with_its_reason(server: Server) -> None:
    judge = _judge(server.url, judge_max_tokens=4, judge_temperature=0.0)
    try:
        (verdict,) = judge.judge_batch([(REAL, PRED)], [CONTEXT])
    finally:
        judge.close()
    # the judge's own answer, kept whole: what the same greedy request returns
    client = openai.OpenAI(base_url=server.url, api_key="EMPTY", max_retries=0)
    prompt = judge_prompt(REAL, PRED, CONTEXT)
    direct = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": prompt}], max_tokens=4, temperature=0.0
    )
    assert verdict.answer == direct.choices[0].message.content and parse_verdict(verdict.answer) is None
    assert (verdict.score, verdict.reason) == (0.0, JUDGE_UNPARSABLE)


def test_a_model_the_server_does_not_serve_is_a_backend_error(server: Server) -> None:
    judge = Judge(RewardSettings(judge_base_url=server.url, judge_model="no-such-judge", max_retries=0))
    try:
        with pytest.raises(JudgeBackendError, match="no-such-judge") as err:
            judge.judge_batch([(REAL, PRED)])
    finally:
        judge.close()
    assert server.url in str(err.value) and "NotFoundError" in str(err.value)


def test_a_dead_port_raises_the_backend_error_naming_the_url() -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"
    judge = _judge(url, max_retries=1, timeout_s=5.0)
    try:
        for _ in range(2):  # a failure is not cached as a verdict: asked again, it fails again
            with pytest.raises(EmbeddingBackendError, match="failed after 1 retries") as err:
                judge.judge_batch([(REAL, PRED)])
            assert isinstance(err.value, JudgeBackendError) and url in str(err.value)
        assert judge.requests == 2 and len(judge.cache) == 0
    finally:
        judge.close()


def test_judge_mode_without_an_endpoint_says_which_setting() -> None:
    with pytest.raises(ValueError, match=r"mode: judge needs judge_base_url and judge_model"):
        Judge(RewardSettings(mode="judge", judge_model="m"))


# -------------------------------------------------------------------------------------------- the ablation's schedule

JUDGE_SCHEDULE = "rwml_judge_qwen2.5_7b"


def _schedule(tmp_path: Path, name: str = JUDGE_SCHEDULE, **env: str) -> Settings:
    base = {"DATA_DIR": str(tmp_path / "data"), "CKPT_DIR": str(tmp_path / "ckpt"), **env}
    return resolve_settings(SCHEDULES[name].environment(base, REPO), REPO)


def _rwml_step(s: Settings, kind: type) -> object:
    (step,) = [step for step in STAGES["rwml"].steps(s) if isinstance(step, kind)]
    return step


def test_the_judge_schedule_rewards_stage_1_with_the_judge(tmp_path: Path) -> None:
    user = "++reward.reward_kwargs.judge_concurrency=32"
    env = {"JUDGE_BASE_URL": "http://judge:8003/v1", "JUDGE_MODEL": "judge-8b", "RWML_OVERRIDES": user}
    s = _schedule(tmp_path, REWARD="embedding", **env)  # the schedule fixes REWARD=judge
    argv = _rwml_step(s, Logged).argv
    assert s["REWARD"] == "judge" and argv[-1] == user  # the user's overrides still come last
    assert {"reward.reward_kwargs.mode=judge", "++reward.reward_kwargs.judge_model=judge-8b"} <= set(argv)
    assert STAGES["rwml"].needs(s) == [] and STAGES["rwml"].endpoints(s) == ["JUDGE_BASE_URL"]
    # the composed stage-1 config gives the reward manager a working judge (no embedding endpoint needed)
    cfg = compose_stage("rwml", _rwml_step(s, ConfigCheck).overrides)
    reward = RewardSettings.from_mapping(cfg.reward.reward_kwargs)
    assert (reward.mode_for("alfworld"), reward.judge_concurrency, reward.base_url) == ("judge", 32, None)
    assert (reward.judge_base_url, reward.judge_model) == ("http://judge:8003/v1", "judge-8b")
    Judge(reward).close()
    # unset, the judge settings are what a real run needs; the paper's schedule keeps the embedding reward
    needs = STAGES["rwml"].needs(_schedule(tmp_path))
    assert [n.split()[0] for n in needs] == ["JUDGE_BASE_URL", "JUDGE_MODEL"]
    paper = _schedule(tmp_path, "rwml_qwen2.5_7b", JUDGE_BASE_URL="http://judge:8003/v1", JUDGE_MODEL="judge-8b")
    assert paper["REWARD"] == "embedding" and not [a for a in _rwml_step(paper, Logged).argv if "kwargs.judge" in a]
    assert STAGES["rwml"].endpoints(paper) == ["EMBED_BASE_URL"]


def test_the_script_dry_run_prints_the_plan(tmp_path: Path) -> None:
    """The script runs its own plan with REWARD=judge (up to wm_data: the stages after it compose verl configs)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DATA_DIR": str(tmp_path / "d"), "CKPT_DIR": "/ck"}
    argv = ["bash", "scripts/run_rwml_judge_qwen2.5_7b.sh", "--dry-run", "--until", "wm_data"]
    run = subprocess.run(argv, cwd=REPO_ROOT, env={**env, "REWARD": "embedding"}, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(
        "RWML schedule scripts/run_rwml_judge_qwen2.5_7b.sh (run rwml_judge_qwen2.5_7b, ENV=alfworld), dry run\n"
    )
    assert re.search(r"^  REWARD\s+judge$", run.stdout, re.M)
    plan = re.findall(r"^  (\w+)\s+(?:run|skip|off)\b.*-> (\S+)$", run.stdout, re.M)
    assert [name for name, _ in plan] == list(SCHEDULES[JUDGE_SCHEDULE].plan) and ("rwml", "/ck/rwml") in plan


# ------------------------------------------------------------------------------------------------ the prompt


def test_prompt_puts_each_state_in_its_section() -> None:
    prompt = judge_prompt("REAL STATE", "PREDICTED STATE", CONTEXT)
    predicted_at = prompt.index("# Predicted Next observation")
    actual_at = prompt.index("# Actual Next observation")
    assert predicted_at < prompt.index("PREDICTED STATE") < actual_at < prompt.index("REAL STATE")
    assert prompt.index(CONTEXT.observation) < prompt.index(CONTEXT.action) < predicted_at
    assert prompt.startswith("# Task\nput a cool apple") and prompt.endswith("DO NOT generate anything else.")
    assert '"score": 0.0 or 1.0' in prompt  # the paper's binary judge
    tau2 = judge_prompt("R", "P", JudgeContext("tau2", observation="ignored", action="get_order_details"))
    assert tau2.startswith("You are a helpful judge AI agent.") and "ignored" not in tau2
    assert "# Action proposed by an AI agent\n(not recorded)" in judge_prompt("R", "P")


def test_context_from_a_dataset_row() -> None:
    info = {"task": "t", "observation": "o", "action": {"name": "get_user", "arguments": {"id": 1}}}
    ctx = JudgeContext.from_sample("rwml_tau2_airline", info)
    assert ctx == JudgeContext("tau2", "t", "o", '{"name": "get_user", "arguments": {"id": 1}}')
    assert JudgeContext.from_sample("alfworld", None) == JudgeContext("alfworld")


# ------------------------------------------------------------------------------------------------ reading verdicts

VERDICTS = [
    ("authors_format_yes", '<json>\n{\n  "analysis": "all facts present",\n  "score": 1.0\n}\n</json>', 1.0),
    ("authors_format_no", '<json>{"analysis": "the egg is missing", "score": 0.0}</json>', 0.0),
    ("code_fence", '```json\n{"analysis": "ok", "score": 1}\n```', 1.0),
    ("after_think_block", '<think>maybe "score": 0</think>\n{"analysis": "ok", "score": 1.0}', 1.0),
    ("template_comments_copied", '{\n  "analysis": "ok",  # no more than 200 words\n  "score": 1.0 # done\n}', 1.0),
    ("score_as_string", '{"analysis": "ok", "score": "0.0"}', 0.0),
    ("template_echoed", '{"analysis": "...", # x\n "score": 0.0 or 1.0\n}', None),
    ("graded_not_binary", '{"analysis": "half", "score": 0.5}', None),
    ("out_of_range", '{"score": 2}', None),
    ("boolean", '{"score": true}', None),
    ("no_score_key", '{"analysis": "looks right"}', None),
    ("prose", "The prediction is correct.", None),
    ("empty", "", None),
    ("none", None, None),
    ("cut_mid_json", '<json>\n{\n  "analysis": "the fridge is open and', None),
]


@pytest.mark.parametrize("answer,expected", [v[1:] for v in VERDICTS], ids=[v[0] for v in VERDICTS])
def test_parse_verdict(answer: str | None, expected: float | None) -> None:
    assert parse_verdict(answer) == expected

"""The CPU OpenAI-compatible server: a real subprocess on the tiny model, queried with the `openai` client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest

from data_prep.policies import OpenAIPolicy, PolicyContext, PolicyError
from recipe.rwml.policy_actions import parse_action

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_NAME = "tiny-cpu"
MAX_MODEL_LEN = 512
STARTUP_TIMEOUT_S = 120.0
MESSAGES = [{"role": "user", "content": "go to countertop 1 and take apple 1"}]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server's base URL (…/v1); the subprocess is killed at teardown."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("openai_server") / "server.log"
    cmd = [
        sys.executable, "-m", "recipe.rwml.cpu.openai_server", "--model", str(tiny_model_dir),
        "--served-model-name", MODEL_NAME, "--port", str(port), "--max-model-len", str(MAX_MODEL_LEN),
        "--max-batch-size", "8", "--threads", "1",
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer /health within {STARTUP_TIMEOUT_S}s:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def client(server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server, api_key="EMPTY", timeout=60, max_retries=0)


def _chat(client: openai.OpenAI, **kwargs: object) -> openai.types.chat.ChatCompletion:
    args = {"model": MODEL_NAME, "messages": MESSAGES, "max_tokens": 12, "temperature": 1.0, "seed": 7, **kwargs}
    return client.chat.completions.create(**args)


def test_models_lists_the_served_name(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list().data] == [MODEL_NAME]


def test_chat_completion_returns_text_and_usage(client: openai.OpenAI) -> None:
    resp = _chat(client)
    assert resp.model == MODEL_NAME and resp.object == "chat.completion"
    (choice,) = resp.choices
    assert choice.index == 0 and choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.message.content
    assert choice.finish_reason in {"stop", "length"}
    usage = resp.usage
    assert 1 <= usage.completion_tokens <= 12 and usage.prompt_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_max_completion_tokens_is_honoured(client: openai.OpenAI) -> None:
    resp = client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, max_completion_tokens=3, seed=1)
    assert resp.usage.completion_tokens <= 3


def test_same_seed_same_text(client: openai.OpenAI) -> None:
    first, second = _chat(client, seed=123), _chat(client, seed=123)
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.usage == second.usage


def test_greedy_is_deterministic_without_a_seed(client: openai.OpenAI) -> None:
    texts = {_chat(client, temperature=0.0, seed=None).choices[0].message.content for _ in range(2)}
    assert len(texts) == 1


def test_n_choices_are_indexed(client: openai.OpenAI) -> None:
    resp = _chat(client, n=3, max_tokens=8)
    assert [c.index for c in resp.choices] == [0, 1, 2]
    assert all(c.message.content is not None for c in resp.choices)
    assert resp.usage.completion_tokens <= 3 * 8


def test_stop_string_cuts_the_text(client: openai.OpenAI) -> None:
    full = _chat(client, seed=5, max_tokens=24).choices[0].message.content
    assert len(full) >= 4, full
    stop = full[len(full) // 2 : len(full) // 2 + 2]
    resp = _chat(client, seed=5, max_tokens=24, stop=[stop])
    assert resp.choices[0].message.content == full[: full.index(stop)]
    assert resp.choices[0].finish_reason == "stop"


def test_concurrent_requests_all_succeed(client: openai.OpenAI) -> None:
    with ThreadPoolExecutor(4) as pool:
        resps = list(pool.map(lambda i: _chat(client, seed=100 + i, max_tokens=10), range(4)))
    for resp in resps:
        assert resp.choices[0].finish_reason in {"stop", "length"}
        assert resp.usage.completion_tokens <= 10


def test_wrong_model_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        _chat(client, model="no-such-model")
    assert "no-such-model" in str(err.value)


def test_tools_are_rejected(client: openai.OpenAI) -> None:
    tool = {"type": "function", "function": {"name": "look", "parameters": {"type": "object", "properties": {}}}}
    with pytest.raises(openai.BadRequestError) as err:
        _chat(client, tools=[tool])
    assert "tool calling is not supported" in str(err.value)


def test_prompt_over_max_model_len_is_400(client: openai.OpenAI) -> None:
    long = [{"role": "user", "content": "go to cabinet 1. " * 400}]
    with pytest.raises(openai.BadRequestError) as err:
        _chat(client, messages=long)
    message = str(err.value)
    assert str(MAX_MODEL_LEN) in message and "prompt has" in message


def test_openai_policy_acts_against_the_server(server: str) -> None:
    policy = OpenAIPolicy(server, MODEL_NAME, temperature=1.0, max_tokens=16, max_retries=0)
    policy.check_reachable()
    policy.reset(0)
    ctx = PolicyContext(
        env="alfworld",
        task="put a clean apple in fridge",
        initial_observation="You are in the middle of a room.",
        history=[],
        observation="You are in the middle of a room.",
        admissible=["go to countertop 1", "look"],
    )
    raw, action = policy.act(ctx)
    # a random-weight model rarely writes a tagged action: whatever it wrote, the action is what the one parser reads
    assert isinstance(raw, str) and raw and action == parse_action(raw, "alfworld")[0]
    with pytest.raises(PolicyError, match="not served"):
        OpenAIPolicy(server, "other-model").check_reachable()


def test_concurrent_requests_share_batches(tiny_model_dir: Path) -> None:
    """In-process (ASGI, no socket): requests in flight together are decoded in one batch, as are `n` choices."""
    import asyncio

    import httpx

    from recipe.rwml.cpu.openai_server import create_app, load_engine

    tokenizer, generator, defaults = load_engine(tiny_model_dir, max_batch_size=8, max_model_len=MAX_MODEL_LEN)
    app = create_app(tokenizer, generator, MODEL_NAME, max_model_len=MAX_MODEL_LEN, sampling_defaults=defaults)
    body = {"model": MODEL_NAME, "messages": MESSAGES, "max_tokens": 6}

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            one = await http.post("/v1/chat/completions", json={**body, "n": 3})
            many = await asyncio.gather(*(http.post("/v1/chat/completions", json=body) for _ in range(4)))
            return [one, *many]

    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [200] * 5
    assert len(responses[0].json()["choices"]) == 3
    assert generator.batch_sizes[0] == 3  # the n choices of one request
    assert sum(generator.batch_sizes[1:]) == 4 and max(generator.batch_sizes[1:]) >= 2

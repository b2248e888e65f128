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
from data_prep.policy_actions import parse_action

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


def _app(tiny_model_dir: Path, max_model_len: int = MAX_MODEL_LEN, **kwargs: object):
    from recipe.rwml.cpu.openai_server import create_app, load_engine

    tokenizer, generator, defaults = load_engine(tiny_model_dir, max_batch_size=8, max_model_len=max_model_len)
    app = create_app(
        tokenizer, generator, MODEL_NAME, max_model_len=max_model_len, sampling_defaults=defaults, **kwargs
    )
    return app, generator


def _post_all(app, bodies: list[str]) -> list:
    """POST raw JSON bodies (NaN and Infinity as Python's json writes them) to the app, all at once."""
    import asyncio

    import httpx

    async def run() -> list:
        transport = httpx.ASGITransport(app=app)
        headers = {"content-type": "application/json"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await asyncio.gather(
                *(http.post("/v1/chat/completions", content=b, headers=headers) for b in bodies)
            )

    return asyncio.run(run())


BAD_SAMPLING = [
    ({"temperature": float("nan")}, "temperature"),
    ({"temperature": "hot"}, "temperature"),
    ({"temperature": -5}, "temperature"),
    ({"top_p": "x"}, "top_p"),
    ({"top_p": 0}, "top_p"),
    ({"top_p": 1.5}, "top_p"),
    ({"top_k": float("inf")}, "top_k"),
    ({"n": 0}, "`n`"),
    ({"n": 400}, "`n`"),
    ({"n": True}, "`n`"),
    ({"max_tokens": True}, "max_tokens"),
    ({"seed": "x"}, "seed"),
    ({"n": 100, "max_tokens": 1000}, "max-request-tokens"),
]


def test_bad_sampling_fields_get_an_openai_400_and_good_requests_sent_with_them_succeed(tiny_model_dir: Path) -> None:
    """The reported attack: 6 good requests sent together with a NaN-temperature one -- 5 of the 6 got a 500. Every
    bad field is now a 400 in OpenAI's error format, and the good requests beside it all succeed."""
    import json

    app, _ = _app(tiny_model_dir, max_request_tokens=4096)
    good = {"model": MODEL_NAME, "messages": MESSAGES, "max_tokens": 4}
    bodies = [json.dumps({**good, **bad}) for bad, _ in BAD_SAMPLING] + [json.dumps(good)] * 6
    responses = _post_all(app, bodies)
    for (bad, field), response in zip(BAD_SAMPLING, responses, strict=False):
        assert response.status_code == 400, (bad, response.text)
        error = response.json()["error"]
        assert field in error["message"] and error["type"], (bad, error)
    assert [r.status_code for r in responses[len(BAD_SAMPLING) :]] == [200] * 6
    # a vanishing temperature samples greedily instead of overflowing to NaN
    (tiny,) = _post_all(app, [json.dumps({**good, "temperature": 1e-300})])
    (greedy,) = _post_all(app, [json.dumps({**good, "temperature": 0})])
    assert tiny.status_code == 200
    assert tiny.json()["choices"][0]["message"] == greedy.json()["choices"][0]["message"]


def test_a_row_that_fails_inside_a_batch_fails_only_its_request(tiny_model_dir: Path, monkeypatch) -> None:
    """A failure the checks cannot foresee (here: sampling raises for one request's seed) fails that request alone;
    the batch's other requests are decoded again and succeed."""
    import asyncio

    from recipe.rwml.cpu.generator import BatchedGenerator, SamplingSpec

    _, generator = _app(tiny_model_dir)
    sample = BatchedGenerator._sample

    def poisoned(logits, spec, row_generator):
        if spec.seed == 666:
            raise RuntimeError("poisoned row")
        return sample(logits, spec, row_generator)

    monkeypatch.setattr(BatchedGenerator, "_sample", staticmethod(poisoned))
    prompt = [5, 6, 7, 8]

    async def run() -> list:
        specs = [SamplingSpec(max_tokens=3, seed=s) for s in (1, 2, 666, 3, 4, 5)]
        return await asyncio.gather(*(generator.generate(prompt, spec) for spec in specs), return_exceptions=True)

    results = asyncio.run(run())
    assert isinstance(results[2], RuntimeError) and "poisoned" in str(results[2])
    assert all(len(r.token_ids) >= 1 for i, r in enumerate(results) if i != 2)
    assert generator.batch_sizes[0] == 6  # they were batched together, then decoded one by one


def test_a_client_that_disconnects_has_its_rows_dropped(tiny_model_dir: Path) -> None:
    """A long `n` request whose client goes away once decoding has begun is cancelled: its rows leave the batch at
    the next token (the reported attack: an n=400 request dropped at 2 s held the engine for 72 s). Greedy decoding
    of the tiny model runs to max_tokens (3000 tokens alone: ~4 s here), so the rows are still running when the
    client leaves."""
    import asyncio
    import json

    app, generator = _app(tiny_model_dir, max_model_len=4096)
    request = {"model": MODEL_NAME, "messages": MESSAGES, "n": 8, "max_tokens": 3000, "temperature": 0}
    body = json.dumps(request).encode()
    sent: list[dict] = []

    async def run() -> None:
        delivered, began = False, None

        async def receive() -> dict:  # as uvicorn's: a disconnect is answered at once, else it waits
            nonlocal delivered, began
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            if generator.batch_sizes and began is None:  # decoding has begun
                began = time.monotonic()
            if began is not None and time.monotonic() - began > 0.3:
                return {"type": "http.disconnect"}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/v1/chat/completions", "raw_path": b"/v1/chat/completions", "query_string": b"",
            "headers": [(b"content-type", b"application/json")], "client": ("test", 1), "server": ("test", 80),
        }  # fmt: skip
        await app(scope, receive, send)
        for _ in range(200):  # the decode thread notices the cancellation at its next token
            if generator.cancelled_rows == 8:
                break
            await asyncio.sleep(0.05)

    asyncio.run(run())
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 499
    assert generator.cancelled_rows == 8 and generator.batch_sizes == [8]

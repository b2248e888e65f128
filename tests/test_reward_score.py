"""reward_score without verl: parsing, budgets, reward modes, compute_score, and the OpenAI-compatible backend.

The local backend is the real all-MiniLM-L6-v2 from its PyPI package; the HTTP backend is a real HTTP server
on 127.0.0.1 answering /v1/embeddings with that same model's vectors, reached through the openai client.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from reward_score import RewardSettings, compute_score, compute_score_batch
from reward_score.answer_format import (
    STATE_CLOSE,
    STATE_OPEN,
    STATUS_DONE,
    STATUS_NOT_DONE,
    parse_response,
    status_of,
    with_status,
)
from reward_score.embedders import EmbedderSpec, EmbeddingBackendError, get_embedder
from reward_score.results import RESULT_KEYS
from reward_score.scoring import Scorer
from reward_score.settings import (
    ALFWORLD_BINARY_TAU,
    ALFWORLD_FACTS_TAU,
    DOCUMENTED_TAU,
    PAPER_TAU,
    TAU2_FACTS_TAU,
    EnvMismatchError,
    documented_tau,
    env_of_sample,
)
from tests.openai_stub import free_port_url

REAL = with_status("You arrive at drawer 1. The drawer 1 is closed.", False)


def answer(state: str, reasoning: str = "The agent walks to the drawer, which is closed.") -> str:
    return f"<think>{reasoning}</think>\n{STATE_OPEN}{state}{STATE_CLOSE}"


@pytest.fixture(scope="module")
def minilm():
    return get_embedder(EmbedderSpec())


# -- parsing ----------------------------------------------------------------------------------------------------
def test_last_complete_pair_is_the_prediction():
    text = f"{STATE_OPEN}first{STATE_CLOSE} then {STATE_OPEN}second{STATE_CLOSE} {STATE_OPEN}unclosed"
    assert parse_response(text).prediction == "second"
    assert parse_response(f"{STATE_OPEN}only open").prediction is None
    assert parse_response(f"only close{STATE_CLOSE}").prediction is None
    assert parse_response(b"<next_state>\xff\xfe</next_state>").invalid_utf8


def test_reasoning_and_status_lines():
    assert parse_response(answer("x", "why")).reasoning == "why"
    # A template that opened <think> in the prompt: the response starts inside the block.
    assert parse_response("why it happens</think><next_state>x</next_state>").reasoning == "why it happens"
    assert status_of(f"a\n{STATUS_DONE}") is True
    assert status_of(f"a\n{STATUS_NOT_DONE}") is False
    assert status_of("You open the drawer 1.") is None


# -- scoring --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("response", "reason"),
    [
        ("", "no_prediction"),
        (None, "no_prediction"),
        ("You arrive at drawer 1. The drawer 1 is closed.", "no_prediction"),
        (answer("   \n "), "empty_prediction"),
        (b"<think>ok</think><next_state>\xff\xfe\xfa\x80</next_state>", "invalid_utf8"),
    ],
)
def test_bad_responses_score_zero_with_reason(response, reason):
    r = compute_score("alfworld", response, REAL)
    assert (r["score"], r["reason"]) == (0.0, reason)
    assert set(r) == set(RESULT_KEYS)


def test_bad_ground_truth_scores_zero_instead_of_raising():
    r = compute_score("alfworld", answer(REAL), None)
    assert (r["score"], r["reason"]) == (0.0, "bad_ground_truth")


def test_unreadable_sample_scores_zero_instead_of_raising():
    class Unprintable:
        def __str__(self) -> str:
            raise ValueError("cannot render")

    r = compute_score("alfworld", Unprintable(), REAL)
    assert (r["score"], r["reason"]) == (0.0, "bad_input") and set(r) == set(RESULT_KEYS)


def test_exact_prediction_scores_one_and_reports_extra_info():
    r = compute_score("alfworld", answer(REAL), REAL, {"state_kind": "observation"})
    assert r["score"] == 1.0 and r["reason"] == "match" and r["parsed"]
    assert r["cosine"] == pytest.approx(1.0, abs=1e-5)
    assert r["pred_tokens"] == r["truth_tokens"] > 5 and not r["cut"]
    assert r["pred_chars"] == len(REAL)


def test_binary_and_cosine_modes_agree_with_the_embedder(minilm):
    pred = with_status("You arrive at countertop 1. On the countertop 1, you see a apple 1.", False)
    expected = float(np.dot(*minilm.embed([REAL, pred])))
    cos = compute_score("alfworld", answer(pred), REAL, mode="cosine")
    assert cos["score"] == pytest.approx(expected, abs=1e-5) and cos["reason"] == "cosine"
    below = compute_score("alfworld", answer(pred), REAL, mode="binary", tau=round(expected + 0.01, 4))
    above = compute_score("alfworld", answer(pred), REAL, mode="binary", tau=round(expected - 0.01, 4))
    assert (below["score"], below["reason"]) == (0.0, "below_tau")
    assert (above["score"], above["reason"]) == (1.0, "match")


def test_prediction_is_cut_to_the_budget_before_embedding(minilm):
    long_pred = REAL + " And then the drawer is opened and closed again." * 20
    r = compute_score("alfworld", answer(long_pred), REAL, mode="cosine", budget_tokens=40)
    assert r["cut"] and r["pred_tokens"] > 40
    scorer = Scorer(RewardSettings())
    cut, _ = scorer.counter.cut(long_pred, 40)
    assert long_pred.startswith(cut) and scorer.counter.count(cut) == 40
    assert r["score"] == pytest.approx(float(np.dot(*minilm.embed([REAL, cut]))), abs=1e-5)
    # Never cut below the real state's own length: an exact long prediction still scores 1.
    assert compute_score("alfworld", answer(long_pred), long_pred, budget_tokens=10)["score"] == 1.0


def test_instruction_embeds_the_real_state_as_a_query(minilm):
    instr = "Given a real environment state, find predictions with the same facts"
    r = compute_score("alfworld", answer(REAL), REAL, mode="cosine", instruction=instr)
    query = f"Instruct: {instr}\nReference: {REAL}"
    assert r["score"] == pytest.approx(float(np.dot(*minilm.embed([query, REAL]))), abs=1e-5)
    assert r["score"] < 0.99  # the query is not the plain state any more


def test_tau_per_environment_and_documented_defaults():
    s = RewardSettings(tau={"alfworld": 0.7, "default": 0.9})
    assert (s.tau_for("alfworld"), s.tau_for("tau2"), s.tau_for("default")) == (0.7, 0.9, 0.9)
    assert RewardSettings(model="/models/Qwen3-Embedding-8B").tau_for("tau2") == 0.6
    assert RewardSettings(model="some/other-embedder").tau_for("alfworld") == 0.8
    # tau: null resolves in one place: documented_tau, beside the DOCUMENTED_TAU table
    for model, env, mode, tau in [
        ("all-MiniLM-L6-v2", "alfworld", "facts", ALFWORLD_FACTS_TAU),  # the default mode: facts + cosine gate
        ("all-MiniLM-L6-v2", "alfworld", "binary", ALFWORLD_BINARY_TAU),
        ("sentence-transformers/all-MiniLM-L6-v2", "tau2", "mixed", 0.979),  # calibrated on tau2 user replies
        ("all-MiniLM-L6-v2", "tau2", "facts", TAU2_FACTS_TAU),  # tau2's default: facts checked, then this gate
        ("Qwen/Qwen3-Embedding-8B", "tau2", "facts", 0.6),
        ("Qwen/Qwen3-Embedding-8B", "tau2", "mixed", 0.6),
        ("/models/qwen3-embedding-8b/", "alfworld", "facts", 0.8),
        ("some/other-embedder", "tau2", "mixed", PAPER_TAU),
    ]:
        settings = RewardSettings(model=model, mode={env: mode})
        assert documented_tau(model, env, mode) == settings.tau_for(env) == tau, (model, mode)
    assert DOCUMENTED_TAU == {
        "qwen3-embedding-8b": {"alfworld": 0.8, "tau2": 0.6},
        "all-minilm-l6-v2": {
            "alfworld": ALFWORLD_BINARY_TAU,
            "alfworld/facts": ALFWORLD_FACTS_TAU,
            "tau2": 0.979,
            "tau2/facts": TAU2_FACTS_TAU,
        },
    }
    # facts reads ALFWorld's and tau2's states (tau2_facts); other samples under a scalar `mode: facts` score as binary
    real = with_status("Sure, my order id is #W1234567.", False)
    reply = compute_score("rwml_tau2", answer(real), real, mode="facts", extra_info={"state_kind": "user_reply"})
    assert (reply["score"], reply["reason"], reply["facts"]) == (1.0, "match", None)
    wrong = answer(real.replace("#W1234567", "#W7654321"))
    reply = compute_score("rwml_tau2", wrong, real, mode="facts", extra_info={"state_kind": "user_reply"})
    assert (reply["score"], reply["reason"], reply["facts"]) == (
        0.0,
        "facts_differ",
        "missing #w1234567; invented #w7654321",
    )
    other = compute_score("some_other_env", answer(real), real, mode="facts")
    assert (other["score"], other["reason"], other["facts"]) == (1.0, "match", None)
    with pytest.raises(ValueError, match="tau"):
        RewardSettings(tau=1.5)
    with pytest.raises(ValueError, match="unknown reward setting"):
        RewardSettings.from_mapping({"taux": 0.5})
    with pytest.raises(ValueError, match="mode"):
        RewardSettings(mode={"alfworld": "judge"})


# -- the environment of a sample: extra_info.env, else the data_source ------------------------------------------
ORDER = '{"order_id": "#W1234567", "status": "pending", "items": [{"name": "Water Bottle", "price": 54.04}]}'


def test_the_environment_is_extra_info_env_else_the_data_source():
    assert env_of_sample("rwml_tau2_retail", {"env": "tau2", "state_kind": "tool_response"}) == "tau2"
    assert env_of_sample("wm_rows", {"env": "tau2"}) == "tau2"  # the data_source names no environment
    assert env_of_sample("rwml_alfworld", {"state_kind": "observation"}) == "alfworld"  # an old row: no env
    assert env_of_sample("rwml_alfworld", None) == env_of_sample("rwml_alfworld", {"env": None}) == "alfworld"
    assert env_of_sample("wm_rows", {"env": "webshop"}) == "default"
    with pytest.raises(EnvMismatchError, match="names alfworld but extra_info.env is 'tau2'"):
        env_of_sample("rwml_alfworld", {"env": "tau2"})
    # scored as extra_info says: tau2 facts decide a tool response as JSON data, with no cosine ...
    tool = {"env": "tau2", "state_kind": "tool_response"}
    r = compute_score("wm_rows", answer(ORDER), ORDER, tool)
    assert (r["score"], r["reason"], r["mode"], r["tau"], r["cosine"]) == (1.0, "match", "facts", None, None)
    # ... where the data_source alone would have scored it with the 'default' settings (binary, cosine gate)
    r = compute_score("wm_rows", answer(ORDER), ORDER, {"state_kind": "tool_response"})
    assert (r["reason"], r["mode"]) == ("match", "binary") and r["cosine"] == pytest.approx(1.0, abs=1e-5)
    # a row without extra_info, or whose extra_info has no env, is read from its data_source
    for info in (None, {"state_kind": "observation"}):
        r = compute_score("rwml_alfworld", answer(REAL), REAL, info)
        assert (r["score"], r["reason"], r["mode"]) == (1.0, "match", "facts")


def test_a_row_whose_data_source_and_extra_info_name_other_environments_is_refused():
    """Refused, not scored by one of the two rules: the dataset is wrong, and which rule was meant is a guess."""
    tool = {"env": "tau2", "state_kind": "tool_response"}
    batch = compute_score_batch(["rwml_alfworld", "rwml_tau2_retail"], [answer(ORDER)] * 2, [ORDER] * 2, [tool] * 2)
    refused, scored = batch
    assert (refused["score"], refused["reason"], refused["parsed"]) == (0.0, "env_mismatch", False)
    assert refused["mode"] == "facts" and refused["state_kind"] == "tool_response" and set(refused) == set(RESULT_KEYS)
    assert (scored["score"], scored["reason"]) == (1.0, "match")


def test_mixed_mode_penalties_on_a_user_reply():
    real = with_status("Thanks, that is all I needed.", True)
    long_think = "The user got the refund confirmation and has no further request, so they will end the chat now."
    ok = compute_score("tau2_retail", answer(real, long_think), real, {"state_kind": "user_reply"}, mode="mixed")
    assert ok["mode"] == "mixed" and ok["score"] == 1.0 and ok["status_ok"] and ok["penalty"] == 0.0
    short = compute_score("tau2_retail", answer(real, "ok"), real, {"state_kind": "user_reply"}, mode="mixed")
    assert short["score"] == pytest.approx(0.9) and short["think_tokens"] <= 16
    wrong_status = with_status("Thanks, that is all I needed.", False)
    bad = compute_score(
        "tau2_retail", answer(wrong_status, long_think), real, {"state_kind": "user_reply"}, tau=0.5, mode="mixed"
    )
    assert bad["status_ok"] is False and bad["penalty"] == pytest.approx(-0.5)
    assert bad["reason"] == "match" and bad["score"] == pytest.approx(0.5)  # embedding says 1, status costs 0.5


def test_batch_matches_single_calls():
    preds = [answer(REAL), "junk", answer(with_status("Nothing happens.", False))]
    batch = compute_score_batch(["alfworld"] * 3, preds, [REAL] * 3, [None] * 3, mode="cosine")
    singles = [compute_score("alfworld", p, REAL, mode="cosine") for p in preds]
    for b, s in zip(batch, singles, strict=True):
        assert b["reason"] == s["reason"]
        assert b["score"] == pytest.approx(s["score"], abs=1e-5)


def test_each_distinct_text_is_embedded_once_across_calls():
    embedded: list[str] = []
    base = get_embedder(RewardSettings().embedder_spec())

    class Recording:
        description = base.description

        def embed(self, texts: list[str]) -> np.ndarray:
            embedded.extend(texts)
            return base.embed(texts)

    scorer = Scorer(RewardSettings(mode="cosine"), embedder=Recording())
    truths = [with_status(f"You arrive at drawer {i}. The drawer {i} is closed.", False) for i in range(4)]
    scorer.score_batch(["alfworld"] * 8, [answer(t) for t in truths * 2], truths * 2)
    assert sorted(embedded) == sorted(truths)  # exact predictions are the truths' own texts
    nothing = with_status("Nothing happens.", False)
    scorer.score_batch(["alfworld"] * 4, [answer(nothing)] * 4, truths)
    scorer.score_batch(["alfworld"] * 4, [answer(nothing)] * 4, truths)  # the next step: all from the cache
    assert sorted(embedded) == sorted([*truths, nothing])
    assert len(scorer.cache) == 5 and scorer.cache.hits >= 8


# -- the OpenAI-compatible backend ----------------------------------------------------------------------------
@contextmanager
def embedding_server(embedder, fail_first: int = 0) -> Iterator[dict]:
    """A real HTTP /v1/embeddings server backed by `embedder`; the first `fail_first` requests get 503."""
    state = {"requests": 0, "inputs": []}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state["requests"] += 1
            if state["requests"] <= fail_first:
                body, code = {"error": {"message": "warming up"}}, 503
            else:
                inputs = req["input"] if isinstance(req["input"], list) else [req["input"]]
                state["inputs"].append(inputs)
                vecs = embedder.embed(inputs)
                data = [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vecs)]
                body = {"object": "list", "data": data, "model": req["model"], "usage": {"prompt_tokens": 1}}
                body["usage"]["total_tokens"] = 1
                code = 200
            raw = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["base_url"] = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_openai_endpoint_scores_like_the_local_model(minilm):
    pred = with_status("You open the drawer 1. The drawer 1 is open. In it, you see nothing.", False)
    local = compute_score("alfworld", answer(pred), REAL, mode="cosine")
    with embedding_server(minilm, fail_first=1) as srv:  # one 503: the client retries it
        remote = compute_score("alfworld", answer(pred), REAL, mode="cosine", base_url=srv["base_url"], max_retries=2)
    assert remote["score"] == pytest.approx(local["score"], abs=1e-5)
    assert srv["requests"] == 2 and sorted(srv["inputs"][0]) == sorted([REAL, pred])


def test_endpoint_down_raises_naming_it_never_scores_zero():
    url = free_port_url()
    with pytest.raises(EmbeddingBackendError, match=f"embedding endpoint {url}"):
        compute_score("alfworld", answer(REAL), REAL, base_url=url, max_retries=1, timeout_s=2)


def test_endpoint_that_keeps_failing_raises_after_bounded_retries(minilm):
    with embedding_server(minilm, fail_first=100) as srv:
        with pytest.raises(EmbeddingBackendError, match="after 2 retries"):
            compute_score("alfworld", answer(REAL), REAL, base_url=srv["base_url"], max_retries=2)
    assert srv["requests"] == 3  # first try + 2 retries

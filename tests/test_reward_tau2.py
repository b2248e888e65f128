"""tau2 mixed reward on real retail tool responses, produced offline by tau2-bench's retail environment."""

from __future__ import annotations

import pytest

from reward_score import compute_score_batch
from reward_score.answer_format import STATE_CLOSE, STATE_OPEN, with_status

THINK = (
    "The agent asked for the order details; the tool returns the stored order record as JSON, with its "
    "items, address, payments and fulfilment status, and nothing in the task is finished yet."
)


@pytest.fixture(scope="module")
def retail():
    """Real tool responses: two orders' details and a lookup error."""
    from tau2.data_model.message import ToolCall
    from tau2.registry import registry

    env = registry.get_env_constructor("retail")()
    orders = sorted(env.tools.db.orders)[:2]

    def call(name: str, **arguments: str) -> str:
        msg = env.get_response(ToolCall(id="t", name=name, arguments=arguments))
        return msg.content

    return {
        "order_a": call("get_order_details", order_id=orders[0]),
        "order_b": call("get_order_details", order_id=orders[1]),
        "missing": call("get_order_details", order_id="#W0000000"),
    }


def answer(state: str, think: str = THINK) -> str:
    return f"<think>{think}</think>{STATE_OPEN}{state}{STATE_CLOSE}"


def score(preds: list[str], truth: str) -> list[dict]:
    n = len(preds)
    return compute_score_batch(["tau2_retail"] * n, preds, [truth] * n, [{"state_kind": "tool_response"}] * n)


def test_tool_responses_are_real_json(retail):
    assert retail["order_a"].startswith("{") and '"order_id"' in retail["order_a"]
    assert retail["order_a"] != retail["order_b"]
    assert retail["missing"].startswith("Error")


def test_rouge_l_in_bins_with_penalties(retail):
    from rouge_score import rouge_scorer

    truth = with_status(retail["order_a"], False)
    other = with_status(retail["order_b"], False)
    exact, wrong_order, error, short, bad_status, both = score(
        [
            answer(truth),
            answer(other),
            answer(with_status(retail["missing"], False)),
            answer(truth, think="Order JSON."),
            answer(with_status(retail["order_a"], True)),
            answer(with_status(retail["order_a"], True), think="ok"),
        ],
        truth,
    )
    assert all(r["mode"] == "mixed" and r["reason"] == "rouge" for r in (exact, wrong_order, error))
    assert exact["score"] == 1.0 and exact["rouge_l"] == 1.0 and exact["status_ok"] and exact["cosine"] is None

    # Another order's record shares the JSON keys, not the values: partial credit in 0.2 steps.
    f1 = rouge_scorer.RougeScorer(["rougeL"]).score(truth, other)["rougeL"].fmeasure
    assert wrong_order["rouge_l"] == pytest.approx(f1)
    assert wrong_order["score"] == pytest.approx(round(f1 / 0.2) * 0.2) and 0.0 < wrong_order["score"] < 1.0
    assert error["score"] == 0.0  # "Error: Order not found" shares almost nothing with the record

    assert short["think_tokens"] <= 16 and short["score"] == pytest.approx(0.9)
    assert bad_status["status_ok"] is False and bad_status["score"] == pytest.approx(0.5)
    assert both["score"] == pytest.approx(0.4) and both["penalty"] == pytest.approx(-0.6)


def test_missing_prediction_is_zero_without_penalties(retail):
    (r,) = score([f"<think>{THINK}</think> the tool answers with the order"], with_status(retail["order_a"], False))
    assert (r["score"], r["reason"], r["penalty"]) == (0.0, "no_prediction", 0.0)

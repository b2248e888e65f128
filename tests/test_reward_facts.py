"""ALFWorld's default reward knows facts from wording: paraphrases pass, wrong objects and flipped facts do not.

Unit checks of the fact reader, the adversarial corpus on real valid_seen transitions (each hack scores 0, with
its reason), the per-kind acceptance on held-out games through `compute_score_batch`, and the calibration files
kept in the repo (reward_score/calibration/) agreeing with the documented settings.
"""

# ruff: noqa: E501 - tables of real and predicted states read best one per line

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from reward_score import RewardSettings, compute_score_batch
from reward_score.alfworld_facts import fact_differences, read_facts
from reward_score.alfworld_pairs import collect_pairs
from reward_score.alfworld_rewrites import OBJECT_RE, flip_fact, paraphrase, reorder, swap_object
from reward_score.answer_format import STATE_CLOSE, STATE_OPEN, with_status
from reward_score.calibrate import KINDS, POSITIVE_KINDS, check
from reward_score.settings import documented_tau

CALIBRATION = Path(__file__).resolve().parents[1] / "reward_score" / "calibration"
ARRIVE = with_status(
    "You arrive at countertop 1. On the countertop 1, you see a apple 1, a egg 2, and a knife 1.", False
)
OPENED = with_status("You open the drawer 1. The drawer 1 is open. In it, you see nothing.", False)


def tagged(state: str) -> str:
    return f"<think>What the room shows after the action.</think>{STATE_OPEN}{state}{STATE_CLOSE}"


@pytest.mark.parametrize(
    "real, same",
    [
        (ARRIVE, "You reach the countertop 1, where there is a knife 1, an egg 2 and an apple 1.\nTask is not yet completed."),
        (OPENED, "You pull open the drawer 1. It is empty.\nTask is not yet completed."),
        (with_status("You pick up the mug 3 from the desk 2.", False), "You take the mug 3 off the desk 2.\nTask is not yet completed."),
        (with_status("You move the mug 3 to the desk 2.", True), "You put the mug 3 on the desk 2.\nTask completed."),
        (with_status("Nothing happens.", False), "Nothing changes.\nTask is not yet completed."),
        (with_status("You are not carrying anything.", False), "Your hands are empty.\nTask is not yet completed."),
    ],
)  # fmt: skip
def test_same_facts_in_other_words_agree(real, same):
    assert fact_differences(real, same) == []


@pytest.mark.parametrize(
    "real, wrong, why",
    [
        (ARRIVE, ARRIVE.replace("egg 2", "egg 1"), "missing egg 2"),
        (OPENED, OPENED.replace("is open. In it, you see nothing.", "is closed."), "adds closed"),
        (OPENED, OPENED.replace("you see nothing", "you see a pen 1"), "invented pen 1"),
        (ARRIVE, ARRIVE.replace("Task is not yet completed.", "Task completed."), "task status differs"),
        (with_status("You turn on the desklamp 1.", True), "You turn off the desklamp 1.\nTask completed.", "adds turn_off"),
        (with_status("You pick up the mug 3 from the desk 2.", False), "You arrive at desk 2.\nTask is not yet completed.",
         "misses pickup"),
        (ARRIVE, "apple 1, countertop 1, egg 2, knife 1\nTask is not yet completed.", "misses arrive"),
    ],
)  # fmt: skip
def test_a_wrong_fact_is_named(real, wrong, why):
    assert any(why in d for d in fact_differences(real, wrong)), fact_differences(real, wrong)


def test_reader_never_raises_and_reads_no_facts_from_noise():
    for text in ("", "\ufffd" * 50, "<think>", "1 2 3", "ok " * 1000):
        facts = read_facts(text)
        assert facts.status is None and not facts.entities


@pytest.fixture(scope="module")
def seen_pairs(shared_alfworld):
    return collect_pairs(shared_alfworld, "valid_seen", games=8, branches=3, max_steps=12, seed=3, progress=False)


def test_adversarial_corpus_scores_zero_each_with_its_reason(seen_pairs):
    """Hacks that fool an embedding alone: each scores 0 under the default settings, and says why."""
    rng = random.Random(0)
    scene = sorted({o for p in seen_pairs for t in (p.observation, p.next_state) for o in OBJECT_RE.findall(t)})
    corpus: list[tuple[str, str, str, str]] = []  # (name, real, response, expected reason)
    for p in seen_pairs:
        real = p.next_state
        body, status = real.rsplit("\n", 1)
        objects = OBJECT_RE.findall(body)
        if objects:
            corpus.append(
                ("entity list without sentences", real, tagged(", ".join(objects) + "\n" + status), "facts_differ")
            )
        corpus.append(
            (
                "real state with invented objects",
                real,
                tagged(f"{body} You also see a vase 9 and a statue 7.\n{status}"),
                "facts_differ",
            )
        )
        if p.observation.strip() != body.strip():
            corpus.append(
                ("previous observation copied", real, tagged(with_status(p.observation, False)), "facts_differ")
            )
        corpus.append(
            (
                "every object in the scene",
                real,
                tagged("You see " + ", ".join(f"a {o}" for o in scene) + ".\n" + status),
                "facts_differ",
            )
        )
        if p.other_next_state != real:
            corpus.append(("both outcomes hedged", real, tagged(f"{body} Or: {p.other_next_state}"), "facts_differ"))
        corpus.append(("action copied", real, tagged(p.action), "facts_differ"))
        corpus.append(("task copied", real, tagged(p.task), "facts_differ"))
        corpus.append(("no tags", real, real, "no_prediction"))
        corpus.append(("tags but empty", real, tagged(" "), "empty_prediction"))
    rng.shuffle(corpus)
    n = len(corpus)
    scores = compute_score_batch(["alfworld"] * n, [c[2] for c in corpus], [c[1] for c in corpus])
    wrong = [(c[0], c[2][:120], s["score"], s["reason"]) for c, s in zip(corpus, scores, strict=True)
             if (s["score"], s["reason"]) != (0.0, c[3])]  # fmt: skip
    assert not wrong, wrong
    assert len({c[0] for c in corpus}) == 9 and n > 40


def test_held_out_games_paraphrases_pass_and_wrong_facts_fail(seen_pairs):
    """valid_seen (the calibration used valid_train): the issue's bar, on a sample of games."""
    result = check(seen_pairs, RewardSettings())
    right = result["share_right"]
    print(json.dumps(result, indent=1))
    for kind in KINDS:
        assert right[kind] >= (0.90 if kind in POSITIVE_KINDS else 0.95), (kind, right)


def test_rewrites_keep_or_break_the_facts_as_named(seen_pairs):
    rng = random.Random(1)
    scene = sorted({o for p in seen_pairs for o in OBJECT_RE.findall(p.next_state + p.observation)})
    for p in seen_pairs:
        assert fact_differences(p.next_state, reorder(p.next_state)) == []
        para = paraphrase(p.next_state, rng)
        assert para is None or para != p.next_state
        swapped = swap_object(p.next_state, scene, rng)
        if swapped is not None:
            assert fact_differences(p.next_state, swapped)
        flipped = flip_fact(p.next_state, scene, rng)
        assert flipped is not None and fact_differences(p.next_state, flipped[1])


def test_calibration_files_agree_with_the_documented_settings():
    """The JSON kept in the repo is what the documented tau was derived from, and its check met the bar."""
    saved = json.loads((CALIBRATION / "all-MiniLM-L6-v2_alfworld_valid_train.json").read_text())
    settings = RewardSettings()
    assert settings.mode_for("alfworld") == "facts"
    assert saved["facts"]["recommended_tau"] == documented_tau(settings.model, "alfworld", "facts")
    assert saved["binary"]["recommended_tau"] == documented_tau(settings.model, "alfworld", "binary")
    checked = json.loads((CALIBRATION / "all-MiniLM-L6-v2_alfworld_valid_seen_check.json").read_text())
    assert checked["mode"] == "facts" and checked["tau"] == settings.tau_for("alfworld")
    for kind, share in checked["share_right"].items():
        assert share >= (0.90 if kind in POSITIVE_KINDS else 0.95), (kind, share)
    assert (CALIBRATION / "all-MiniLM-L6-v2_alfworld_valid_train.png").read_bytes()[:4] == b"\x89PNG"

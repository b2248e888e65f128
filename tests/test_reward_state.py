"""ALFWorld's default reward compares world states: true predictions in other words pass, false ones do not.

Unit checks of the state reader (`reward_score/alfworld_state.py`), every real observation of the played games
readable, the adversarial corpus (`reward_calibration/alfworld_attacks.py`) on real valid_seen transitions scoring 0
with its reason, the per-kind acceptance on held-out games through `compute_score_batch`, and the calibration files
kept in the repo (reward_calibration/results/) agreeing with the documented settings.
"""

# ruff: noqa: E501 - tables of real and predicted states read best one per line

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from reward_calibration.alfworld_attacks import check_attacks
from reward_calibration.alfworld_candidates import KINDS, POSITIVE_KINDS
from reward_calibration.alfworld_pairs import read_pairs
from reward_calibration.alfworld_reader_tables import attacks_table, families_table
from reward_calibration.alfworld_rewrites import OBJECT_RE, flip_fact, paraphrase, reorder, swap_object
from reward_calibration.calibrate import check
from reward_score import RewardSettings, compute_score
from reward_score.alfworld_state import read_state, state_differences
from reward_score.answer_format import STATE_CLOSE, STATE_OPEN, with_status
from reward_score.results import SECOND_READING
from reward_score.settings import documented_tau

RESULTS = Path(__file__).resolve().parents[1] / "reward_calibration" / "results"
N = "\nTask is not yet completed."
ARRIVE = with_status(
    "You arrive at countertop 1. On the countertop 1, you see a apple 1, a egg 2, and a knife 1.", False
)
OPENED = with_status("You open the drawer 1. The drawer 1 is open. In it, you see nothing.", False)
CABINET = with_status("You open the cabinet 4. The cabinet 4 is open. In it, you see a cloth 2.", False)
SHELF = with_status("You arrive at shelf 2. On the shelf 2, you see a glassbottle 3, and a saltshaker 1.", False)
PICKUP = with_status("You pick up the mug 3 from the desk 2.", False)
MOVE = with_status("You move the book 1 to the sofa 1.", False)
EMPTY = with_status("You are not carrying anything.", False)
DESK = with_status("On the desk 2, you see a mug 3.", False)
DRAWER_ = with_status("You arrive at drawer 10. The drawer 10 is closed.", False)


def tagged(state: str) -> str:
    return f"<think>What the room shows after the action.</think>{STATE_OPEN}{state}{STATE_CLOSE}"


@pytest.mark.parametrize(
    "real, same",
    [
        (ARRIVE, "You reach the countertop 1, where there is a knife 1, an egg 2 and an apple 1." + N),
        (OPENED, "You pull open the drawer 1. It is empty." + N),
        (PICKUP, "You take the mug 3 off the desk 2." + N),
        (with_status("You move the mug 3 to the desk 2.", True), "You put the mug 3 on the desk 2.\nTask completed."),
        (with_status("Nothing happens.", False), "Nothing changes." + N),
        (with_status("You are not carrying anything.", False), "Your hands are empty." + N),
        # the two families: state for event, and a sentence another one implies left out
        (CABINET, "The cabinet 4 is now open, and inside it you see a cloth 2." + N),
        (SHELF, "On the shelf 2, you see a glassbottle 3, and a saltshaker 1." + N),
        (CABINET, "You open the cabinet 4. In it, you see a cloth 2." + N),
        (SHELF, "You see a saltshaker 1 and a glassbottle 3 on the shelf 2." + N),
        (PICKUP, "You picked up the mug 3 from the desk 2." + N),
        (MOVE, "The book 1 is now on the sofa 1." + N),
        (ARRIVE, "You arrive at the countertop #1. On it you see the knife 1, the apple 1 and the egg 2." + N),
        (with_status("You arrive at drawer 2. The drawer 2 is closed.", False), "The drawer 2 is not open." + N),
        (OPENED, "You open the drawer 1. In it, you don't see anything." + N),
        (OPENED, "You open the **drawer 1**. In it: none." + N),  # markdown emphasis; "none" as the empty list
        (SHELF, "You arrive at shelf 2. On the shelf 2, you see: 1. glassbottle 3; 2. saltshaker 1." + N),
        # participle clauses, "it" for the object last moved, verbs of colloquial word classes, reporting frames,
        # posture verbs as what is seen there, asides and command echoes dropped, a numbered list over lines
        (MOVE, "Placing the book 1 on the sofa 1, you leave it there." + N),
        (PICKUP, "You snag the mug 3 off the desk 2." + N),
        (EMPTY, "A glance at your inventory reveals that you are not carrying anything." + N),
        (EMPTY, "Feedback: you haven't got anything on you." + N),
        (DESK, "A mug 3 is lying on the desk 2." + N),
        (SHELF, "You arrive at shelf 2 (unsurprisingly). On the shelf 2, you see a glassbottle 3 and also a saltshaker 1." + N),
        (SHELF, 'After "go to shelf 2", you arrive at shelf 2. On the shelf 2, you see:\n1. a glassbottle 3\n2. a saltshaker 1' + N),
        (OPENED, "You open the drawer 1. Contents: none." + N),
        (with_status("You clean the mug 3 using the sinkbasin 1.", False), "You use the sinkbasin 1 to wash the mug 3." + N),
        # held-out 5: the third person is you; an adverb of the present before "not carrying"; possession; a bullet
        # opening a sentence; recap markers; "visible"/"situated" as what is seen there; an arrow ends a sentence;
        # one object per sentence added to what was just listed there; "nothing of note regarding"
        (SHELF, "The agent arrives at shelf 2. On the shelf 2, the agent sees a glassbottle 3, and a saltshaker 1." + N),
        (PICKUP, "The player quickly picks up the mug 3 from the desk 2." + N),
        (EMPTY, "The agent is not carrying anything." + N),
        (EMPTY, "The player's hands are empty." + N),
        (EMPTY, "You are currently not carrying anything." + N),
        (EMPTY, "You are presently not in possession of any item." + N),
        (EMPTY, "You are still not holding any objects at all." + N),
        (with_status("You are carrying: a vase 1.", False), "You are presently in possession of a vase 1." + N),
        (EMPTY, "- You are not carrying anything." + N),
        (DRAWER_, "- You arrive at drawer 10.\n- The drawer 10 is closed." + N),
        (EMPTY, "You are not carrying anything. In short, your hands are empty." + N),
        (EMPTY, "You are not carrying anything. So, in summary, your hands are empty." + N),
        (DESK, "A mug 3 is visible on the desk 2." + N),
        (DESK, "A mug 3 is situated on the desk 2." + N),
        (SHELF, "You arrive at shelf 2. A glassbottle 3 and a saltshaker 1 are visible on the shelf 2." + N),
        (SHELF, "You arrive at shelf 2 -> On the shelf 2, you see a glassbottle 3, and a saltshaker 1." + N),
        (SHELF, "You arrive at shelf 2 \u2192 On the shelf 2, you see a glassbottle 3, and a saltshaker 1." + N),
        (SHELF, "You arrive at shelf 2. On the shelf 2, you see a glassbottle 3. A saltshaker 1 is there as well." + N),
        (SHELF, "You arrive at shelf 2. On the shelf 2, you see a glassbottle 3. And you see a saltshaker 1 there." + N),
        (SHELF, "You arrive at shelf 2. On the shelf 2, you see a glassbottle 3. You also see a saltshaker 1 there." + N),
        (CABINET, "You open the cabinet 4. The cabinet 4 is open. A cloth 2 is in it as well." + N),
        (with_status("There's nothing special about cd 3.", False), "There is nothing of note regarding cd 3." + N),
        (EMPTY, "You are not carrying anything currently." + N),  # the adverb of the present after the list, too
    ],
)  # fmt: skip
def test_the_same_state_in_other_words_agrees(real, same):
    assert state_differences(real, same) == []


@pytest.mark.parametrize(
    "real, wrong, why",
    [
        (ARRIVE, ARRIVE.replace("egg 2", "egg 1"), "contents countertop 1"),
        (OPENED, OPENED.replace("is open. In it, you see nothing.", "is closed."), "contradiction"),
        (OPENED, OPENED.replace("you see nothing", "you see a pen 1"), "contents drawer 1"),
        (ARRIVE, ARRIVE.replace("Task is not yet completed.", "Task completed."), "task status differs"),
        (with_status("You turn on the desklamp 1.", True), "You turn off the desklamp 1.\nTask completed.", "on desklamp 1"),
        (PICKUP, "You arrive at desk 2." + N, "misses holds mug 3"),
        (ARRIVE, "apple 1, countertop 1, egg 2, knife 1" + N, "unreadable"),
        (ARRIVE, ARRIVE.replace("you see", "you do not see"), "negation"),
        (OPENED, OPENED.replace("is open", "is not open"), "contradiction"),  # negation is read: not open = closed
        (SHELF, SHELF.replace("you see", "you do not see"), "negation"),  # which objects are not there is not a state
        (ARRIVE, "You fail to arrive at countertop 1." + N, "negation"),
        (PICKUP, "You cannot pick up the mug 3 from the desk 2." + N, "negation"),
        (MOVE, "You move the sofa 1 to the book 1." + N, "in sofa 1 = book 1"),
        (ARRIVE, ARRIVE.replace("\nTask", " None of this is true; this did not occur.\nTask"), "negation"),
        (OPENED, OPENED.replace(" open.", " clo\u200bsed."), "contradiction"),
        (ARRIVE, ARRIVE.replace("apple 1", "\u0430pple 1"), "unreadable"),
        (ARRIVE, ARRIVE.replace("Task is not yet completed.", "It is false that: Task completed."), "status"),
        (ARRIVE, ARRIVE.replace("Task is not yet completed.", "Subtask completed."), "status"),
        (ARRIVE, ARRIVE + "\nTask com\u200bpleted.", "status"),
        (OPENED, "Either you open the drawer 1, or nothing happens." + N, "hedge"),
        (OPENED, "You open the drawer 1. The drawer 1 is open. The drawer 1 is closed." + N, "contradiction"),
        (SHELF, "You arrive at shelf 2 or shelf 1 or shelf 3." + N, "hedge"),
        (MOVE, "Placing the sofa 1 on the book 1, you leave it there." + N, "in sofa 1"),
        (with_status("On the desk 2, you see a mug 3, and a pen 1.", False), "A mug 3 is lying on the desk 2." + N, "contents desk 2"),
        (EMPTY, "A glance at your inventory reveals that you are not holding anything, or so it seems." + N, "hedge"),
        (PICKUP, "Feedback: you haven't got the mug 3." + N, "negation"),
        (SHELF, "You arrive at shelf 2 (perhaps). On the shelf 2, you see a glassbottle 3, and a saltshaker 1." + N, "hedge"),
        (SHELF, 'You try "go to shelf 2".' + N, "unreadable"),  # a command echo alone states nothing
        # near misses of the held-out 5 rules: "not" elsewhere stays a negation; an added object; a hedge, a future
        (EMPTY, "You are currently not carrying a mug 3." + N, "negation"),
        (EMPTY, "You are currently carrying nothing, not quite." + N, "negation"),
        (PICKUP, "The agent does not pick up the mug 3 from the desk 2." + N, "negation"),
        (PICKUP, "The player might pick up the mug 3 from the desk 2." + N, "hedge"),
        (EMPTY, "In short, you will not carry anything." + N, "negation"),
        (with_status("You are carrying: a vase 1.", False), "You are presently in possession of a vase 2." + N, "inventory"),
        (SHELF, "You arrive at shelf 2. On the shelf 2, you see a glassbottle 3, and a saltshaker 1. A mug 1 is there as well." + N, "contents shelf 2"),
        (SHELF, "You arrive at shelf 2. On the shelf 2, you see a glassbottle 3. A saltshaker 1 is maybe there as well." + N, "hedge"),
        (SHELF, "You arrive at shelf 2 -> On the shelf 2, you see a glassbottle 3." + N, "contents shelf 2"),
        (DESK, "A mug 1 is visible on the desk 2." + N, "contents desk 2"),
        (with_status("There's nothing special about cd 3.", False), "There is nothing of note regarding cd 2." + N, "examined"),
        (EMPTY, "- You are not carrying anything.\n- You are holding a mug 3." + N, "contradiction"),
    ],
)  # fmt: skip
def test_a_wrong_state_is_named(real, wrong, why):
    differences = state_differences(real, wrong)
    assert any(why in d for d in differences), differences


DRAWER = with_status("You arrive at drawer 10. The drawer 10 is closed.", False)
SOFA = with_status("You arrive at sofa 1. On the sofa 1, you see a box 3, a newspaper 2, and a pillow 1.", False)


@pytest.mark.parametrize(
    "real, same",
    [
        (DRAWER, "Arrived at drawer 10. Closed." + N),
        (SOFA, "Arrived at sofa 1. On it: box 3, newspaper 2, pillow 1." + N),
        (SOFA, "Now at sofa 1 -- box 3, newspaper 2, pillow 1 there." + N),
        (MOVE, "Book 1 now placed upon sofa 1." + N),
    ],
)  # fmt: skip
def test_the_second_reading_accepts_true_fragments_and_says_so(real, same):
    assert state_differences(real, same) == []
    assert read_state(same).unread  # the grammar alone did not read it
    score = compute_score("alfworld", tagged(same), real)
    assert score["score"] == 1.0 and score["facts"] == SECOND_READING, score


@pytest.mark.parametrize(
    "real, wrong, why",
    [
        (DRAWER, "Arrived at drawer 10. Open." + N, "no 'closed' word"),
        (DRAWER, "Arrived at drawer 11. Closed." + N, "names"),
        (SOFA, "Arrived at sofa 1. On it: box 3, newspaper 2." + N, "names"),  # an object left out
        (SOFA, "Arrived at sofa 1. On it: box 3, newspaper 2, pillow 1, vase 9." + N, "names"),
        (MOVE, "Sofa 1 placed upon book 1." + N, "names"),  # roles swapped
        (MOVE, "Book 1 taken from sofa 1." + N, "'put'"),  # another event on the same names
        (DRAWER, "You will arrive at drawer 10. The drawer 10 will be closed." + N, "'will'"),
        (DRAWER, "You would arrive at drawer 10, closed." + N, "'would'"),
        (DRAWER, "You try going to drawer 10, closed." + N, "'try'"),
        (DRAWER, "drawer 10" + N, "no relation word"),
        (DRAWER, "Arrived at drawer 10. Closed." + N.replace("is not yet ", ""), "task status"),
        (SOFA, "Arrived at sofa 1. On the sofa 1 you see a box 3. Also newspaper 2, pillow 1 there." + N, "contents sofa 1"),
    ],
)  # fmt: skip
def test_the_second_reading_refuses_false_fragments_with_its_reason(real, wrong, why):
    differences = state_differences(real, wrong)
    assert any(why in d for d in differences), differences


def test_status_is_read_from_the_last_line_only():
    assert read_state(ARRIVE).status is False
    assert read_state(ARRIVE.replace(N, "\nTask completed.")).status is True
    assert read_state(ARRIVE.replace(N, " Task completed.")).status is None  # not on a line of its own
    assert read_state(ARRIVE + "\n\u200b\n").status is False  # invisible lines are not lines


def test_reader_never_raises_and_reads_no_state_from_noise():
    for text in ("", "\ufffd" * 50, "<think>", "1 2 3", "ok " * 1000, "mug 1 " * 200, "." * 300):
        state = read_state(text)
        assert state.status is None and not state.facts and state.problems


@pytest.fixture(scope="module")
def seen_pairs():
    """160 real transitions of 40 valid_seen games, played by `alfworld_pairs.collect_pairs` and kept in the repo
    (the paraphrase families are made from the same ones); playing them again takes minutes."""
    return read_pairs(RESULTS / "alfworld_families_pairs_valid_seen.jsonl")


def test_every_real_observation_is_readable(seen_pairs):
    """The grammar covers what ALFWorld says: a real state the reader could not read would score every sample 0."""
    texts = {t for p in seen_pairs for t in (p.next_state, p.other_next_state)}
    unreadable = {t: read_state(t).problems for t in texts if read_state(t).problems}
    assert not unreadable and len(texts) > 200


def test_adversarial_corpus_scores_zero_each_with_its_reason(seen_pairs):
    """Every attack class scores 0 through `compute_score_batch`, and its reason names the problem."""
    result = check_attacks(seen_pairs)
    classes = result["classes"]
    passed = {k: row["passed"] for k, row in classes.items() if row["passed"]}
    unnamed = {k: row["n"] - row["reason_named"] for k, row in classes.items() if row["reason_named"] < row["n"]}
    assert not passed, passed
    assert not unnamed, unnamed
    assert len(classes) >= 20 and sum(row["n"] for row in classes.values()) > 400, sorted(classes)


def test_held_out_games_paraphrases_pass_and_wrong_facts_fail(seen_pairs):
    """valid_seen (the calibration used valid_train): the issue's bar, on a sample of games."""
    result = check(seen_pairs, RewardSettings())
    right = result["share_right"]
    print(json.dumps(result, indent=1))
    for kind in KINDS:
        assert right[kind] >= (0.95 if kind in POSITIVE_KINDS else 0.98), (kind, right)


def test_rewrites_keep_or_break_the_state_as_named(seen_pairs):
    rng = random.Random(1)
    scene = sorted({o for p in seen_pairs for o in OBJECT_RE.findall(p.next_state + p.observation)})
    for p in seen_pairs:
        assert state_differences(p.next_state, reorder(p.next_state)) == []
        para = paraphrase(p.next_state, rng)
        assert para is None or para != p.next_state
        swapped = swap_object(p.next_state, scene, rng)
        if swapped is not None:
            assert state_differences(p.next_state, swapped)
        flipped = flip_fact(p.next_state, scene, rng)
        assert flipped is not None and state_differences(p.next_state, flipped[1])


def test_calibration_files_agree_with_the_documented_settings():
    """The JSON kept in the repo is what the documented tau was derived from, and its check met the bar."""
    saved = json.loads((RESULTS / "all-MiniLM-L6-v2_alfworld_valid_train.json").read_text())
    settings = RewardSettings()
    assert settings.mode_for("alfworld") == "facts"
    assert saved["facts"]["recommended_tau"] == documented_tau(settings.model, "alfworld", "facts")
    assert saved["binary"]["recommended_tau"] == documented_tau(settings.model, "alfworld", "binary")
    checked = json.loads((RESULTS / "all-MiniLM-L6-v2_alfworld_valid_seen_check.json").read_text())
    assert checked["mode"] == "facts" and checked["tau"] == settings.tau_for("alfworld")
    for kind, share in checked["share_right"].items():
        assert share >= (0.95 if kind in POSITIVE_KINDS else 0.98), (kind, share)
    attacked = json.loads((RESULTS / "all-MiniLM-L6-v2_alfworld_valid_seen_attacks.json").read_text())
    assert attacked["tau"] == settings.tau_for("alfworld")
    for kind, row in attacked["classes"].items():
        assert row["share_rejected"] >= 0.98, (kind, row)
    assert (RESULTS / "all-MiniLM-L6-v2_alfworld_valid_train.png").read_bytes()[:4] == b"\x89PNG"


def test_readme_tables_are_the_result_files():
    """The README's family and attack tables are what `alfworld_reader_tables` prints from the JSON files."""
    readme = (RESULTS.parents[1] / "README.md").read_text()
    assert families_table() in readme
    assert attacks_table() in readme

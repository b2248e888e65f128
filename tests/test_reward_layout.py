"""Presentation around a prediction -- code fences, quotation marks, emoji, markdown tables, questions answered in
turn, records (JSON, YAML, XML), labels and headings -- is taken off before the state reader reads it
(`reward_score/alfworld_layout.py`, `alfworld_records.py`): the true state in such a wrapper agrees, a false or
denied one inside the same wrapper is still refused with its reason, and so is a disclaimer said in a word."""

# ruff: noqa: E501 - tables of real and predicted states read best one per line

from __future__ import annotations

import pytest

from reward_score.alfworld_state import state_differences
from reward_score.answer_format import with_status

N = "\nTask is not yet completed."
SOFA = with_status("You arrive at sofa 1. On the sofa 1, you see a box 3, a newspaper 2, and a pillow 1.", False)
DRAWER = with_status("You arrive at drawer 10. The drawer 10 is closed.", False)
FRIDGE = with_status("You open the fridge 1. The fridge 1 is open. In it, you see a bowl 3, and a egg 2.", False)
PICKUP = with_status("You pick up the box 3 from the sofa 1.", False)
MOVE = with_status("You move the creditcard 1 to the drawer 3.", False)
EMPTY = with_status("You are not carrying anything.", False)
SINK = with_status("You arrive at sinkbasin 1. On the sinkbasin 1, you see a soapbottle 1.", False)
ROOM = with_status(
    "You are in the middle of a room. Looking quickly around you, you see a cabinet 1, and a sofa 1.", False
)
SPECIAL = with_status("There's nothing special about cd 3.", False)
TABLE_SEEN = "| place | what you see |\n|---|---|\n"
TABLE_STATE = "| receptacle | state |\n|---|---|\n"


@pytest.mark.parametrize(
    "real, same",
    [
        (SOFA, "```\nYou arrive at sofa 1. On the sofa 1, you see a box 3, a newspaper 2, and a pillow 1.\n```" + N),
        (SOFA, "```text\nYou arrive at sofa 1. On the sofa 1, you see a box 3, a newspaper 2, and a pillow 1.\nTask is not yet completed.\n```"),
        (SOFA, "\u201cYou arrive at sofa 1. On the sofa 1, you see a box 3, a newspaper 2, and a pillow 1.\u201d" + N),
        (SOFA, '"You arrive at sofa 1. On the sofa 1, you see a box 3, a newspaper 2, and a pillow 1.\nTask is not yet completed."'),
        (DRAWER, "'You arrive at drawer 10.\nThe drawer 10 is closed.'" + N),
        (DRAWER, "\U0001f4cd You arrive at drawer 10. \U0001f512 The drawer 10 is closed." + N),
        (EMPTY, "\U0001f392 You are not carrying anything." + N),
        (with_status("Nothing happens.", False), "\u26a0\ufe0f Nothing happens." + N),
        (SOFA, "You arrive at sofa 1.\n\n" + TABLE_SEEN + "| on the sofa 1 | a box 3, a newspaper 2, and a pillow 1 |" + N),
        (DRAWER, "You arrive at drawer 10.\n\n" + TABLE_STATE + "| drawer 10 | closed |" + N),
        (FRIDGE, "You open the fridge 1.\n\n" + TABLE_STATE + "| fridge 1 | open |\n\n" + TABLE_SEEN + "| in the fridge 1 | a bowl 3, an egg 2 |" + N),
        (FRIDGE, "You open the fridge 1.\n| receptacle | state | contents |\n|:---|:---:|---|\n| fridge 1 | open | bowl 3, egg 2 |" + N),
        (ROOM, "You are in the middle of a room.\n" + TABLE_SEEN + "| around you | a cabinet 1, and a sofa 1 |" + N),
        (SOFA, "You arrive at sofa 1. What do you see on the sofa 1? A box 3, a newspaper 2, and a pillow 1." + N),
        (SOFA, "You arrive at sofa 1. What's on the sofa 1? A box 3, a newspaper 2, and a pillow 1." + N),
        (DRAWER, "You arrive at drawer 10. What state is the drawer 10 in? It is closed." + N),
        (DRAWER, "You arrive at drawer 10. Is the drawer 10 closed? Yes, it is closed." + N),
        (DRAWER, "You arrive at drawer 10. Is the drawer 10 closed? Yes." + N),
        (PICKUP, "What do you pick up from the sofa 1? The box 3." + N),
        (MOVE, "Where do you move the creditcard 1? To the drawer 3." + N),
        (EMPTY, "What are you carrying? Nothing." + N),
        (with_status("Nothing happens.", False), "What happens? Nothing." + N),
        (ROOM, "Where are you? In the middle of a room. What do you see around you? A cabinet 1, and a sofa 1." + N),
        (SPECIAL, "Anything special about cd 3? There's nothing special about it." + N),
        (MOVE, "As for the creditcard 1, you move it to the drawer 3." + N),
        (EMPTY, "As for your hands, you are not carrying anything." + N),
        (MOVE, "As for the drawer 3, you move the creditcard 1 to it." + N),
    ],
)  # fmt: skip
def test_the_true_state_in_a_wrapper_agrees(real, same):
    assert state_differences(real, same) == []


@pytest.mark.parametrize(
    "real, wrong, why",
    [
        (SOFA, "```\nYou arrive at sofa 1. On the sofa 1, you see a box 3, and a pillow 1.\n```" + N, "contents sofa 1"),
        (DRAWER, "\u201cYou arrive at drawer 10. The drawer 10 is open.\u201d" + N, "open drawer 10"),
        (DRAWER, 'You arrive at drawer 10. The drawer 10 is closed.\n"Task is not yet completed."', "status"),  # only the status quoted
        (DRAWER, "You arrive at drawer 10. \u274c The drawer 10 is closed." + N, "negation"),  # a mark of denial is a "not"
        (DRAWER, "You arrive at drawer 10. \U0001f6ab The drawer 10 is closed." + N, "negation"),
        (DRAWER, "You arrive at drawer 10.\n" + TABLE_STATE + "| drawer 10 | not closed |" + N, "open drawer 10"),
        (DRAWER, "You arrive at drawer 10.\n" + TABLE_STATE + "| drawer 10 | open |" + N, "open drawer 10"),
        (SOFA, "You arrive at sofa 1.\n| place | what you will see |\n|---|---|\n| on the sofa 1 | a box 3, a newspaper 2, and a pillow 1 |" + N, "unreadable"),
        (SOFA, "You arrive at sofa 1.\n| place | what you do not see |\n|---|---|\n| on the sofa 1 | a box 3, a newspaper 2, and a pillow 1 |" + N, "negation"),
        (SOFA, "You arrive at sofa 1.\n" + TABLE_SEEN + "| on the sofa 1 | a box 3, a newspaper 2 |" + N, "contents sofa 1"),
        (SOFA, "You arrive at sofa 1. What do you see on the sofa 1?" + N, "question"),  # a question states nothing
        (SOFA, "You arrive at sofa 1. What do you see on the sofa 1? Maybe a box 3, a newspaper 2, and a pillow 1." + N, "hedge"),
        (DRAWER, "You arrive at drawer 10. Is the drawer 10 closed? No." + N, "open drawer 10"),  # "not closed" is read: open
        (DRAWER, "You arrive at drawer 10. Is the drawer 10 closed? Perhaps." + N, "question"),
        (PICKUP, "What do you pick up from the sofa 1? The pillow 1." + N, "holds"),
        (MOVE, "As for the creditcard 1, you move the drawer 3 to it." + N, "in drawer 3"),  # roles swapped
    ],
)  # fmt: skip
def test_a_false_state_in_a_wrapper_is_refused_with_its_reason(real, wrong, why):
    differences = state_differences(real, wrong)
    assert any(why in d for d in differences), differences


@pytest.mark.parametrize(
    "real, same",
    [
        (DRAWER, '{"location": "drawer 10", "drawer 10": "closed"}' + N),
        (DRAWER, '{\n  "location": "drawer 10",\n  "drawer 10": {\n    "state": "closed"\n  }\n}' + N),
        (FRIDGE, '{"event": "You open the fridge 1.", "fridge 1": "open", "in the fridge 1": ["bowl 3", "egg 2"]}' + N),
        (EMPTY, '{"carrying": []}' + N),
        (DRAWER, "location: drawer 10\ndrawer 10:\n  state: closed" + N),
        (FRIDGE, "observation:\n  event: You open the fridge 1.\n  fridge 1:\n    state: open\n    in it:\n      - a bowl 3\n      - an egg 2" + N),
        (SOFA, "---\nlocation: sofa 1\non the sofa 1: [box 3, newspaper 2, pillow 1]" + N),
        (DRAWER, "<observation><arrival>You arrive at drawer 10.</arrival><state>The drawer 10 is closed.</state></observation>" + N),
        (SOFA, '<location>sofa 1</location><on receptacle="sofa 1"><object>box 3</object><object>newspaper 2</object><object>pillow 1</object></on>' + N),
        (DRAWER, '<location>drawer 10</location>\n<state receptacle="drawer 10">closed</state>' + N),
        (DRAWER, "**Position:** You arrive at drawer 10.\n**Condition:** The drawer 10 is closed." + N),
        (DRAWER, "### Where you are\nYou arrive at drawer 10.\n\n### Receptacle state\nThe drawer 10 is closed." + N),
        (DRAWER, "## Drawer 10\nYou arrive at drawer 10. The drawer 10 is closed." + N),  # a title naming the place
        (EMPTY, "Sure, here is what you observe next:\nYou are not carrying anything." + N),
        (DRAWER, "Certainly. The environment responds: You arrive at drawer 10. The drawer 10 is closed." + N),
        (EMPTY, "Friend, you are not carrying anything." + N),
        (SOFA, "You arrive at sofa 1, adventurer. On the sofa 1, you see a box 3, a newspaper 2, and a pillow 1." + N),
        (SOFA, "u arrive at sofa 1. on the sofa 1, u see a box 3, a newspaper 2 & a pillow 1" + N),
        (SOFA, "You arrive at sofa 1. On the sofa 1, your eyes fall on a box 3, a newspaper 2, and a pillow 1." + N),
        (EMPTY, "You are not carrying anything at the moment." + N),
    ],
)  # fmt: skip
def test_a_record_or_a_label_of_the_true_state_agrees(real, same):
    assert state_differences(real, same) == []


@pytest.mark.parametrize(
    "real, wrong, why",
    [
        (DRAWER, '{"location": "drawer 10", "drawer 10": "open"}' + N, "open drawer 10"),
        (DRAWER, '{"location": "drawer 10", "not seen": "drawer 10 closed"}' + N, "negation"),  # a key outside the list
        (FRIDGE, '{"event": "You open the fridge 1.", "in the fridge 1": ["bowl 3", "egg 2", "mug 1"]}' + N, "contents fridge 1"),
        (DRAWER, "location: drawer 11\ndrawer 11: closed" + N, "drawer 11"),
        (DRAWER, "<guess><arrival>You arrive at drawer 10.</arrival></guess>" + N, "unreadable"),
        (DRAWER, "Unverified: You arrive at drawer 10. The drawer 10 is closed." + N, "unverified"),
        (DRAWER, "False: You arrive at drawer 10. The drawer 10 is closed." + N, "false"),
        (DRAWER, "### Unlikely outcome\nYou arrive at drawer 10. The drawer 10 is closed." + N, "unlikely"),
        (DRAWER, "## Drawer 11\nYou arrive at drawer 10. The drawer 10 is closed." + N, "only names"),  # a title naming another
        (DRAWER, "You arrive at drawer 10. The drawer 10 is closed. Just kidding." + N, "kidding"),
        (DRAWER, "You arrive at drawer 10. The drawer 10 is closed. Lovely." + N, "names nothing"),
        (DRAWER, "You arrive at drawer 10 (unlikely). The drawer 10 is closed." + N, "unlikely"),
    ],
)  # fmt: skip
def test_a_false_record_or_a_disclaimer_is_refused_with_its_reason(real, wrong, why):
    differences = state_differences(real, wrong)
    assert any(why in d for d in differences), differences


@pytest.mark.parametrize(
    "real, same",
    [
        (SOFA, "Unto the sofa 1 you come. Upon the sofa 1 you behold a box 3, a newspaper 2, and a pillow 1." + N),
        (EMPTY, "Naught do you carry." + N),
        (DRAWER, "Lo, you arrive at drawer 10. The drawer 10 standeth closed." + N),
        (SOFA, "We arrive at sofa 1. On the sofa 1, we see a box 3, a newspaper 2, and a pillow 1." + N),
        (EMPTY, "Sadly, you are not carrying anything." + N),
        (SOFA, "You arrive at sofa 1. On the sofa 1, you see a box 3, a newspaper 2, and a pillow 1, and nothing else." + N),
        (DRAWER, "> You arrive at drawer 10.\n> The drawer 10 is closed." + N),  # a markdown blockquote
        (DRAWER, "You arrive at drawer 10. The drawer 10 is closed. What do you do next?" + N),  # a prompt to the player
        (DRAWER, "You arrive at drawer number ten. The drawer number ten is closed." + N),
        (SOFA, "You arrive at sofa one. On the sofa one, you see a box three, a newspaper two, and a pillow one." + N),
        (DRAWER, "[Step 4] You arrive at drawer 10. The drawer 10 is closed." + N),
        (DRAWER, "Step 4: You arrive at drawer 10.\nThe drawer 10 is closed." + N),
        (DRAWER, "The game tells you that you arrive at drawer 10, and that the drawer 10 is closed." + N),
        (MOVE, "You move the creditcard (creditcard 1) to the drawer (drawer 3)." + N),
        (SOFA, "You arrive at sofa 1. On the sofa 1, you see a box 3; a newspaper 2; and a pillow 1." + N),
        (SINK, "You arrive at sink basin 1. On the sink-basin 1, you see a soap bottle 1." + N),
        (DRAWER, "You arrive at `drawer_10`. The drawer-10 is closed." + N),
        (PICKUP, "You pick up the box3 from the sofa1." + N),
        (FRIDGE, "You open the fridge 1. The fridge 1 is no longer closed. In it, you see a bowl 3, and a egg 2." + N),
        (SOFA, "You arrive at sofa 1. Apart from a box 3, a newspaper 2, and a pillow 1, there is nothing on the sofa 1." + N),
        (SOFA, "You arrive at sofa 1. On the sofa 1, you see nothing but a box 3, a newspaper 2, and a pillow 1." + N),
        (DRAWER, "You arrive at drawer 10. The drawer 10 is closed, so you can't see inside it." + N),
        (SOFA, "You arrive at sofa 1. On the sofa 1, you see a box 3, a newspaper 2, and a pillow 1. You could take any of them." + N),
        (EMPTY, "You are not carrying anything, so your hands are free." + N),
        (DRAWER, "Command: go to drawer 10\nYou arrive at drawer 10 \u2014 the drawer 10 is closed." + N),
    ],
)  # fmt: skip
def test_another_register_of_the_true_state_agrees(real, same):
    """Storybook English, "we", a stance adverb, a list closed as complete, a blockquote, a closing prompt to the
    player, numbers as words, a transcript's step tag, the game's words reported, a name after its kind, a list in
    semicolons, names as English compounds or code identifiers, a state as its opposite denied, a list as the exception
    to nothing, what a clause implies for the player said after it, the command echoed, clauses joined by a dash:
    `reward_score/alfworld_register.py` says each in the game's words."""
    assert state_differences(real, same) == []


@pytest.mark.parametrize(
    "real, wrong, why",
    [
        (SOFA, "Unto the sofa 1 you come. Upon the sofa 1 you behold a box 3, and a pillow 1." + N, "contents sofa 1"),
        (DRAWER, "We arrive at drawer 10. The drawer 10 is open." + N, "open drawer 10"),
        (EMPTY, "Sadly, you are carrying the box 3." + N, "holds"),
        (DRAWER, "You arrive at drawer 10. Is the drawer 10 closed?" + N, "question"),  # a question naming a thing
        (DRAWER, "You arrive at drawer 10. The drawer 10 is closed. Is it open?" + N, "question"),  # asks of a state
        (DRAWER, "> You arrive at drawer 10.\n> The drawer 10 is not closed." + N, "open drawer 10"),
        (DRAWER, "You arrive at drawer number eleven. The drawer number eleven is closed." + N, "drawer 11"),
        (DRAWER, "Step 4: You arrive at drawer 10. The drawer 10 is open." + N, "open drawer 10"),
        (DRAWER, "The game does not say that you arrive at drawer 10." + N, "negation"),
        (MOVE, "You move the creditcard (creditcard 2) to the drawer (drawer 3)." + N, "misses in creditcard 1"),
        (SINK, "You arrive at sink basin 2. On the sink basin 2, you see a soap bottle 1." + N, "at: sinkbasin 2"),
        (DRAWER, "You arrive at drawer_11. The drawer_11 is closed." + N, "at: drawer 11"),
        (DRAWER, "You arrive at drawer 10. The drawer 10 is no longer closed." + N, "open drawer 10"),
        (SOFA, "You arrive at sofa 1. Apart from a box 3 and a pillow 1, there is nothing on the sofa 1." + N, "contents sofa 1"),
        (SOFA, "You arrive at sofa 1. On the sofa 1, you see nothing but a box 3." + N, "contents sofa 1"),
        # a remark is dropped only right after the clause it restates: here it denies what the clause says
        (DRAWER, "You arrive at drawer 10. The drawer 10 is open, so you can't see inside it." + N, "negation"),
        (SOFA, "You arrive at sofa 1. On the sofa 1, you see a box 3, a newspaper 2, and a pillow 1. You could take the mug 1." + N, "hedge"),
        (EMPTY, "You are carrying a pen 1, so your hands are free." + N, "contradiction"),
    ],
)  # fmt: skip
def test_another_register_of_a_false_state_is_refused(real, wrong, why):
    differences = state_differences(real, wrong)
    assert any(why in d for d in differences), differences

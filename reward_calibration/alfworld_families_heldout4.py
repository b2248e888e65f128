"""FOURTH held-out paraphrase families of real ALFWorld next states: the fourth holdout set, NOT for development.

Do not read these families, their corpus or their results while writing or tuning a fact reader: they measure
how a reader does on rewordings it was not built against. They were written without reading the fact reader. They
follow the interface of `reward_calibration.family_framework` (a family is `(Transition) -> str | None`, None where it
does not apply; the world state is kept exactly and the task-status line stays verbatim as the last line), and
reword in kinds that neither the dev families nor the first three held-out sets use, chosen for how people and
instruction-tuned models asked to "predict the next observation" restate a state: participle clauses that merge
an event with what it shows ("Having arrived at sofa 1, you see a box 3 on it."), "with" absolute phrases ("You
arrive at sofa 1, with a box 3 on it."), the receptacle as the subject of has/contains/holds ("The drawer 1
contains a pen 2."), locative inversion ("On the sofa 1 sit a box 3 and a pillow 1."), the things as the subject
of a posture verb ("A box 3 sits on the sofa 1."), coordinated actions ("You walk over to the sofa 1 and see
..."), a look as the subject of reveal/show ("A quick look around reveals ..."), colloquial phrasal verbs ("You
head over to ...", "You scoop up ...", "You flick on ..."), and a label before the observation ("Observation:").

    python -m reward_calibration.alfworld_families --families heldout4 --out DIR --label before
"""

from __future__ import annotations

import random

from reward_calibration.family_framework import (
    Family,
    Sentence,
    Transition,
    after,
    all_known,
    capital,
    family,
    in_on,
    inside,
    next_of_kind,
    stepwise,
    things,
)

_RESULT = {"heat": "hot", "cool": "cool", "clean": "clean"}


def _many(s: Sentence) -> bool:
    return len(s.items) > 1


# -- participle clauses -----------------------------------------------------------------------------------------
def _participle(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """Participle clauses merging an event with what it shows: 'Having arrived at sofa 1, you see a box 3 on it.',
    'Upon arriving at the drawer 10, you find it closed.', 'After opening the cabinet 1, you see a mug 1 inside
    it.', 'Standing in the middle of a room and looking quickly around, you see ...', and a result told after
    the event: 'You cool the pan 1 using the fridge 1, leaving it cool.'"""
    s = sents[i]
    new, step = s.text, 1
    if s.kind == "arrive":
        lead = rng.choice(
            (f"Having arrived at {s.a}", f"Upon arriving at the {s.a}", f"Arriving at the {s.a}",
             f"After arriving at {s.a}")
        )  # fmt: skip
        on, state = after(sents, i, "on"), after(sents, i, "is_open", "is_closed")
        if on:
            new, step = f"{lead}, you see {things(on)} {in_on(s.a)} it.", 2
        elif state:
            new, step = f"{lead}, you find it {'open' if state.kind == 'is_open' else 'closed'}.", 2
    elif s.kind == "open" and after(sents, i, "is_open") and (seen := next_of_kind(sents, i + 1, "in_it")):
        lead = rng.choice(("Having opened", "After opening", "Upon opening"))
        new, step = f"{lead} the {s.a}, you see {things(seen)} inside it.", 3
    elif s.kind == "middle" and (around := next_of_kind(sents, i, "around")):
        new, step = f"Standing in the middle of a room and looking quickly around, you see {things(around)}.", 2
    elif s.kind == "facing" and (beside := next_of_kind(sents, i, "next_to")):
        new, step = f"Facing the {s.listed}, you see {things(beside)} next to it.", 2
    elif s.kind == "on":
        new = f"Looking at the {s.a}, you see {things(s)} {in_on(s.a)} it."
    elif s.kind == "is_closed" and i == 0:
        new = f"Looking at the {s.a}, you see that it is closed."
    elif s.kind == "pick":
        new = f"Reaching for the {s.a} {in_on(s.b)} the {s.b}, you pick it up."
    elif s.kind == "move":
        new = f"Moving the {s.a} to the {s.b}, you set it down there."
    elif s.kind == "close":
        new = f"You close the {s.a}, leaving it shut."
    elif s.kind == "treat":
        new = f"You {s.verb} the {s.a} using the {s.b}, leaving it {_RESULT[s.verb]}."
    elif s.kind == "turn":
        new = f"Reaching for the {s.a}, you turn it {s.verb}."
    elif s.kind == "slice":
        new = f"You slice the {s.a} with the {s.b}, leaving it in slices."
    elif s.kind == "special":
        new = f"Examining the {s.a} closely, you find nothing special about it."
    elif s.kind == "carrying":
        new = f"Checking your inventory, you find that you are carrying {things(s)}."
    elif s.kind == "not_carrying":
        new = "Checking your inventory, you find that you are not carrying anything."
    elif s.kind == "nothing":
        new = "Having tried that, you see that nothing happens."
    elif s.kind == "this_is":
        new = f"Examining it closely, you see that this is a {s.verb} {s.a}."
    return new, step


# -- "with" absolute phrases ------------------------------------------------------------------------------------
def _with_absolute(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """'With' absolute phrases carrying what is seen: 'You arrive at sofa 1, with a box 3 and a pillow 1 on it.',
    'You open the cabinet 1, with a mug 1 inside.', 'You are in the middle of a room, with a bed 1 ... around
    you.', 'You are standing with a vase 1 in your hand.'"""
    s = sents[i]
    new, step = s.text, 1
    if s.kind == "arrive" and (on := after(sents, i, "on")):
        where = in_on(s.a) if inside(s.a) else rng.choice(("on", "on", "on top of"))
        new, step = f"You arrive at {s.a}, with {things(on)} {where} it.", 2
    elif s.kind == "open" and after(sents, i, "is_open") and (seen := next_of_kind(sents, i + 1, "in_it")):
        if rng.random() < 0.5:
            new, step = f"You open the {s.a}, with {things(seen)} inside.", 3
        else:
            new, step = f"You open the {s.a}. It is now open, with {things(seen)} inside.", 3
    elif s.kind == "is_open" and (seen := next_of_kind(sents, i, "in_it")):
        new, step = f"The {s.a} is open, with {things(seen)} inside.", 2
    elif s.kind == "middle" and (around := next_of_kind(sents, i, "around")):
        new, step = f"You are in the middle of a room, with {things(around)} around you.", 2
    elif s.kind == "facing" and (beside := next_of_kind(sents, i, "next_to")):
        new, step = f"You are facing the {s.listed}, with {things(beside)} next to it.", 2
    elif s.kind == "carrying":
        new = f"You are standing with {things(s)} in your {'hands' if _many(s) else 'hand'}."
    elif s.kind == "not_carrying":
        new = "You are standing with nothing in your hands."
    return new, step


# -- the receptacle as the subject of has/contains/holds --------------------------------------------------------
def _holder(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The receptacle as the subject of has/contains/holds: 'The sofa 1 has a box 3 and a pillow 1 on it.', 'The
    drawer 1 contains a pen 2.', 'The room contains a bed 1, ...', 'Your inventory contains a vase 1.'"""
    if not all_known(sents):
        return None
    out: list[str] = []
    named = ""  # the receptacle 'it' refers to
    for s in sents:
        new = s.text
        if s.kind in ("arrive", "open", "is_open", "is_closed"):
            named = s.a
        if s.kind == "on":
            if inside(s.a):
                new = f"The {s.a} {rng.choice(('contains', 'holds'))} {things(s)}."
            else:
                new = rng.choice((f"The {s.a} has {things(s)} on it.", f"The {s.a} holds {things(s)}."))
        elif s.kind == "in_it":
            subject = rng.choice((f"The {named}", "It")) if named else "It"
            new = f"{subject} {rng.choice(('contains', 'holds'))} {things(s)}."
        elif s.kind == "around" and s.items:
            new = rng.choice((f"The room contains {things(s)}.", f"The room has {things(s)} in it."))
        elif s.kind == "next_to":
            new = f"It has {things(s)} next to it."
        elif s.kind == "carrying":
            hold = "hands hold" if _many(s) else "hand holds"
            new = rng.choice((f"Your inventory contains {things(s)}.", f"Your {hold} {things(s)}."))
        elif s.kind == "not_carrying":
            new = rng.choice(("Your inventory is empty.", "Your inventory contains nothing."))
        elif s.kind == "move":
            new = f"You move the {s.a} to the {s.b}; the {s.b} now holds it."
        elif s.kind == "pick":
            new = f"You pick up the {s.a} from the {s.b}; your hand now holds it."
        out.append(new)
    text = " ".join(out)
    return text if text != " ".join(s.text for s in sents) else None


# -- locative inversion -----------------------------------------------------------------------------------------
def _inverted(s: Sentence, rng: random.Random, place: str) -> str:
    """'{place} are/sit/lie a A and a B.' with the verb agreeing with the things."""
    verb = rng.choice((("is", "are"), ("is", "are"), ("sits", "sit"), ("lies", "lie"), ("rests", "rest")))
    return f"{place} {verb[_many(s)]} {things(s)}."


def _inversion(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """Locative inversion, the place first and the things after the verb: 'On the sofa 1 sit a box 3, a newspaper
    2, and a pillow 1.', 'Inside it is a mug 1.', 'All around you are ...', 'In your hand is a vase 1.'
    Lists of nothing stay as they are."""
    s = sents[i]
    new = s.text
    if s.items and s.kind == "on":
        place = f"{in_on(s.a)} the {s.a}"
        if rng.random() < 0.2:
            new = f"Sitting {place} {'are' if _many(s) else 'is'} {things(s)}."
        else:
            new = _inverted(s, rng, capital(place))
    elif s.items and s.kind == "in_it":
        new = _inverted(s, rng, rng.choice(("Inside it", "In it")))
    elif s.items and s.kind == "next_to":
        new = _inverted(s, rng, rng.choice(("Next to it", "Right next to it")))
    elif s.items and s.kind == "around":
        new = f"{rng.choice(('All around you', 'Around you'))} {'are' if _many(s) else 'is'} {things(s)}."
    elif s.items and s.kind == "carrying":
        new = f"In your {'hands are' if _many(s) else 'hand is'} {things(s)}."
    return new, 1


# -- the things as the subject of a posture verb ----------------------------------------------------------------
_POSTURE = (("sits", "sit"), ("is sitting", "are sitting"), ("lies", "lie"), ("rests", "rest"), ("is", "are"))


def _posture_rule(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """The things as the subject, with a posture verb: 'A box 3, a newspaper 2, and a pillow 1 sit on the sofa
    1.', 'A mug 1 is sitting inside it.', 'A cellphone 3 is next to it.' Lists of nothing stay as they are."""
    s = sents[i]
    new = s.text
    verb = rng.choice(_POSTURE)[_many(s)]
    if s.items and s.kind == "on":
        new = f"{capital(things(s))} {verb} {in_on(s.a)} the {s.a}."
    elif s.items and s.kind == "in_it":
        new = f"{capital(things(s))} {verb} inside it."
    elif s.items and s.kind == "next_to":
        new = f"{capital(things(s))} {verb} next to it."
    elif s.items and s.kind == "around":
        new = f"{capital(things(s))} {('is', 'are')[_many(s)]} around you."
    return new, 1


# -- coordinated actions ----------------------------------------------------------------------------------------
_WALK = ("walk over to", "head to", "go to", "make your way to", "walk up to")


def _coordinated(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """Two actions coordinated with 'and', as one tells what one did: 'You walk over to the sofa 1 and see a box 3
    on it.', 'You open the cabinet 1 and see a mug 1 inside.', 'You reach over and pick up the box 3 from the sofa
    1.', 'You check your inventory and see that you are carrying a vase 1.', 'You try, but nothing happens.'"""
    s = sents[i]
    new, step = s.text, 1
    if s.kind == "arrive":
        walk = rng.choice(_WALK)
        on, state = after(sents, i, "on"), after(sents, i, "is_open", "is_closed")
        if on:
            new, step = f"You {walk} the {s.a} and see {things(on)} {in_on(s.a)} it.", 2
        elif state and state.kind == "is_closed":
            new, step = f"You {walk} the {s.a}, and it is closed.", 2
        elif state and (seen := next_of_kind(sents, i + 1, "in_it")):
            new, step = f"You {walk} the {s.a}; it is open, and inside it you see {things(seen)}.", 3
        else:
            new = f"You {walk} the {s.a}."
    elif s.kind == "open" and after(sents, i, "is_open") and (seen := next_of_kind(sents, i + 1, "in_it")):
        new, step = f"You open the {s.a} and see {things(seen)} inside.", 3
    elif s.kind == "close":
        new = f"You reach out and close the {s.a}."
    elif s.kind == "pick":
        new = f"You reach {rng.choice(('over', 'out'))} and pick up the {s.a} from the {s.b}."
    elif s.kind == "move":
        new = f"You reach over and put the {s.a} {in_on(s.b)} the {s.b}."
    elif s.kind == "treat":
        new = f"You {s.verb} the {s.a} using the {s.b}, and now it is {_RESULT[s.verb]}."
    elif s.kind == "turn":
        new = f"You reach out and turn {s.verb} the {s.a}."
    elif s.kind == "slice":
        new = f"You grip the {s.b} and slice the {s.a} with it."
    elif s.kind == "around":
        new = f"You look quickly around and see {things(s)}."
    elif s.kind == "facing" and (beside := next_of_kind(sents, i, "next_to")):
        new, step = f"You are facing the {s.listed} and see {things(beside)} next to it.", 2
    elif s.kind == "special":
        new = f"You examine the {s.a} and find nothing special about it."
    elif s.kind == "this_is":
        new = f"You examine it and see that this is a {s.verb} {s.a}."
    elif s.kind == "carrying":
        new = f"You check your inventory and see that you are carrying {things(s)}."
    elif s.kind == "not_carrying":
        new = "You check your inventory and find that you are not carrying anything."
    elif s.kind == "nothing":
        new = "You try, but nothing happens."
    elif s.kind == "on" and i == 0:
        new = f"You look at the {s.a} and see {things(s)} {in_on(s.a)} it."
    elif s.kind == "is_closed" and i == 0:
        new = f"You look at the {s.a} and see that it is closed."
    return new, step


# -- a look as the subject of reveal/show -----------------------------------------------------------------------
def _reveal(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """A look (or an action) as the subject of reveal/show: 'A look at the sofa 1 reveals a box 3 on it.', 'A
    quick look around reveals ...', 'Opening the cabinet 1 reveals a mug 1 inside.', 'A closer look at cd 3
    reveals nothing special about it.', 'A check of your inventory shows a vase 1.'"""
    s = sents[i]
    new, step = s.text, 1
    shows = rng.choice(("reveals", "reveals", "shows"))
    if s.kind == "on":
        look = rng.choice(("A look at", "A quick look at", "A glance at"))
        new = f"{look} the {s.a} {shows} {things(s)} {in_on(s.a)} it."
    elif s.kind == "is_closed":
        new = f"A {rng.choice(('look', 'glance'))} {shows} that the {s.a} is closed."
    elif s.kind == "open" and after(sents, i, "is_open") and (seen := next_of_kind(sents, i + 1, "in_it")):
        new, step = f"Opening the {s.a} {shows} {things(seen)} inside it.", 3
    elif s.kind == "in_it":
        new = f"A look inside {shows} {things(s)}."
    elif s.kind == "around":
        new = f"A quick look around {shows} {things(s)}."
    elif s.kind == "next_to":
        new = f"A glance next to it {shows} {things(s)}."
    elif s.kind == "special":
        new = f"A closer look at {s.a} {shows} nothing special about it."
    elif s.kind == "this_is":
        new = f"A closer look {shows} that this is a {s.verb} {s.a}."
    elif s.kind == "carrying":
        new = f"A check of your inventory {shows} {things(s)}."
    elif s.kind == "not_carrying":
        new = f"A check of your inventory {shows} that you are not carrying anything."
    elif s.kind == "nothing":
        new = "Your action has no effect."
    return new, step


# -- colloquial phrasal verbs -----------------------------------------------------------------------------------
def _treat_colloquial(s: Sentence, rng: random.Random) -> str:
    kind = s.b.split()[0]
    if rng.random() < 0.3:
        up = " up" if s.verb == "heat" else ""
        return f"You use the {s.b} to {s.verb}{up} the {s.a}."
    if s.verb == "heat":
        return f"You zap the {s.a} in the {s.b}." if kind == "microwave" else f"You heat up the {s.a} on the {s.b}."
    if s.verb == "cool":
        return f"You cool down the {s.a} in the {s.b}."
    return f"You scrub the {s.a} clean in the {s.b}."


_GO = ("head over to", "walk over to", "wander over to", "make your way over to")
_COLLOQUIAL = {
    "arrive": lambda s, r: f"You {r.choice(_GO)} the {s.a}.",
    "open": lambda s, r: r.choice((f"You open up the {s.a}.", f"You yank open the {s.a}.", f"You tug the {s.a} open.")),
    "close": lambda s, r: r.choice((f"You close up the {s.a}.", f"You slam the {s.a} shut.")),
    "pick": lambda s, r: r.choice((f"You scoop up the {s.a} from the {s.b}.", f"You snag the {s.a} from the {s.b}.")),
    "move": lambda s, r: r.choice(
        (f"You stick the {s.a} {in_on(s.b)} the {s.b}.", f"You drop the {s.a} off {in_on(s.b)} the {s.b}.")
    ),
    "treat": _treat_colloquial,
    "turn": lambda s, r: r.choice((f"You flick {s.verb} the {s.a}.", f"You flip the {s.a} {s.verb}.")),
    "slice": lambda s, r: f"You chop up the {s.a} with the {s.b}.",
    "carrying": lambda s, r: f"You're holding onto {things(s)}.",
    "not_carrying": lambda s, r: r.choice(("You're empty-handed.", "Your hands are free.")),
    "nothing": lambda s, r: "Nope, nothing happens.",
    "middle": lambda s, r: "You're smack in the middle of a room.",
    "facing": lambda s, r: f"You're face to face with the {s.listed}.",
    "special": lambda s, r: r.choice(
        (f"The {s.a} is nothing special.", f"There's nothing special going on with {s.a}.")
    ),
}  # fmt: skip


def _colloquial(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Colloquial phrasal verbs: 'You head over to the sofa 1.', 'You yank open the drawer 1.', 'You scoop up the
    box 3 from the sofa 1.', 'You zap the potato 1 in the microwave 1.', 'You flick on the desklamp 1.', 'You're
    empty-handed.', 'Nope, nothing happens.' What is seen is kept as written."""
    if not all_known(sents):
        return None
    out = [(_COLLOQUIAL[s.kind](s, rng) if s.kind in _COLLOQUIAL else s.text) for s in sents]
    text = " ".join(out)
    return text if text != " ".join(s.text for s in sents) else None


# -- a label before the observation -----------------------------------------------------------------------------
_LABELS = ("Observation: ", "Next observation: ", "Observation:\n", "Predicted observation: ", "Result: ")


def _label(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """A label before the observation, as models asked to predict one often write: 'Observation: You arrive at
    sofa 1. ...', 'Next observation: ...', 'Observation:' on a line of its own."""
    if not all_known(sents):
        return None
    return rng.choice(_LABELS) + " ".join(s.text for s in sents)


FAMILIES: dict[str, Family] = {
    name: family(name, reword)
    for name, reword in (
        ("participle_clause", stepwise(_participle, unchanged_is_none=False)),
        ("with_absolute", stepwise(_with_absolute)),
        ("receptacle_subject", _holder),
        ("locative_inversion", stepwise(_inversion)),
        ("posture_verb", stepwise(_posture_rule)),
        ("coordinated_action", stepwise(_coordinated)),
        ("reveal_subject", stepwise(_reveal)),
        ("colloquial_phrasal", _colloquial),
        ("observation_label", _label),
    )
}

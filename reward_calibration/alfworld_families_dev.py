"""The dev paraphrase families of real ALFWorld next states: the positive corpus a fact reader must accept.

A family rewords a real next state one way people (and instruction-tuned models) reword English -- an implied
sentence left out, an event told as the state it leaves, another tense, another word order, a synonym -- and keeps
exactly the same world state: the same numbered objects, the same open or closed receptacles, the same contents,
the same held object, the same object properties, the same refusal, and the task-status line verbatim as the last
line (the world-model prompt fixes it to "Task completed." / "Task is not yet completed."). What a family is, and
the helpers these are written with, is `family_framework`.

The families were written from how people restate these sentences, not from the fact reader's phrase table; the
reader was developed against them. `alfworld_families_heldout` to `alfworld_families_heldout4` hold the held-out
sets, other kinds of rewording, not for development. `alfworld_families` generates and scores a corpus:

    python -m reward_calibration.alfworld_families --families dev --out DIR --label before
"""

from __future__ import annotations

import random
import re

from reward_calibration.family_framework import (
    NUMBERED,
    Family,
    Sentence,
    SentenceRule,
    Transition,
    family,
    in_on,
    inside,
    lower_first,
    per_sentence,
    say,
    shuffled,
)


def _omit_implied(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Leave out what the rest implies: 'You arrive at X.' before what is on X or whether X is open; after
    'You open the X.', either 'The X is open.' or the opening itself ('The X is open. In it, ...')."""
    drop: set[int] = set()
    for i, (s, nxt) in enumerate(zip(sents, sents[1:], strict=False)):
        if s.kind == "arrive" and nxt.kind in ("on", "is_open", "is_closed") and nxt.a == s.a:
            drop.add(i)
        elif s.kind == "open" and nxt.kind == "is_open" and nxt.a == s.a:
            drop.add(i if rng.random() < 0.5 else i + 1)
    return " ".join(s.text for i, s in enumerate(sents) if i not in drop) if drop else None


def _state_for_event(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Each event told as the state it leaves: 'You open the X. The X is open. In it, you see Y.' ->
    'The X is now open, and inside it you see Y.'; 'You arrive at X.' -> 'You are now at the X.'"""
    out, changed, i = [], False, 0
    while i < len(sents):
        s = sents[i]
        new: str | None = None
        if s.kind == "open":
            rest = sents[i + 1 : i + 3]
            if rest and rest[0].kind == "is_open" and rest[0].a == s.a:
                i += 1
                rest = rest[1:]
            if rest and rest[0].kind == "in_it":
                i += 1
                new = rng.choice(
                    (f"The {s.a} is now open, and inside it you see {rest[0].listed}.",
                     f"The {s.a} is now open. In it, you see {rest[0].listed}.",
                     f"The {s.a} now stands open; inside it you see {rest[0].listed}.")
                )  # fmt: skip
            else:
                new = f"The {s.a} is now open."
        elif s.kind == "arrive":
            new = rng.choice((f"You are now at the {s.a}.", f"You are at the {s.a} now.", f"You now stand at {s.a}."))
        elif s.kind == "close":
            new = rng.choice((f"The {s.a} is now closed.", f"The {s.a} is shut now."))
        elif s.kind == "pick":
            new = rng.choice(
                (f"You are now holding the {s.a}, taken from the {s.b}.", f"You now have the {s.a} from the {s.b}.",
                 f"The {s.a} from the {s.b} is now in your hand.")
            )  # fmt: skip
        elif s.kind == "move":
            where = in_on(s.b)
            new = rng.choice((f"The {s.a} is now {where} the {s.b}.", f"The {s.a} now sits {where} the {s.b}."))
        elif s.kind == "treat":
            adj, done = {"heat": ("hot", "heated"), "cool": ("cold", "cooled"), "clean": ("clean", "washed")}[s.verb]
            new = rng.choice(
                (f"The {s.a} is now {adj}, {done} with the {s.b}.", f"The {s.a} is now {adj} from the {s.b}.")
            )
        elif s.kind == "turn":
            new = rng.choice((f"The {s.a} is now {s.verb}.", f"The {s.a} is now switched {s.verb}."))
        elif s.kind == "slice":
            new = f"The {s.a} is now in slices, cut with the {s.b}."
        elif s.kind == "nothing":
            new = "Nothing changes."
        changed |= new is not None
        out.append(new if new is not None else s.text)
        i += 1
    return " ".join(out) if changed else None


def _tense(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Events in the past or the present perfect ('You arrived at X.', 'You just opened the X.', 'You've picked
    up the A ...'); in the past, what you see may be told as what you saw. States stay ('The X is open.')."""
    you = rng.choice(("You ", "You just ", "You have ", "You've "))
    perfect = you in ("You have ", "You've ")
    saw = not perfect and rng.random() < 0.5
    out, changed = [], False
    for s in sents:
        new: str | None = None
        if s.kind == "arrive":
            new = f"{you}arrived at {s.a}."
        elif s.kind in ("open", "close"):
            new = f"{you}{s.kind.rstrip('e')}ed the {s.a}."
        elif s.kind == "pick":
            new = f"{you}picked up the {s.a} from the {s.b}."
        elif s.kind == "move":
            new = f"{you}moved the {s.a} to the {s.b}."
        elif s.kind == "treat":
            new = f"{you}{s.verb}ed the {s.a} using the {s.b}."
        elif s.kind == "turn":
            new = f"{you}turned {s.verb} the {s.a}."
        elif s.kind == "slice":
            new = f"{you}sliced the {s.a} with the {s.b}."
        elif s.kind == "nothing":
            new = "Nothing has happened." if perfect else "Nothing happened."
        elif saw and s.kind in ("on", "in_it", "around", "next_to"):
            new = s.text.replace("you see ", "you saw ")
        changed |= new is not None
        out.append(new if new is not None else s.text)
    return " ".join(out) if changed else None


def _relist(s: Sentence, rng: random.Random) -> str:
    """The sentence's list in another order (its text unchanged when it has fewer than two things)."""
    if len(s.items) < 2:
        return s.listed
    return say(shuffled(s.items, rng), "" if s.kind == "facing" else "a")


_word_order = per_sentence(
    {
        "on": lambda s, r: f"You see {_relist(s, r)} on the {s.a}.",
        "in_it": lambda s, r: f"You see {_relist(s, r)} in it.",
        "next_to": lambda s, r: f"You see {_relist(s, r)} next to it.",
        "around": lambda s, r: f"Looking quickly around you, you see {_relist(s, r)}." if len(s.items) > 1 else None,
        "facing": lambda s, r: f"You are facing the {_relist(s, r)}." if len(s.items) > 1 else None,
        "carrying": lambda s, r: f"You are carrying: {_relist(s, r)}." if len(s.items) > 1 else None,
        "pick": lambda s, r: r.choice(
            (f"From the {s.b}, you pick up the {s.a}.", f"You pick the {s.a} up from the {s.b}.")
        ),
        "treat": lambda s, r: f"Using the {s.b}, you {s.verb} the {s.a}.",
        "turn": lambda s, r: f"You turn the {s.a} {s.verb}.",
        "slice": lambda s, r: f"With the {s.b}, you slice the {s.a}.",
        "move": lambda s, r: f"To the {s.b}, you move the {s.a}.",
    }
)  # fmt: skip
_word_order.__doc__ = """Another word order: lists reordered, 'you see X on the Y' for 'on the Y, you see X',
fronted phrases ('From the Y, you pick up the X.'), particles moved ('You turn the X on.')."""

_SEE = ("you notice", "you spot", "you find", "you can see")


def _see(s: Sentence, rng: random.Random) -> str:
    return s.text.replace("you see", rng.choice(_SEE), 1)


_verb_synonyms = per_sentence(
    {
        "arrive": lambda s, r: r.choice((f"You reach {s.a}.", f"You get to {s.a}.", f"You come to {s.a}.")),
        "open": lambda s, r: r.choice((f"You pull open the {s.a}.", f"You swing the {s.a} open.")),
        "close": lambda s, r: r.choice((f"You shut the {s.a}.", f"You push the {s.a} shut.")),
        "pick": lambda s, r: f"You {r.choice(('take', 'grab', 'lift', 'collect'))} the {s.a} from the {s.b}.",
        "move": lambda s, r: f"You {r.choice(('put', 'place', 'set'))} the {s.a} {in_on(s.b)} the {s.b}.",
        "treat": lambda s, r: (
            f"You {r.choice({'heat': ('warm', 'warm up'), 'cool': ('chill',), 'clean': ('wash', 'rinse')}[s.verb])}"
            f" the {s.a} using the {s.b}."
        ),
        "turn": lambda s, r: f"You switch {s.verb} the {s.a}.",
        "slice": lambda s, r: f"You cut the {s.a} with the {s.b}.",
        "on": _see,
        "in_it": _see,
        "around": _see,
        "next_to": _see,
        "carrying": lambda s, r: f"You are holding {s.listed}.",
        "not_carrying": lambda s, r: r.choice(("You are not holding anything.", "You hold nothing.")),
        "facing": lambda s, r: f"You stand in front of the {s.listed}.",
        "middle": lambda s, r: "You stand in the middle of a room.",
        "special": lambda s, r: f"There's nothing remarkable about {s.a}.",
    }
)  # fmt: skip
_verb_synonyms.__doc__ = """Synonyms of the verbs: reach/get to for arrive, take/grab for pick up, put/place for
move, shut for close, warm/chill/wash for heat/cool/clean, switch for turn, notice/spot/find for see."""


def _on_synonym(s: Sentence, rng: random.Random) -> str:
    if inside(s.a):
        return f"{rng.choice(('Inside', 'In', 'Within'))} the {s.a}, you see {s.listed}."
    return f"{rng.choice(('Atop', 'On top of', 'Upon'))} the {s.a}, you see {s.listed}."


_preposition_synonyms = per_sentence(
    {
        "in_it": lambda s, r: f"{r.choice(('Inside', 'Within', 'Inside of'))} it, you see {s.listed}.",
        "on": _on_synonym,
        "pick": lambda s, r: (
            f"You pick up the {s.a} {'out of' if inside(s.b) else r.choice(('off', 'off of'))} the {s.b}."
        ),
        "move": lambda s, r: f"You move the {s.a} {'into' if inside(s.b) else 'onto'} the {s.b}.",
        "treat": lambda s, r: (
            f"You {s.verb} the {s.a} {r.choice(('with', 'in' if inside(s.b) else 'on'))} the {s.b}."
        ),
        "next_to": lambda s, r: f"{r.choice(('Beside', 'Alongside', 'Near'))} it, you see {s.listed}.",
        "slice": lambda s, r: f"You slice the {s.a} using the {s.b}.",
    }
)  # fmt: skip
_preposition_synonyms.__doc__ = """Synonyms of the prepositions: inside/within for in, atop/on top of for on,
off/out of for from, into/onto for to, with for using, beside for next to."""

_CONNECTORS = (", and ", "; ", " and ")


def _join_split(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Sentences joined into one ('You arrive at X, and on the X, you see ...'), or a list split in two
    sentences ('On the X, you see a A. You also see a B, and a C.')."""
    can_join = len(sents) > 1
    lists = [i for i, s in enumerate(sents) if s.kind in ("on", "in_it", "next_to", "around") and len(s.items) > 1]
    if not can_join and not lists:
        return None
    if can_join and (not lists or rng.random() < 0.5):
        text = sents[0].text[:-1]
        for s in sents[1:]:
            text += rng.choice(_CONNECTORS) + lower_first(s.text[:-1])
        return text + "."
    i = rng.choice(lists)
    s = sents[i]
    cut = rng.randint(1, len(s.items) - 1)
    head = s.text[: s.text.rindex(s.listed)] + say(s.items[:cut]) + "."
    tail = f"You also see {say(s.items[cut:])}."
    return " ".join([x.text for x in sents[:i]] + [head, tail] + [x.text for x in sents[i + 1 :]])


_ENTITY_AHEAD = rf"(?={NUMBERED}\b)"


def _articles(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Other articles before the numbered things: none ('On countertop 1, you see apple 1'), 'the' for ALFWorld's
    'a' ('you see the apple 1', 'You arrive at the countertop 1'), or 'an' before a vowel ('an apple 1')."""
    body = " ".join(s.text for s in sents)
    styles = ["bare", "the", "an"]
    rng.shuffle(styles)
    for style in styles:
        out = []
        for s in sents:
            text = s.text
            if style == "bare":
                text = re.sub(rf"\b(?:a|an|the) {_ENTITY_AHEAD}", "", text)
            elif style == "the":
                text = re.sub(rf"\ban? {_ENTITY_AHEAD}", "the ", text)
            else:
                text = re.sub(r"\ba (?=[aeiou][a-z]* \d+\b)", "an ", text)
            if style != "bare" and s.kind == "arrive":
                text = f"You arrive at the {s.a}."
            out.append(text)
        if " ".join(out) != body:
            return " ".join(out)
    return None


def _receptacle_pronoun(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The receptacle just named said as 'it' or 'there': 'You arrive at X. On it, you see ...',
    'You arrive at X. It is closed.', 'You open the X. It is open.'"""
    out, changed = [], False
    for i, s in enumerate(sents):
        prev = sents[i - 1] if i else None
        named = prev is not None and prev.kind in ("arrive", "open", "close") and prev.a == s.a
        if named and s.kind == "on":
            out.append(rng.choice((f"On it, you see {s.listed}.", f"There, you see {s.listed}.")))
        elif named and s.kind in ("is_open", "is_closed"):
            state = "open" if s.kind == "is_open" else "closed"
            out.append(rng.choice((f"It is {state}.", f"It is {state}.", f"It's {state}.")))
        else:
            out.append(s.text)
            continue
        changed = True
    return " ".join(out) if changed else None


def _nothing_on(s: Sentence, rng: random.Random) -> str | None:
    if s.items or s.listed != "nothing":
        return None
    return rng.choice(
        (f"On the {s.a}, you don't see anything.", f"The {s.a} is empty.", f"Nothing is on the {s.a}.",
         f"On the {s.a}, you do not see anything.")
    )  # fmt: skip


def _nothing_in(where: str, empty: str | None) -> SentenceRule:
    def rule(s: Sentence, rng: random.Random) -> str | None:
        if s.items or s.listed != "nothing":
            return None
        options = [f"{where}, you don't see anything.", f"{where}, you do not see anything."]
        return rng.choice([*options, empty] if empty else options)

    return rule


_negation = per_sentence(
    {
        "on": _nothing_on,
        "in_it": _nothing_in("In it", "It is empty."),
        "next_to": _nothing_in("Next to it", "Nothing is next to it."),
        "around": _nothing_in("Looking quickly around you", None),
        "not_carrying": lambda s, r: r.choice(
            ("You aren't carrying anything.", "You carry nothing.", "Your hands are empty.")
        ),
        "nothing": lambda s, r: r.choice(("That does not do anything.", "Nothing at all happens.")),
    }
)
_negation.__doc__ = """Absence said another way: 'you see nothing' -> 'you don't see anything', 'The X is empty.',
'Nothing is on the X.'; 'You are not carrying anything.' -> 'Your hands are empty.'"""


FAMILIES: dict[str, Family] = {
    name: family(name, reword)
    for name, reword in (
        ("omit_implied", _omit_implied),
        ("state_for_event", _state_for_event),
        ("tense", _tense),
        ("word_order", _word_order),
        ("verb_synonyms", _verb_synonyms),
        ("preposition_synonyms", _preposition_synonyms),
        ("join_split", _join_split),
        ("articles", _articles),
        ("receptacle_pronoun", _receptacle_pronoun),
        ("negation", _negation),
    )
}

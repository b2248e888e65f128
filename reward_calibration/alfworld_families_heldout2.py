"""SECOND held-out paraphrase families of real ALFWorld next states: the second holdout set, NOT for development.

Do not read these families, their corpus or their results while writing or tuning a fact reader: they measure
how a reader does on rewordings it was not built against. They follow the interface of
`reward_calibration.family_framework` (a family is `(Transition) -> str | None`, None where it does not apply; the
world state is kept exactly and the task-status line stays verbatim as the last line), and reword in kinds that
neither the dev families nor the first held-out set (`reward_calibration.alfworld_families_heldout`) use: discourse
markers and adverbial openers, the present progressive, possessive (genitive) phrasing, the number of things
stated, loose typography (extra spaces, exclamation marks, ellipses), capitalised names, contractions, reporting
clauses ("You notice that ..."), cleft and pseudo-cleft sentences, and past-perfect narration.

    python -m reward_calibration.alfworld_families --families heldout2 --out DIR --label before
"""

from __future__ import annotations

import random
import re

from reward_calibration.family_framework import (
    Family,
    Sentence,
    Transition,
    be,
    capital,
    family,
    in_on,
    inside,
    lower_first,
    per_sentence,
)

_LISTS = ("on", "in_it", "next_to", "around")


# -- discourse markers ------------------------------------------------------------------------------------------
_OPENERS = ("Okay, ", "Alright, ", "Now, ", "So, ", "Well, ", "All right, ", "Right, ", "At this point, ")
_LATER = ("Here, ", "Also, ", "And ", "Then, ")


def _discourse(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Adverbial openers and discourse markers: 'Okay, you arrive at X. Here, on the X, you see ...'."""
    if not sents:
        return None
    out = [rng.choice(_OPENERS) + lower_first(sents[0].text)]
    for s in sents[1:]:
        if s.kind in (*_LISTS, "is_open", "is_closed") and rng.random() < 0.6:
            marker = rng.choice(_LATER)
            if marker == "Here, " and s.kind in ("is_open", "is_closed"):
                marker = "Also, "
            out.append(marker + lower_first(s.text))
        else:
            out.append(s.text)
    return " ".join(out)


# -- present progressive ----------------------------------------------------------------------------------------
def _progressive_rule(s: Sentence, rng: random.Random) -> str | None:
    """The present progressive: 'You are arriving at X.', 'You are opening the X.', 'On the X, you are looking
    at ...', 'Nothing is happening.'"""
    ing = {"heat": "heating", "cool": "cooling", "clean": "cleaning"}
    if s.kind == "arrive":
        return f"You are {rng.choice(('arriving at', 'now arriving at'))} {s.a}."
    if s.kind == "open":
        return f"You are opening the {s.a}."
    if s.kind == "close":
        return f"You are closing the {s.a}."
    if s.kind == "pick":
        return f"You are picking up the {s.a} from the {s.b}."
    if s.kind == "move":
        return f"You are moving the {s.a} to the {s.b}."
    if s.kind == "treat":
        return f"You are {ing[s.verb]} the {s.a} using the {s.b}."
    if s.kind == "turn":
        return f"You are turning {s.verb} the {s.a}."
    if s.kind == "slice":
        return f"You are slicing the {s.a} with the {s.b}."
    if s.kind in _LISTS and s.items:
        return s.text.replace("you see ", rng.choice(("you are looking at ", "you are seeing ")), 1)
    if s.kind == "nothing":
        return "Nothing is happening."
    if s.kind == "middle":
        return "You are standing in the middle of a room."
    if s.kind == "facing":
        return f"You are standing facing the {s.listed}."
    return None


# -- possessive ---------------------------------------------------------------------------------------------------
def _part(receptacle: str) -> str:
    kind = receptacle.split()[0]
    if kind in ("drawer",):
        return "front"
    if kind in ("box", "garbagecan", "laundryhamper"):
        return "lid"
    return "door"


def _possessive(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Possessive (genitive) phrasing: "The X's contents are a A, and a B.", "The X's door is closed.",
    "You pick up the X's A.", "Your hand holds a A."."""
    out, changed = [], False
    named = ""  # the receptacle 'it' refers to
    for s in sents:
        new: str | None = None
        if s.kind in ("arrive", "open", "close"):
            named = s.a
        if s.kind == "on" or (s.kind == "in_it" and named):
            where = s.a if s.kind == "on" else named
            if s.items:
                noun = rng.choice(("contents", "contents", "items")) if len(s.items) > 1 else "content"
                new = f"The {where}'s {noun} {be(s)} {s.listed}."
            else:
                new = f"The {where}'s {'inside' if inside(where) or s.kind == 'in_it' else 'surface'} is empty."
        elif s.kind in ("is_open", "is_closed"):
            state = "open" if s.kind == "is_open" else "closed"
            new = f"The {s.a}'s {_part(s.a)} is {state}."
        elif s.kind == "pick":
            new = f"You pick up the {s.b}'s {s.a}."
        elif s.kind == "carrying":
            new = f"Your hand's load is {s.listed}."
        elif s.kind == "around" and s.items:
            new = f"The room's contents, at a quick look around, are {s.listed}."
        changed |= new is not None
        out.append(new if new is not None else s.text)
    return " ".join(out) if changed else None


# -- counted --------------------------------------------------------------------------------------------------------
_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen \
seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_word(n: int) -> str:
    """An English number word (0 to 99): 'three', 'twenty-one'."""
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def _counted_rule(s: Sentence, rng: random.Random) -> str | None:
    """The number of things stated: 'On the X, you see three objects: a A, a B, and a C.'"""
    n = len(s.items)
    if not n or n > 99:
        return None
    noun = rng.choice(("objects", "items", "things")) if n > 1 else rng.choice(("object", "item", "thing"))
    count = f"{number_word(n)} {noun}"
    joint = rng.choice((": ", ", namely ", " -- "))
    if s.kind == "carrying":
        return f"You are carrying {count}{joint}{s.listed}."
    if s.kind == "facing":
        return f"You are facing {count}{joint}the {s.listed}." if n > 1 else None
    head = s.text[: s.text.rindex(s.listed)]
    return f"{head}{count}{joint}{s.listed}."


# -- typography -----------------------------------------------------------------------------------------------------
def _typography(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Loose typography: double spaces between sentences and after commas, exclamation marks, ellipses."""
    ends = (".", "!", "!", "...", "!!")
    out = []
    for s in sents:
        text = s.text
        if rng.random() < 0.5:
            text = text.replace(", ", ",  ")
        if text.endswith(".") and not text.endswith("..."):
            text = text[:-1] + rng.choice(ends)
        out.append(text)
    sep = rng.choice(("  ", "   ", " "))
    text = sep.join(out)
    if text == " ".join(s.text for s in sents):
        text = "  ".join(out) + "!"
    return text


# -- capitalised names ----------------------------------------------------------------------------------------------
_NAME = re.compile(r"\b([a-z]+)( \d+)\b")


def _capitalised(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Numbered things written with a capital ('You arrive at Cabinet 1. On the Cabinet 1, you see a Mug 3.'), or
    only the receptacles capitalised, as people write proper-noun-like names."""
    body = " ".join(s.text for s in sents)
    receptacles = {s.a for s in sents if s.kind in ("arrive", "on", "open", "close", "is_open", "is_closed")}
    receptacles |= {s.b for s in sents if s.b}
    only_receptacles = bool(receptacles) and rng.random() < 0.4

    def cap(m: re.Match[str]) -> str:
        name = m.group(1) + m.group(2)
        if only_receptacles and name not in receptacles:
            return name
        return capital(m.group(1)) + m.group(2)

    out = _NAME.sub(cap, body)
    return out if out != body else None


# -- contractions ---------------------------------------------------------------------------------------------------
def _contraction_rule(s: Sentence, rng: random.Random) -> str | None:
    """Contractions: "The X's closed.", "You're carrying ...", "You're facing ...", "You're not carrying anything.",
    "Nothing's happening.", "On the X, there's ..."."""
    if s.kind == "is_closed":
        return f"The {s.a}'s closed."
    if s.kind == "is_open":
        return f"The {s.a}'s open."
    if s.kind in ("carrying", "not_carrying", "facing", "middle"):
        return s.text.replace("You are ", "You're ", 1)
    if s.kind == "nothing":
        return "Nothing's happened."
    if s.kind == "on" and s.items and len(s.items) == 1:
        return f"On the {s.a}, there's {s.listed}."
    if s.kind == "in_it" and s.items and len(s.items) == 1:
        return f"In it, there's {s.listed}."
    return None


# -- reporting clauses ----------------------------------------------------------------------------------------------
_REPORT = ("You notice that", "You see that", "You find that", "You can tell that", "You observe that")


def _reporting_rule(s: Sentence, rng: random.Random) -> str | None:
    """Reporting clauses: 'You notice that the X is closed.', 'You find that a A, and a B are on the X.'"""
    report = rng.choice(_REPORT)
    if s.kind in ("is_open", "is_closed"):
        return f"{report} {lower_first(s.text)}"
    if s.kind == "on":
        if not s.items:
            return f"{report} there is nothing {in_on(s.a)} the {s.a}."
        return f"{report} {s.listed} {be(s)} {in_on(s.a)} the {s.a}."
    if s.kind == "in_it":
        return f"{report} {s.listed} {be(s)} in it." if s.items else f"{report} there is nothing in it."
    if s.kind == "next_to" and s.items:
        return f"{report} {s.listed} {be(s)} next to it."
    if s.kind == "carrying":
        return f"{report} you are carrying {s.listed}."
    if s.kind == "not_carrying":
        return f"{report} you are not carrying anything."
    if s.kind == "arrive":
        return f"{rng.choice(('You find that', 'You realise that', 'You notice that'))} you are at {s.a}."
    return None


# -- cleft sentences ------------------------------------------------------------------------------------------------
def _cleft_rule(s: Sentence, rng: random.Random) -> str | None:
    """Cleft and pseudo-cleft sentences: 'It is cabinet 1 that you arrive at.', 'What you see on the X is ...',
    'It is the A that you pick up from the X.'"""
    if s.kind == "arrive":
        return rng.choice((f"It is {s.a} that you arrive at.", f"It is at {s.a} that you arrive."))
    if s.kind == "open":
        return f"It is the {s.a} that you open."
    if s.kind == "close":
        return f"It is the {s.a} that you close."
    if s.kind == "pick":
        return f"It is the {s.a} that you pick up from the {s.b}."
    if s.kind == "move":
        return f"It is the {s.b} that you move the {s.a} to."
    if s.kind == "treat":
        return f"It is the {s.a} that you {s.verb} using the {s.b}."
    if s.kind == "turn":
        return f"It is the {s.a} that you turn {s.verb}."
    if s.kind == "slice":
        return f"It is the {s.a} that you slice with the {s.b}."
    if s.kind == "on" and s.items:
        return rng.choice(
            (f"What you see on the {s.a} {be(s)} {s.listed}.", f"It is on the {s.a} that you see {s.listed}.")
        )
    if s.kind == "in_it" and s.items:
        return f"What you see in it {be(s)} {s.listed}."
    if s.kind == "next_to" and s.items:
        return f"What you see next to it {be(s)} {s.listed}."
    if s.kind == "carrying":
        return f"What you are carrying is {s.listed}."
    return None


# -- past perfect ---------------------------------------------------------------------------------------------------
def _past_perfect_rule(s: Sentence, rng: random.Random) -> str | None:
    """Past-perfect narration: 'You had arrived at X. The X was closed. On the X, you had seen ...'."""
    if s.kind == "arrive":
        return f"You had arrived at {s.a}."
    if s.kind in ("open", "close"):
        return f"You had {s.kind.rstrip('e')}ed the {s.a}."
    if s.kind == "pick":
        return f"You had picked up the {s.a} from the {s.b}."
    if s.kind == "move":
        return f"You had moved the {s.a} to the {s.b}."
    if s.kind == "treat":
        return f"You had {s.verb}ed the {s.a} using the {s.b}."
    if s.kind == "turn":
        return f"You had turned {s.verb} the {s.a}."
    if s.kind == "slice":
        return f"You had sliced the {s.a} with the {s.b}."
    if s.kind in ("is_open", "is_closed"):
        return s.text.replace(" is ", " was ", 1)
    if s.kind in _LISTS:
        return s.text.replace("you see ", rng.choice(("you had seen ", "you saw ")), 1)
    if s.kind == "nothing":
        return "Nothing had happened."
    if s.kind == "carrying":
        return f"You were carrying {s.listed}."
    if s.kind == "not_carrying":
        return "You were not carrying anything."
    return None


_ALL = ("arrive", "open", "close", "pick", "move", "treat", "turn", "slice", "on", "in_it", "next_to", "around",
        "carrying", "not_carrying", "middle", "facing", "is_open", "is_closed", "nothing")  # fmt: skip

FAMILIES: dict[str, Family] = {
    name: family(name, reword)
    for name, reword in (
        ("discourse_marker", _discourse),
        ("progressive", per_sentence(dict.fromkeys(_ALL, _progressive_rule))),
        ("possessive", _possessive),
        ("counted", per_sentence(dict.fromkeys(("on", "in_it", "next_to", "around", "carrying", "facing"),
                                               _counted_rule))),
        ("typography", _typography),
        ("capitalised_names", _capitalised),
        ("contractions", per_sentence(dict.fromkeys(_ALL, _contraction_rule))),
        ("reporting_clause", per_sentence(dict.fromkeys(_ALL, _reporting_rule))),
        ("cleft", per_sentence(dict.fromkeys(_ALL, _cleft_rule))),
        ("past_perfect", per_sentence(dict.fromkeys(_ALL, _past_perfect_rule))),
    )
}  # fmt: skip

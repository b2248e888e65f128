"""EIGHTH held-out paraphrase families of real ALFWorld next states: the eighth holdout set, NOT for development.

Do not read these families, their corpus or their results while writing or tuning a fact reader: they measure
how a reader does on rewordings it was not built against. They were written without reading the fact reader. They
follow the interface of `reward_calibration.family_framework` (a family is `(Transition) -> str | None`, None where it
does not apply; the world state is kept exactly and the task-status line stays verbatim as the last line), and
reword in kinds that neither the dev families nor the first seven held-out sets use, chosen for how people and
instruction-tuned models asked to "predict the next observation" write a state down: catenative verbs before the
event ("You manage to open the drawer 10.", "You make it to sofa 1."), a receptacle named again without its number
("You arrive at drawer 10. The drawer is closed."), an archaic, storybook register ("Upon the sofa 1 you behold a
box 3, and a pillow 1.", "Therein you behold naught."), lists marked as complete ("On the sofa 1, you see a box 3,
and nothing else.", "you see nothing at all"), the first person plural ("We arrive at sofa 1. On the sofa 1, we see
..."), an evaluative stance adverb ("Unfortunately, the drawer 10 is closed."), the observation as a markdown
blockquote ("> You arrive at sofa 1. ..."), a text-adventure prompt after the observation ("What do you do
next?"), the observation hard-wrapped at a narrow width, as a terminal prints it, and the actions marked with
asterisks as role-play writers do ("*You arrive at sofa 1.* On the sofa 1, you see ...").

    python -m reward_calibration.alfworld_families --families heldout8 --out DIR --label before
"""

from __future__ import annotations

import random
import re
import textwrap

from reward_calibration.family_framework import (
    Family,
    Sentence,
    Transition,
    body_text,
    capital,
    family,
    in_on,
    inside,
    known_only,
    lower_first,
    per_sentence,
    stepwise,
    things,
)

_LISTS = ("on", "in_it", "next_to", "around")
_EVENTS = ("arrive", "open", "close", "pick", "move", "treat", "turn", "slice")


def _state(s: Sentence) -> str:
    return "open" if s.kind == "is_open" else "closed"


def _predicate(s: Sentence) -> str:
    """An event sentence's verb phrase without its subject: 'open the drawer 10', 'pick up the mug 2 from ...'."""
    if s.kind == "slice":
        return f"slice the {s.a} with the {s.b}"
    return s.text[len("You ") : -1]


# -- catenative verbs before the event ----------------------------------------------------------------------------
_CATENATIVES = ("proceed to", "manage to", "go ahead and", "go on to")


def _catenative_rule(s: Sentence, rng: random.Random) -> str | None:
    """A catenative verb before the event, as a narrator strings actions along: 'You make it to sofa 1.', 'You
    manage to reach sofa 1.', 'You proceed to open the drawer 10.', 'You go ahead and pick up the mug 2 from the
    countertop 1.', 'You manage to cool the pan 1 using the fridge 1.' What is seen is kept as written."""
    if s.kind == "arrive":
        return rng.choice(
            (f"You make it to {s.a}.", f"You manage to reach {s.a}.", f"You succeed in reaching {s.a}.",
             f"You go on to reach {s.a}.")
        )  # fmt: skip
    if s.kind in _EVENTS:
        return f"You {rng.choice(_CATENATIVES)} {_predicate(s)}."
    return None


# -- the receptacle named again without its number ----------------------------------------------------------------
def _bare_mention(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """The receptacle just arrived at or opened named again by its kind alone, as people do not repeat a number
    once it is clear: 'You arrive at drawer 10. The drawer is closed.', 'You arrive at sofa 1. On the sofa, you see
    a box 3, and a pillow 1.', 'You open the cabinet 1. This cabinet is open. In it, you see nothing.'"""
    s = sents[i]
    if s.kind not in ("arrive", "open", "close"):
        return s.text, 1
    noun = s.a.split()[0]
    det = rng.choice(("the", "the", "this"))
    out, j = [s.text], i + 1
    while j < len(sents) and sents[j].kind in ("on", "is_open", "is_closed") and sents[j].a == s.a:
        t = sents[j]
        if t.kind == "on":
            out.append(f"On {det} {noun}, you see {t.listed}.")
        else:
            out.append(f"{capital(det)} {noun} is {_state(t)}.")
        j += 1
    return " ".join(out), j - i


# -- an archaic, storybook register -------------------------------------------------------------------------------
def _naught_or(s: Sentence) -> str:
    return s.listed if s.items else "naught"


def _archaic_rule(s: Sentence, rng: random.Random) -> str | None:
    """An archaic, storybook register, as a model asked for a fantasy narrator writes: 'You come unto sofa 1.',
    'Upon the sofa 1 you behold a box 3, and a pillow 1.', 'Therein you behold naught.', 'The drawer 10 standeth
    closed.', 'You take up the mug 2 from the countertop 1.', 'You carry naught.', 'Naught happens.'"""
    k, a, b = s.kind, s.a, s.b
    if k == "arrive":
        return rng.choice((f"You come unto {a}.", f"Unto {a} you come.", f"You are come to {a}."))
    if k == "on":
        where = f"{'Within' if inside(a) and rng.random() < 0.5 else 'Upon'} the {a} you behold {_naught_or(s)}."
        return rng.choice((where, f"Lo, {lower_first(where)}"))
    if k == "in_it":
        return f"Therein you behold {_naught_or(s)}."
    if k == "next_to":
        return f"Beside it you behold {_naught_or(s)}."
    if k == "around":
        return f"Casting a swift glance about you, you behold {_naught_or(s)}."
    if k in ("is_open", "is_closed"):
        return rng.choice((f"The {a} standeth {_state(s)}.", f"{capital(_state(s))} is the {a}."))
    if k == "open":
        return rng.choice((f"You do open the {a}.", f"Lo, you open the {a}."))
    if k == "close":
        return rng.choice((f"You do close the {a}.", f"Lo, you close the {a}."))
    if k == "pick":
        return rng.choice((f"You take up the {a} from the {b}.", f"From the {b} you take up the {a}."))
    if k == "move":
        return f"You set the {a} {'within' if inside(b) else 'upon'} the {b}."
    if k == "treat":
        return f"You {s.verb} the {a} by means of the {b}."
    if k == "carrying":
        return rng.choice((f"You bear {s.listed}.", f"In your keeping is {s.listed}."))
    if k == "not_carrying":
        return rng.choice(("You carry naught.", "Naught do you carry."))
    if k == "nothing":
        return rng.choice(("Naught happens.", "Naught comes of it."))
    if k == "middle":
        return "You stand in the midst of a room."
    if k == "facing":
        return f"You stand before the {s.listed}."
    if k == "special":
        return f"There is naught special about {a}."
    return None


# -- lists marked as complete -------------------------------------------------------------------------------------
_AT_ALL = ("nothing at all", "nothing whatsoever", "absolutely nothing")
_LEAD = {"in_it": "In it", "next_to": "Next to it", "around": "Looking quickly around you"}
_ONLY_WHERE = {"in_it": "in it", "next_to": "next to it", "around": "around you"}


def _exhaustive_rule(s: Sentence, rng: random.Random) -> str | None:
    """A list marked as complete, as a careful narrator closes it: 'On the sofa 1, you see a box 3, and a pillow 1,
    and nothing else.', 'The only thing on the shelf 5 is a mug 1.', 'In it, you see only a pen 1.', 'In it, you
    see nothing at all.', 'All you are carrying is a pen 1.', 'You are not carrying anything at all.'"""
    if s.kind == "not_carrying":
        return rng.choice(("You are not carrying anything at all.", "You are carrying nothing at all."))
    if s.kind == "carrying":
        return rng.choice(
            (f"All you are carrying is {s.listed}.", f"You are carrying only {s.listed}.",
             f"You are carrying {s.listed}, and nothing else.")
        )  # fmt: skip
    if s.kind not in _LISTS:
        return None
    lead = f"On the {s.a}" if s.kind == "on" else _LEAD[s.kind]
    if not s.items:
        return f"{lead}, you see {rng.choice(_AT_ALL)}."
    where = f"{in_on(s.a)} the {s.a}" if s.kind == "on" else _ONLY_WHERE[s.kind]
    n = "things" if len(s.items) > 1 else "thing"
    return rng.choice(
        (f"{lead}, you see {s.listed}, and nothing else.", f"{lead}, you see only {s.listed}.",
         f"The only {n} {where} {'are' if len(s.items) > 1 else 'is'} {things(s)}.",
         f"{lead}, all you see is {s.listed}.")
    )  # fmt: skip


# -- the first person plural --------------------------------------------------------------------------------------
def _we(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The first person plural, as a narrator who plays along with the player tells it: 'We arrive at sofa 1. On
    the sofa 1, we see a box 3, and a pillow 1.', "We're carrying: a pen 1.", 'Looking quickly around us, we see
    ...'. Sentences without 'you' stay as they are."""
    contract = rng.random() < 0.4
    out = []
    for s in sents:
        text = s.text.replace("around you", "around us")
        text = re.sub(r"\bYou are\b", "We're" if contract else "We are", text)
        text = re.sub(r"\byou are\b", "we're" if contract else "we are", text)
        text = re.sub(r"\bYou\b", "We", text)
        text = re.sub(r"\byou\b", "we", text)
        out.append(re.sub(r"\byour\b", "our", text))
    return " ".join(out)


# -- an evaluative stance adverb ----------------------------------------------------------------------------------
_STANCE_FOUND = ("Luckily", "Conveniently", "Fortunately", "Interestingly")
_STANCE_EMPTY = ("Unfortunately", "Sadly", "Disappointingly")
_STANCE_DONE = ("Fortunately", "Thankfully", "Luckily")


def _stance_for(s: Sentence) -> tuple[str, ...]:
    if s.kind in _LISTS:
        return _STANCE_FOUND if s.items else _STANCE_EMPTY
    return {
        "is_closed": ("Unfortunately", "Annoyingly", "Sadly"), "is_open": ("Conveniently", "Fortunately"),
        "nothing": ("Unfortunately", "Frustratingly", "Sadly"), "not_carrying": ("Unfortunately", "Sadly"),
        "special": ("Unfortunately", "Disappointingly"), "carrying": ("Fortunately", "Thankfully"),
        **dict.fromkeys(("pick", "move", "treat", "turn", "slice"), _STANCE_DONE),
    }.get(s.kind, ())  # fmt: skip


def _stance(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """An evaluative stance adverb before the sentence that tells the outcome, as chat models colour a scene:
    'You arrive at drawer 10. Unfortunately, the drawer 10 is closed.', 'You arrive at sofa 1. Luckily, on the sofa
    1, you see a box 3.', 'Thankfully, you pick up the mug 2 from the countertop 1.', 'Sadly, nothing happens.' An
    arrival, an opening or a closing alone gets 'Fortunately' or 'Thankfully'; what is seen comes first."""
    chosen = next((i for i, s in enumerate(sents) if s.kind in _LISTS), None)
    if chosen is None:
        chosen = next((i for i, s in enumerate(sents) if _stance_for(s)), None)
    if chosen is None:
        chosen = next((i for i, s in enumerate(sents) if s.kind in _EVENTS), None)
    if chosen is None:
        return None
    options = _stance_for(sents[chosen]) or _STANCE_DONE[:2]
    out = [s.text for s in sents]
    out[chosen] = f"{rng.choice(options)}, {lower_first(out[chosen])}"
    return " ".join(out)


# -- a markdown blockquote ----------------------------------------------------------------------------------------
def _blockquote(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The observation as a markdown blockquote, as chat models set off a quoted game text: '> You arrive at sofa
    1. On the sofa 1, you see ...', one sentence a quoted line ('> You arrive at sofa 1.\\n> On the sofa 1, ...'),
    or the quoted lines apart ('> You arrive at sofa 1.\\n>\\n> On the sofa 1, ...')."""
    style = rng.choice(("one", "lines", "spaced")) if len(sents) > 1 else "one"
    if style == "one":
        return f"> {body_text(sents)}"
    return ("\n>\n" if style == "spaced" else "\n").join(f"> {s.text}" for s in sents)


# -- a text-adventure prompt after the observation ----------------------------------------------------------------
_PROMPTS = (
    "What do you do next?",
    "What would you like to do next?",
    "What do you want to do now?",
    "What's your next move?",
    "What do you do?",
)


def _prompt(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """A text-adventure prompt after the observation, as a model playing game master hands the turn back: 'You
    arrive at sofa 1. On the sofa 1, you see ... What do you do next?', or the question on a line of its own."""
    return body_text(sents) + rng.choice((" ", "\n\n", "\n")) + rng.choice(_PROMPTS)


# -- hard-wrapped at a narrow width -------------------------------------------------------------------------------
_NAME = re.compile(r"\b([a-z]+) (\d+)\b")
_NBSP = "\u00a0"


def _wrapped(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The observation hard-wrapped at a narrow width, as a terminal game prints it ('You arrive at drawer 10.
    The\\ndrawer 10 is closed.'), at 24, 32, 40 or 48 columns; a name and its number are never split."""
    body = body_text(sents)
    if len(body) < 24:
        return None
    width = rng.choice((24, 32, 40, 48))
    if len(body) <= width:
        width = 24
    glued = _NAME.sub(rf"\1{_NBSP}\2", body)
    lines = textwrap.wrap(glued, width, break_long_words=False, break_on_hyphens=False)
    return "\n".join(line.replace(_NBSP, " ") for line in lines)


# -- actions marked with asterisks, as in role-play -------------------------------------------------------------
def _roleplay(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The actions marked as role-play writers mark them, in asterisks or underscores, what is seen left plain:
    '*You arrive at sofa 1.* On the sofa 1, you see a box 3.', '_You pick up the mug 2 from the countertop 1._',
    the marked action on a line of its own or not."""
    if not any(s.kind in _EVENTS for s in sents):
        return None
    mark = rng.choice(("*", "*", "_"))
    sep = rng.choice((" ", "\n", "\n\n"))
    out = ""
    for i, s in enumerate(sents):
        if i:
            out += sep if sents[i - 1].kind in _EVENTS and s.kind not in _EVENTS else " "
        out += f"{mark}{s.text}{mark}" if s.kind in _EVENTS else s.text
    return out


FAMILIES: dict[str, Family] = {
    name: family(name, reword)
    for name, reword in (
        ("catenative_verb", known_only(per_sentence(dict.fromkeys(_EVENTS, _catenative_rule)))),
        ("bare_second_mention", stepwise(_bare_mention)),
        ("archaic_register", known_only(per_sentence(dict.fromkeys(
            (*_EVENTS, *_LISTS, "is_open", "is_closed", "carrying", "not_carrying", "nothing", "middle", "facing",
             "special"), _archaic_rule)))),
        ("exhaustive_list", known_only(per_sentence(dict.fromkeys(
            (*_LISTS, "carrying", "not_carrying"), _exhaustive_rule)))),
        ("first_person_plural", known_only(_we)),
        ("stance_adverb", known_only(_stance)),
        ("markdown_blockquote", known_only(_blockquote)),
        ("adventure_prompt", known_only(_prompt)),
        ("hard_wrap", known_only(_wrapped)),
        ("roleplay_asterisks", known_only(_roleplay)),
    )
}  # fmt: skip

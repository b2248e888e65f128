"""FIFTH held-out paraphrase families of real ALFWorld next states: the fifth holdout set, NOT for development.

Do not read these families, their corpus or their results while writing or tuning a fact reader: they measure
how a reader does on rewordings it was not built against. They were written without reading the fact reader. They
follow the interface of `reward_calibration.family_framework` (a family is `(Transition) -> str | None`, None where it
does not apply; the world state is kept exactly and the task-status line stays verbatim as the last line), and
reword in kinds that neither the dev families nor the first four held-out sets use, chosen for how instruction-tuned
models asked to "predict the next observation" restate a state: the agent in the third person ("The agent arrives
at sofa 1. On the sofa 1, the agent sees ..."), manner and degree adverbs ("You carefully open the drawer 1.", "The
drawer 10 is firmly closed."), finite temporal clauses ("When you arrive at sofa 1, you see a box 3 on it."), a
formal register ("You retrieve the box 3 from the sofa 1.", "You observe ..."), "visible" as the predicate ("A box 3
is visible on the sofa 1."), one sentence per line ("You arrive at sofa 1.\\nOn the sofa 1, ..." or "- You arrive
..."), sentences chained with arrows ("You arrive at sofa 1 → On the sofa 1, you see ..."), a recap after the
observation ("In short, you are at the drawer 10, and it is closed."), the state as an attributive adjective ("You
arrive at the closed drawer 10."), and one listed thing per sentence ("On the sofa 1, you see a box 3. You also see
a pillow 1 there.").

    python -m reward_calibration.alfworld_families --families heldout5 --out DIR --label before
"""

from __future__ import annotations

import random

from reward_calibration.family_framework import (
    Family,
    Rewording,
    Sentence,
    Transition,
    after,
    all_known,
    be,
    capital,
    family,
    in_on,
    next_of_kind,
    per_sentence,
    say,
    stepwise,
    things,
)

_LISTS = ("on", "in_it", "next_to", "around")
_RESULT = {"heat": "hot", "cool": "cool", "clean": "clean"}


def _bodies(sents: list[Sentence]) -> list[str]:
    return [s.text for s in sents]


# -- the agent in the third person ------------------------------------------------------------------------------
def _third_person(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The agent in the third person, as a narrator describes a game: 'The agent arrives at sofa 1. On the sofa 1,
    the agent sees a box 3.', 'The player picks up the box 3 from the sofa 1.', 'The agent is not carrying
    anything.' Sentences without 'you' stay as they are."""
    if not all_known(sents):
        return None
    who = rng.choice(("The agent", "The agent", "The player"))
    low = who.lower()
    rules = {
        "arrive": lambda s: f"{who} arrives at {s.a}.",
        "on": lambda s: f"On the {s.a}, {low} sees {s.listed}.",
        "open": lambda s: f"{who} opens the {s.a}.",
        "close": lambda s: f"{who} closes the {s.a}.",
        "in_it": lambda s: f"In it, {low} sees {s.listed}.",
        "pick": lambda s: f"{who} picks up the {s.a} from the {s.b}.",
        "move": lambda s: f"{who} moves the {s.a} to the {s.b}.",
        "treat": lambda s: f"{who} {s.verb}s the {s.a} using the {s.b}.",
        "turn": lambda s: f"{who} turns {s.verb} the {s.a}.",
        "slice": lambda s: f"{who} slices the {s.a} with the {s.b}.",
        "carrying": lambda s: f"{who} is carrying: {s.listed}.",
        "not_carrying": lambda s: f"{who} is not carrying anything.",
        "middle": lambda s: f"{who} is in the middle of a room.",
        "around": lambda s: f"Looking quickly around, {low} sees {s.listed}.",
        "facing": lambda s: f"{who} is facing the {s.listed}.",
        "next_to": lambda s: f"Next to it, {low} sees {s.listed}.",
    }
    out = [rules[s.kind](s) if s.kind in rules else s.text for s in sents]
    return " ".join(out) if out != _bodies(sents) else None


# -- manner and degree adverbs ----------------------------------------------------------------------------------
def _adverb_rule(s: Sentence, rng: random.Random) -> str | None:
    """Manner and degree adverbs that add no fact: 'You eventually arrive at sofa 1.', 'You carefully open the
    drawer 1.', 'On the sofa 1, you immediately see ...', 'The drawer 10 is firmly closed.', 'The cabinet 1 is
    wide open.', 'You are currently carrying: a vase 1.' Lists of nothing stay as they are."""
    pick = rng.choice
    if s.kind == "arrive":
        return f"You {pick(('eventually', 'finally', 'soon', 'quickly'))} arrive at {s.a}."
    if s.kind in ("open", "close"):
        how = ("carefully", "slowly", "gently") + (("quickly",) if s.kind == "open" else ("firmly", "quietly"))
        return f"You {pick(how)} {s.kind} the {s.a}."
    if s.kind == "pick":
        return f"You {pick(('carefully', 'gently', 'deftly'))} pick up the {s.a} from the {s.b}."
    if s.kind == "move":
        return f"You {pick(('carefully', 'neatly', 'gently'))} move the {s.a} to the {s.b}."
    if s.kind == "treat":
        return f"You {pick(('thoroughly', 'carefully', 'properly'))} {s.verb} the {s.a} using the {s.b}."
    if s.kind == "turn":
        return f"You {pick(('promptly', 'quickly'))} turn {s.verb} the {s.a}."
    if s.kind == "slice":
        return f"You {pick(('carefully', 'neatly'))} slice the {s.a} with the {s.b}."
    if s.kind in _LISTS and s.items:
        return s.text.replace("you see ", f"you {pick(('immediately', 'clearly', 'readily'))} see ", 1)
    if s.kind == "is_closed":
        return f"The {s.a} is {pick(('firmly', 'tightly', 'fully'))} closed."
    if s.kind == "is_open":
        return f"The {s.a} is {pick(('wide', 'fully'))} open."
    if s.kind in ("carrying", "not_carrying"):
        return s.text.replace("You are ", "You are currently ", 1)
    if s.kind == "facing":
        return f"You are directly facing the {s.listed}."
    if s.kind == "middle":
        return "You are right in the middle of a room."
    return None


# -- finite temporal clauses ------------------------------------------------------------------------------------
_WHEN = ("When you", "As you", "Once you", "The moment you")


def _temporal(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """Finite temporal clauses ('When/As/Once you ...') that join an event to what it shows: 'When you arrive at
    sofa 1, you see a box 3, and a pillow 1 on it.', 'As you arrive at drawer 10, the drawer 10 is closed.', 'Once
    you open the cabinet 1, it is open, and in it you see a mug 1.', 'When you look quickly around you in the middle
    of a room, you see nothing.' Single events stay as they are."""
    s = sents[i]
    when = rng.choice(_WHEN)
    if s.kind == "arrive":
        on, state = after(sents, i, "on"), after(sents, i, "is_open", "is_closed")
        if on:
            return f"{when} arrive at {s.a}, you see {on.listed} {in_on(s.a)} it.", 2
        if state and state.kind == "is_closed":
            return f"{when} arrive at {s.a}, the {s.a} is closed.", 2
        if state and (seen := next_of_kind(sents, i + 1, "in_it")):
            return f"{when} arrive at {s.a}, it is open, and in it you see {seen.listed}.", 3
    elif s.kind == "open" and after(sents, i, "is_open") and (seen := next_of_kind(sents, i + 1, "in_it")):
        return f"{when} open the {s.a}, it is open, and in it you see {seen.listed}.", 3
    elif s.kind == "middle" and (around := next_of_kind(sents, i, "around")):
        return f"{when} look quickly around you in the middle of a room, you see {around.listed}.", 2
    elif s.kind == "facing" and (beside := next_of_kind(sents, i, "next_to")):
        return f"{when} face the {s.listed}, you see {beside.listed} next to it.", 2
    return s.text, 1


# -- a formal register ------------------------------------------------------------------------------------------
def _formal_on(s: Sentence, rng: random.Random) -> str:
    where = f"{in_on(s.a)} the {s.a}"
    if s.items and rng.random() < 0.5:
        return f"{capital(things(s))} {be(s)} situated {where}."
    return f"You observe {things(s)} {where}."


_formal = per_sentence(
    {
        "arrive": lambda s, r: r.choice(
            (f"You proceed to the {s.a}, arriving there.", f"You have duly arrived at the {s.a}.",
             f"You are now present at the {s.a}.")
        ),
        "on": _formal_on,
        "is_open": lambda s, r: f"The {s.a} is presently open.",
        "is_closed": lambda s, r: f"The {s.a} is presently closed.",
        "open": lambda s, r: f"You proceed to open the {s.a}.",
        "close": lambda s, r: f"You proceed to close the {s.a}.",
        "in_it": lambda s, r: f"Within it, you observe {things(s)}.",
        "pick": lambda s, r: f"You retrieve the {s.a} from the {s.b}.",
        "move": lambda s, r: f"You deposit the {s.a} {in_on(s.b)} the {s.b}.",
        "treat": lambda s, r: f"You proceed to {s.verb} the {s.a} by means of the {s.b}.",
        "turn": lambda s, r: f"You proceed to turn {s.verb} the {s.a}.",
        "slice": lambda s, r: f"You proceed to slice the {s.a} by means of the {s.b}.",
        "carrying": lambda s, r: f"You are presently in possession of {things(s)}.",
        "not_carrying": lambda s, r: "You are presently not in possession of any item.",
        "nothing": lambda s, r: "Nothing whatsoever occurs.",
        "middle": lambda s, r: "You are situated in the middle of a room.",
        "around": lambda s, r: f"Upon surveying your surroundings, you observe {things(s)}.",
        "facing": lambda s, r: f"You are positioned facing the {s.listed}.",
        "next_to": lambda s, r: f"Adjacent to it, you observe {things(s)}.",
        "special": lambda s, r: f"There is nothing of note regarding {s.a}.",
    }
)  # fmt: skip
_formal.__doc__ = """A formal register: 'You proceed to the sofa 1, arriving there.', 'You observe a box 3 on the
sofa 1.', 'A box 3 is situated on the sofa 1.', 'The drawer 10 is presently closed.', 'You retrieve the box 3 from
the sofa 1.', 'You deposit the book 1 on the sofa 1.', 'You are presently not in possession of any item.'"""


# -- "visible" as the predicate ---------------------------------------------------------------------------------
def _visible_rule(s: Sentence, rng: random.Random) -> str | None:
    """'Visible' as the predicate: 'A box 3, a newspaper 2, and a pillow 1 are visible on the sofa 1.', 'In it, a
    mug 1 is visible.', 'Nothing is visible next to it.', 'The drawer 10 is visibly closed.'"""
    where = {"in_it": "in it", "next_to": "next to it", "around": "around you"}
    if s.kind == "on":
        where["on"] = f"{in_on(s.a)} the {s.a}"
    if s.kind in where:
        if not s.items:
            return f"Nothing is visible {where[s.kind]}."
        if rng.random() < 0.5:
            return f"{capital(things(s))} {be(s)} visible {where[s.kind]}."
        return f"{capital(where[s.kind])}, {things(s)} {be(s)} visible."
    if s.kind in ("is_open", "is_closed"):
        return f"The {s.a} is visibly {'open' if s.kind == 'is_open' else 'closed'}."
    return None


# -- one sentence per line --------------------------------------------------------------------------------------
def _lines(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """One sentence per line, bare or as dash items, as chat models lay out an observation: 'You arrive at sofa
    1.\\nOn the sofa 1, you see ...' or '- You arrive at sofa 1.\\n- On the sofa 1, you see ...'."""
    if not all_known(sents):
        return None
    dash = len(sents) == 1 or rng.random() < 0.5
    return "\n".join(("- " if dash else "") + s.text for s in sents)


# -- sentences chained with arrows ------------------------------------------------------------------------------
def _arrows(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Sentences chained with arrows, each leading to the next: 'You arrive at sofa 1 → On the sofa 1, you see a
    box 3.', 'You open the cabinet 1 -> The cabinet 1 is open -> In it, you see nothing.'"""
    if not all_known(sents) or len(sents) < 2:
        return None
    arrow = rng.choice((" → ", " -> ", " ⇒ "))
    return arrow.join(s.text[:-1] for s in sents) + "."


# -- a recap after the observation ------------------------------------------------------------------------------
def _recap_of(sents: list[Sentence]) -> str:
    s, nxt = sents[0], sents[1] if len(sents) > 1 else None
    if s.kind == "arrive":
        if nxt and nxt.kind in ("is_open", "is_closed"):
            return f"you are at the {s.a}, and it is {'open' if nxt.kind == 'is_open' else 'closed'}."
        return f"you are at the {s.a}."
    return _RECAPS[s.kind](s) if s.kind in _RECAPS else "that is what you observe."


_RECAPS = {
    "open": lambda s: f"the {s.a} is now open.",
    "close": lambda s: f"the {s.a} is now closed.",
    "pick": lambda s: f"the {s.a} is now in your hand.",
    "move": lambda s: f"the {s.a} is now {in_on(s.b)} the {s.b}.",
    "treat": lambda s: f"the {s.a} is now {_RESULT[s.verb]}.",
    "turn": lambda s: f"the {s.a} is now {s.verb}.",
    "slice": lambda s: f"the {s.a} is now sliced.",
    "carrying": lambda s: f"you hold {things(s)}.",
    "not_carrying": lambda s: "your hands are empty.",
    "nothing": lambda s: "nothing changes.",
    "middle": lambda s: "you are in the middle of a room.",
    "facing": lambda s: f"you are facing the {s.listed}.",
    "on": lambda s: f"that is what is {in_on(s.a)} the {s.a}.",
    "special": lambda s: f"{s.a} is nothing special.",
    "is_closed": lambda s: f"the {s.a} is closed.",
    "is_open": lambda s: f"the {s.a} is open.",
}


def _recap(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The observation as written, then a recap that restates what it shows, as verbose models end: '... The
    drawer 10 is closed. In short, you are at the drawer 10, and it is closed.', '... To sum up, the box 3 is now
    in your hand.'"""
    if not all_known(sents):
        return None
    lead = rng.choice(("In short, ", "To sum up, ", "So, in summary, ", "Summary: "))
    return " ".join(_bodies(sents)) + " " + lead + _recap_of(sents)


# -- the state as an attributive adjective ----------------------------------------------------------------------
def _attributive(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """The open/closed state as an adjective before the receptacle's name: 'You arrive at the closed drawer 10.',
    'You arrive at the open cabinet 20. In it, you see nothing.', 'You open the cabinet 1. In the now-open cabinet
    1, you see a mug 1.'"""
    s = sents[i]
    if s.kind == "arrive" and (state := after(sents, i, "is_open", "is_closed")):
        return f"You arrive at the {'open' if state.kind == 'is_open' else 'closed'} {s.a}.", 2
    if s.kind == "open" and after(sents, i, "is_open") and (seen := next_of_kind(sents, i + 1, "in_it")):
        now = rng.choice(("now-open", "newly opened", "open"))
        return f"You open the {s.a}. In the {now} {s.a}, you see {seen.listed}.", 3
    return s.text, 1


# -- one listed thing per sentence ------------------------------------------------------------------------------
_THERE = {"on": "there", "in_it": "in it", "next_to": "next to it", "around": "around you"}


def _per_item(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """A list of two or more things told one thing per sentence: 'On the sofa 1, you see a box 3. You also see a
    newspaper 2 there. And you see a pillow 1 there.', 'In it, you see an egg 1. A mug 1 is in it as well.'"""
    if not all_known(sents) or not any(s.kind in _THERE and len(s.items) > 1 for s in sents):
        return None
    out: list[str] = []
    for s in sents:
        if s.kind not in _THERE or len(s.items) < 2:
            out.append(s.text)
            continue
        first, *rest = [say([x], "an") for x in s.items]
        out.append(s.text[: s.text.rindex(s.listed)] + first + ".")
        where = _THERE[s.kind]
        for n, thing in enumerate(rest, 1):
            if n == len(rest):
                out.append(f"And you see {thing} {where}.")
            elif rng.random() < 0.5:
                out.append(f"You also see {thing} {where}.")
            else:
                out.append(f"{capital(thing)} is {where} as well.")
    return " ".join(out)


_ALL = ("arrive", "open", "close", "pick", "move", "treat", "turn", "slice", "on", "in_it", "next_to", "around",
        "carrying", "not_carrying", "middle", "facing", "is_open", "is_closed")  # fmt: skip


def _known_only(reword: Rewording) -> Rewording:
    """`reword` only on a state whose every sentence has a known form."""

    def run(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
        return reword(sents, rng, tr) if all_known(sents) else None

    run.__doc__ = reword.__doc__
    return run


FAMILIES: dict[str, Family] = {
    name: family(name, reword)
    for name, reword in (
        ("third_person_agent", _third_person),
        ("manner_adverb", _known_only(per_sentence(dict.fromkeys(_ALL, _adverb_rule)))),
        ("temporal_clause", stepwise(_temporal)),
        ("formal_register", _known_only(_formal)),
        ("visible_predicate", _known_only(per_sentence(dict.fromkeys(_ALL, _visible_rule)))),
        ("sentence_lines", _lines),
        ("arrow_chain", _arrows),
        ("recap_sentence", _recap),
        ("attributive_state", stepwise(_attributive)),
        ("item_per_sentence", _per_item),
    )
}  # fmt: skip

"""THIRD held-out paraphrase families of real ALFWorld next states: the third holdout set, NOT for development.

Do not read these families, their corpus or their results while writing or tuning a fact reader: they measure
how a reader does on rewordings it was not built against. They follow the interface of
`reward_calibration.family_framework` (a family is `(Transition) -> str | None`, None where it does not apply; the
world state is kept exactly and the task-status line stays verbatim as the last line), and reword in kinds that
neither the dev families nor the first two held-out sets (`reward_calibration.alfworld_families_heldout`,
`reward_calibration.alfworld_families_heldout2`) use, chosen for how instruction-tuned world models write a predicted
observation: terse telegraphic notes ("Arrived at countertop 1. Contents: apple 1, egg 2."), second-person future
or conditional narration ("You will arrive at ..."), markdown emphasis of the names (**apple 1**), parenthetical
asides that add no fact ("(as expected)"), other phrasings of where the agent stands ("You're standing by ..."),
the location said last with other list joins ("You see an apple 1 as well as an egg 2 on the countertop 1."),
British idioms ("You pop over to ...", "You're stood in ..."), the action quoted ("After 'go to countertop 1',
you arrive ..."), and numbered lists ("1. apple 1").

    python -m reward_calibration.alfworld_families --families heldout3 --out DIR --label before
"""

from __future__ import annotations

import random
import re

from reward_calibration.family_framework import (
    Family,
    Sentence,
    Transition,
    all_known,
    article,
    capital,
    family,
    in_on,
    lower_first,
    per_sentence,
    say,
)

_LISTS = ("on", "in_it", "next_to", "around", "facing", "carrying")
_ENTITY = re.compile(r"\b[a-z]+ \d+\b")


def _plain(items: tuple[str, ...]) -> str:
    return ", ".join(items)


# -- telegraphic notes ------------------------------------------------------------------------------------------
def _telegraphic(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Terse notes without subject or articles: 'Arrived at countertop 1. Contents: apple 1, egg 2.',
    'Cabinet 1 closed.', 'Took mug 3 from countertop 1.', 'Carrying: vase 1.', 'No effect.'"""
    if not all_known(sents):
        return None
    out: list[str] = []
    for i, s in enumerate(sents):
        prev = sents[i - 1] if i else None
        here = prev is not None and prev.a == s.a and prev.kind in ("arrive", "open", "close")
        items = _plain(s.items) if s.items else "none"
        new: str
        if s.kind == "arrive":
            new = rng.choice((f"Arrived at {s.a}.", f"Arrived: {s.a}.", f"Now at {s.a}."))
        elif s.kind == "on":
            label = rng.choice(("Contents", "Items", "On it")) if here else f"On {s.a}"
            new = f"{label}: {items if s.items else rng.choice(('none', 'nothing'))}."
        elif s.kind in ("is_open", "is_closed"):
            state = "open" if s.kind == "is_open" else "closed"
            new = capital(f"{state}.") if here and rng.random() < 0.5 else f"{capital(s.a)} {state}."
        elif s.kind == "open":
            new = f"Opened {s.a}."
        elif s.kind == "close":
            new = f"Closed {s.a}."
        elif s.kind == "in_it":
            new = f"{rng.choice(('Inside', 'Contents'))}: {items}."
        elif s.kind == "pick":
            new = rng.choice((f"Picked up {s.a} from {s.b}.", f"Took {s.a} from {s.b}."))
        elif s.kind == "move":
            new = f"Put {s.a} {in_on(s.b)} {s.b}."
        elif s.kind == "treat":
            new = f"{capital(s.verb)}ed {s.a} with {s.b}."
        elif s.kind == "turn":
            new = f"Turned {s.verb} {s.a}."
        elif s.kind == "slice":
            new = f"Sliced {s.a} with {s.b}."
        elif s.kind == "carrying":
            new = f"{rng.choice(('Carrying', 'Holding', 'Inventory'))}: {items}."
        elif s.kind == "not_carrying":
            new = rng.choice(("Carrying: nothing.", "Hands empty.", "Inventory: empty."))
        elif s.kind == "nothing":
            new = rng.choice(("No effect.", "No change."))
        elif s.kind == "middle":
            new = "Middle of a room."
        elif s.kind == "around":
            new = f"{rng.choice(('Around you', 'Nearby'))}: {items}."
        elif s.kind == "facing":
            new = f"Facing {items}."
        elif s.kind == "next_to":
            new = f"Next to it: {items}."
        elif s.kind == "special":
            new = f"Nothing special about {s.a}."
        else:
            new = s.text
        out.append(new)
    return " ".join(out)


# -- future / conditional narration -----------------------------------------------------------------------------
def _future(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Second-person future or conditional narration of the predicted observation: 'You will arrive at X. On the X,
    you will see ...', 'The X would be closed.', 'Nothing will happen.'"""
    if not all_known(sents):
        return None
    m = rng.choice(("will", "will", "would"))
    out: list[str] = []
    for s in sents:
        new = {
            "arrive": f"You {m} arrive at {s.a}.",
            "on": f"On the {s.a}, you {m} see {s.listed}.",
            "is_open": f"The {s.a} {m} be open.",
            "is_closed": f"The {s.a} {m} be closed.",
            "open": f"You {m} open the {s.a}.",
            "close": f"You {m} close the {s.a}.",
            "in_it": f"In it, you {m} see {s.listed}.",
            "pick": f"You {m} pick up the {s.a} from the {s.b}.",
            "move": f"You {m} move the {s.a} to the {s.b}.",
            "treat": f"You {m} {s.verb} the {s.a} using the {s.b}.",
            "turn": f"You {m} turn {s.verb} the {s.a}.",
            "slice": f"You {m} slice the {s.a} with the {s.b}.",
            "carrying": f"You {m} be carrying: {s.listed}.",
            "not_carrying": f"You {m} not be carrying anything.",
            "nothing": f"Nothing {m} happen.",
            "middle": f"You {m} be in the middle of a room.",
            "around": f"Looking quickly around you, you {m} see {s.listed}.",
            "facing": f"You {m} be facing the {s.listed}.",
            "next_to": f"Next to it, you {m} see {s.listed}.",
            "special": f"There {m} be nothing special about {s.a}.",
        }.get(s.kind, s.text)
        out.append(new)
    return " ".join(out)


# -- markdown emphasis ------------------------------------------------------------------------------------------
def _markdown(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Markdown emphasis: the numbered names in **bold**, *italics* or `code` (all of them, or only the listed
    things); a state with no names gets its key phrase emphasised ('*Nothing happens.*')."""
    if not all_known(sents):
        return None
    mark = rng.choice(("**", "**", "*", "`"))
    only_listed = rng.random() < 0.3
    out = []
    for s in sents:
        if s.kind in _LISTS and s.items and only_listed:
            head, listed = s.text[: s.text.rindex(s.listed)], s.listed
            out.append(head + _ENTITY.sub(lambda m: f"{mark}{m.group(0)}{mark}", listed) + ".")
        elif not only_listed:
            out.append(_ENTITY.sub(lambda m: f"{mark}{m.group(0)}{mark}", s.text))
        else:
            out.append(s.text)
    text = " ".join(out)
    if "*" in text or "`" in text:
        return text
    key = {"nothing": "Nothing happens.", "not_carrying": "not carrying anything", "middle": "middle of a room"}
    for s in sents:
        if s.kind in key:
            emph = "**" if mark == "`" else mark
            return text.replace(key[s.kind], f"{emph}{key[s.kind]}{emph}", 1)
    return None


# -- parenthetical asides ---------------------------------------------------------------------------------------
_ASIDES = (
    "(as expected)",
    "(as you'd expect)",
    "(unsurprisingly)",
    "(no surprises here)",
    "(so far so good)",
    "(take note)",
    "(for what it's worth)",
    "(naturally)",
)


def _asides(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Parenthetical asides that add no fact, before a sentence's full stop: 'You arrive at countertop 1 (as
    expected).', 'The cabinet 1 is closed (unsurprisingly).'"""
    if not all_known(sents):
        return None
    chosen = {i for i in range(len(sents)) if rng.random() < 0.4} or {rng.randrange(len(sents))}
    out = []
    for i, s in enumerate(sents):
        out.append(f"{s.text[:-1]} {rng.choice(_ASIDES)}." if i in chosen else s.text)
    return " ".join(out)


# -- where the agent stands -------------------------------------------------------------------------------------
_position = per_sentence(
    {
        "arrive": lambda s, r: r.choice(
            (f"You're standing by the {s.a}.", f"You are standing in front of the {s.a}.",
             f"You find yourself at {s.a}.", f"You're now positioned at the {s.a}.",
             f"Your position is now the {s.a}.", f"You're right by the {s.a} now.")
        ),
        "middle": lambda s, r: r.choice(
            ("You're standing in the middle of a room.", "You find yourself in the middle of a room.",
             "Your position is the middle of a room.")
        ),
        "facing": lambda s, r: r.choice(
            (f"You find yourself facing the {s.listed}.", f"You're standing facing the {s.listed}.")
        ),
    }
)  # fmt: skip
_position.__doc__ = """Other phrasings of where the agent is: 'You're standing by the X.', 'You find yourself at X.',
'Your position is now the X.' for 'You arrive at X.'; 'You find yourself in the middle of a room.'"""


# -- location said last, other list joins -----------------------------------------------------------------------
_JOINS = ("as well as", "plus", "along with", "together with", "and also")


def _joined(items: tuple[str, ...], rng: random.Random) -> str:
    words = [f"{article(i)} {i}" for i in items]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + f" {rng.choice(_JOINS)} " + words[-1]


def _final_rule(s: Sentence, rng: random.Random) -> str | None:
    things = _joined(s.items, rng) if s.items else "nothing"
    if s.kind == "on":
        return f"You see {things} {in_on(s.a)} the {s.a}."
    if s.kind == "in_it":
        return f"You see {things} inside it."
    if s.kind == "next_to":
        return f"You see {things} next to it."
    if s.kind == "around":
        return f"You see {things} around you."
    if s.kind == "carrying" and s.items:
        return f"You have {things} in hand."
    return None


_final_location = per_sentence(dict.fromkeys(("on", "in_it", "next_to", "around", "carrying"), _final_rule))
_final_location.__doc__ = """The location said last and the list joined by 'as well as', 'plus', 'along with':
'You see an apple 1, an egg 2 as well as a knife 1 on the countertop 1.'"""


# -- British idioms ---------------------------------------------------------------------------------------------
_british = per_sentence(
    {
        "arrive": lambda s, r: r.choice(
            (f"You pop over to the {s.a}.", f"You nip over to {s.a}.", f"You're stood at the {s.a}.",
             f"You toddle over to the {s.a}.")
        ),
        "open": lambda s, r: r.choice((f"You pop open the {s.a}.", f"You pop the {s.a} open.")),
        "close": lambda s, r: f"You pop the {s.a} shut.",
        "pick": lambda s, r: r.choice((f"You nab the {s.a} from the {s.b}.", f"You fetch the {s.a} from the {s.b}.")),
        "move": lambda s, r: f"You pop the {s.a} {'into' if in_on(s.b) == 'in' else 'onto'} the {s.b}.",
        "carrying": lambda s, r: f"You've got hold of {s.listed}.",
        "not_carrying": lambda s, r: r.choice(("You've not got anything on you.", "You haven't got anything.")),
        "nothing": lambda s, r: r.choice(("Nothing happens, I'm afraid.", "Nothing doing.")),
        "middle": lambda s, r: "You're stood in the middle of a room.",
        "facing": lambda s, r: f"You're stood facing the {s.listed}.",
        "special": lambda s, r: f"There's nothing out of the ordinary about {s.a}.",
    }
)  # fmt: skip
_british.__doc__ = """British idioms: 'You pop over to the X.', 'You're stood at the X.', 'You nab the A from the
B.', 'You pop the A onto the B.', 'You've not got anything on you.', 'Nothing happens, I'm afraid.'"""


# -- the action quoted ------------------------------------------------------------------------------------------
def _quoted(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The action quoted before its result: 'After 'go to countertop 1', you arrive at countertop 1. ...',
    'Having done "take mug 3 from countertop 1": You pick up ...', a transcript echo '> go to countertop 1'."""
    if not all_known(sents) or not tr.action.strip():
        return None
    body = " ".join(s.text for s in sents)
    act = tr.action.strip()
    style = rng.randrange(4)
    if style == 0:
        return f"After '{act}', {lower_first(body)}"
    if style == 1:
        return f'Having done "{act}": {body}'
    if style == 2:
        return f'You try "{act}". {body}'
    return f"> {act}\n{body}"


# -- numbered lists ---------------------------------------------------------------------------------------------
_HEADS = {
    "on": lambda s: f"On the {s.a}, you see",
    "in_it": lambda s: "In it, you see",
    "next_to": lambda s: "Next to it, you see",
    "around": lambda s: "Looking quickly around you, you see",
    "facing": lambda s: "You are facing",
    "carrying": lambda s: "You are carrying",
}


def _numbered(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The lists of two or more things as numbered lists: one per line ('On the X, you see:\\n1. a apple 1\\n2. a
    egg 2'), or inline ('you see: 1. apple 1; 2. egg 2' or '(1) an apple 1, (2) an egg 2')."""
    if not all_known(sents) or not any(s.kind in _HEADS and len(s.items) > 1 for s in sents):
        return None
    style = rng.randrange(3)
    parts: list[tuple[str, bool]] = []  # (text, is a block of lines)
    for s in sents:
        if s.kind not in _HEADS or len(s.items) < 2:
            parts.append((s.text, False))
            continue
        head = _HEADS[s.kind](s)
        art = "the " if s.kind == "facing" else "a "
        if style == 0:
            lines = "\n".join(f"{n}. {art}{i}" for n, i in enumerate(s.items, 1))
            parts.append((f"{head}:\n{lines}", True))
        elif style == 1:
            parts.append((f"{head}: " + "; ".join(f"{n}. {i}" for n, i in enumerate(s.items, 1)) + ".", False))
        else:
            listed = say([f"({n}) {article(i)} {i}" for n, i in enumerate(s.items, 1)], "")
            parts.append((f"{head} {listed}.", False))
    text = parts[0][0]
    for (_, block), (cur, cur_block) in zip(parts, parts[1:], strict=False):
        text += ("\n" if block or cur_block else " ") + cur
    return text


FAMILIES: dict[str, Family] = {
    name: family(name, reword)
    for name, reword in (
        ("telegraphic", _telegraphic),
        ("future_narration", _future),
        ("markdown_emphasis", _markdown),
        ("parenthetical_aside", _asides),
        ("position_phrasing", _position),
        ("final_location", _final_location),
        ("british_idiom", _british),
        ("quoted_action", _quoted),
        ("numbered_list", _numbered),
    )
}

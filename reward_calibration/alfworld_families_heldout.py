"""HELD-OUT paraphrase families of real ALFWorld next states: the holdout set, NOT to be used in development.

Do not read these families, their corpus or their results while writing or tuning a fact reader: they measure
how a reader does on rewordings it was not built against. They follow the interface of
`reward_calibration.family_framework` (a family is `(Transition) -> str | None`, None where it does not apply; the
world state is kept exactly and the task-status line stays verbatim as the last line), and reword in kinds that
the dev families do not use: the passive voice, "there is/are" sentences, relative clauses, colon and
parenthetical lists, first-person narration, and bulleted lists.

    python -m reward_calibration.alfworld_families --families heldout --out DIR --label before
"""

from __future__ import annotations

import random

from reward_calibration.family_framework import Family, Sentence, Transition, capital, family, in_on, per_sentence, say


def _passive_rule(s: Sentence, rng: random.Random) -> str | None:
    """The passive voice: 'The X is opened.', 'The A has been picked up from the X.', 'On the X, ... can be seen.'"""
    been = rng.random() < 0.5
    verb = "has been" if been else "is"
    if s.kind == "arrive":
        return f"The {s.a} has been reached."
    if s.kind == "open":
        return f"The {s.a} {verb} opened."
    if s.kind == "close":
        return f"The {s.a} has been closed." if been else f"The {s.a} gets closed."
    if s.kind == "pick":
        return f"The {s.a} {verb} picked up from the {s.b}."
    if s.kind == "move":
        return f"The {s.a} {verb} moved to the {s.b}."
    if s.kind == "treat":
        return f"The {s.a} {verb} {s.verb}ed using the {s.b}."
    if s.kind == "turn":
        return f"The {s.a} {verb} turned {s.verb}."
    if s.kind == "slice":
        return f"The {s.a} {verb} sliced with the {s.b}."
    where = {"on": f"On the {s.a}", "in_it": "In it", "next_to": "Next to it", "around": "Around you"}.get(s.kind)
    if where:
        return f"{where}, {s.listed} can be seen."
    if s.kind == "carrying":
        return f"{capital(s.listed)} is being carried by you."
    return None


def _there(s: Sentence) -> str:
    return "There are" if len(s.items) > 1 else "There is"


def _existential_rule(s: Sentence, rng: random.Random) -> str | None:
    """'There is/are' sentences: 'There are a A, and a B on the X.', 'There is nothing in it.'"""
    if s.kind == "on":
        return f"{_there(s)} {s.listed} {in_on(s.a)} the {s.a}."
    if s.kind == "in_it":
        return f"{_there(s)} {s.listed} in it."
    if s.kind == "next_to":
        return f"{_there(s)} {s.listed} next to it."
    if s.kind == "around":
        return f"{_there(s)} {s.listed} around you."
    if s.kind == "carrying":
        return f"There is {s.listed} in your hands."
    if s.kind == "not_carrying":
        return "There is nothing in your hands."
    return None


def _relative(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Relative clauses: 'You arrive at X, on which you see ...', 'You open the X, which is now open and in which
    you see ...', 'You pick up the A that was on the X.', 'You move the A to the X, where it now lies.'"""
    out, changed, i = [], False, 0
    while i < len(sents):
        s = sents[i]
        nxt = sents[i + 1] if i + 1 < len(sents) else None
        new: str | None = None
        if s.kind == "arrive" and nxt and nxt.kind == "on" and nxt.a == s.a:
            new = f"You arrive at {s.a}, {rng.choice(('on which', 'where'))} you see {nxt.listed}."
            i += 1
        elif s.kind == "arrive" and nxt and nxt.kind == "is_closed" and nxt.a == s.a:
            new = f"You arrive at {s.a}, which is closed."
            i += 1
        elif s.kind in ("arrive", "open") and nxt and nxt.kind == "is_open" and nxt.a == s.a:
            head = f"You arrive at {s.a}" if s.kind == "arrive" else f"You open the {s.a}"
            after = sents[i + 2] if i + 2 < len(sents) else None
            if after and after.kind == "in_it":
                new = f"{head}, which is open and in which you see {after.listed}."
                i += 2
            else:
                new = f"{head}, which is open."
                i += 1
        elif s.kind == "pick":
            new = f"You pick up the {s.a} {rng.choice(('that', 'which'))} was {in_on(s.b)} the {s.b}."
        elif s.kind == "move":
            new = f"You move the {s.a} to the {s.b}, where it now {rng.choice(('lies', 'sits', 'rests'))}."
        elif s.kind == "turn":
            new = f"You turn {s.verb} the {s.a}, which is now {s.verb}."
        elif s.kind == "facing" and nxt and nxt.kind == "next_to":
            new = f"You are facing the {s.listed}, next to which you see {nxt.listed}."
            i += 1
        changed |= new is not None
        out.append(new if new is not None else s.text)
        i += 1
    return " ".join(out) if changed else None


def _colon_rule(s: Sentence, rng: random.Random) -> str | None:
    """Colon lists and parentheses: 'On the X: a A, and a B.', 'You pick up the A (from the X).'"""
    seen = "you see: " if s.items and rng.random() < 0.5 else ""  # "you see: nothing" is no English
    if s.kind == "on":
        return f"On the {s.a}, {seen}{s.listed}." if seen else f"On the {s.a}: {s.listed}."
    if s.kind == "in_it":
        return f"In it, {seen}{s.listed}." if seen else f"Inside it: {s.listed}."
    if s.kind == "next_to":
        return f"Next to it: {s.listed}."
    if s.kind == "around":
        return f"Looking quickly around you: {s.listed}."
    if s.kind == "pick":
        return f"You pick up the {s.a} (from the {s.b})."
    if s.kind == "move":
        return f"You move the {s.a} (to the {s.b})."
    if s.kind == "treat":
        return f"You {s.verb} the {s.a} (using the {s.b})."
    if s.kind == "is_closed":
        return f"The {s.a}: closed."
    if s.kind == "carrying":
        return f"You are carrying (in your hands): {s.listed}."
    return None


def _first_person_rule(s: Sentence, rng: random.Random) -> str | None:
    """Told in the first person: 'I arrive at X. On the X, I see ...', 'I am not carrying anything.'"""
    if "you" not in s.text.lower():
        return None
    text = s.text.replace("You are ", "I am ").replace("around you", "around me")
    text = text.replace("You ", "I ").replace("you ", "I ")
    return text


def _bullets(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Listed things as a bulleted list, one per line: 'On the X, you see:\\n- a A\\n- a B'."""
    mark, style = rng.choice(("-", "*", "•")), rng.choice(("a", "an", ""))
    lines: list[str] = []
    current: list[str] = []
    changed = False
    for s in sents:
        if s.kind in ("on", "in_it", "next_to", "around", "carrying") and s.items:
            head = s.text[: s.text.rindex(s.listed)].rstrip()
            current.append(head if head.endswith(":") else head.rstrip(",") + ":")
            lines.append(" ".join(current))
            lines.extend(f"{mark} {say([item], style)}" for item in s.items)
            current, changed = [], True
        else:
            current.append(s.text)
    if current:
        lines.append(" ".join(current))
    return "\n".join(lines) if changed else None


FAMILIES: dict[str, Family] = {
    name: family(name, reword)
    for name, reword in (
        ("passive", per_sentence(dict.fromkeys(
            ("arrive", "open", "close", "pick", "move", "treat", "turn", "slice", "on", "in_it", "next_to", "around",
             "carrying"), _passive_rule))),
        ("existential", per_sentence(dict.fromkeys(
            ("on", "in_it", "next_to", "around", "carrying", "not_carrying"), _existential_rule))),
        ("relative_clause", _relative),
        ("colon_parenthetical", per_sentence(dict.fromkeys(
            ("on", "in_it", "next_to", "around", "pick", "move", "treat", "is_closed", "carrying"), _colon_rule))),
        ("first_person", per_sentence(dict.fromkeys(
            ("arrive", "open", "close", "pick", "move", "treat", "turn", "slice", "on", "in_it", "next_to", "around",
             "carrying", "not_carrying", "middle", "facing"), _first_person_rule))),
        ("bullet_list", _bullets),
    )
}  # fmt: skip

"""SIXTH held-out paraphrase families of real ALFWorld next states: the sixth holdout set, NOT for development.

Do not read these families, their corpus or their results while writing or tuning a fact reader: they measure
how a reader does on rewordings it was not built against. They were written without reading the fact reader. They
follow the interface of `reward_calibration.family_framework` (a family is `(Transition) -> str | None`, None where it
does not apply; the world state is kept exactly and the task-status line stays verbatim as the last line), and
reword in kinds that neither the dev families nor the first five held-out sets use, chosen for how instruction-tuned
models asked to "predict the next observation" restate a state: a to-infinitive of result ("You arrive at sofa 1 to
find a box 3 on it."), a topic fronted with "as for" ("As for the drawer 10, it is closed."), questions answered
in turn ("What is on the sofa 1? A box 3, and a pillow 1."), the state as a noun-phrase appositive ("You arrive at
drawer 10, a closed drawer."), causal clauses and connectives ("Now that you are at sofa 1, you see ...", "You
open the cabinet 1, so it is open ..."), emoji markers before the sentences ("📍 You arrive at sofa 1. 👀 On the
sofa 1, ..."), what is seen as a markdown table ("| on the sofa 1 | a box 3, and a pillow 1 |"), the observation
in a code fence ("```\\nYou arrive at sofa 1. ...\\n```"), the observation in quotation marks ("“You arrive at sofa
1. ...”"), and a heading that names the place arrived at ("## Sofa 1\\nYou arrive at sofa 1. ...").

    python -m reward_calibration.alfworld_families --families heldout6 --out DIR --label before
"""

from __future__ import annotations

import random

from reward_calibration.family_framework import (
    Family,
    Sentence,
    Transition,
    after,
    all_known,
    article,
    capital,
    family,
    in_on,
    next_of_kind,
    per_sentence,
    stepwise,
    things,
)

_LISTS = ("on", "in_it", "next_to", "around")


def _state(s: Sentence) -> str:
    return "open" if s.kind == "is_open" else "closed"


def _body(sents: list[Sentence]) -> str:
    return " ".join(s.text for s in sents)


# -- a to-infinitive of result ----------------------------------------------------------------------------------
def _result_infinitive(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """A to-infinitive of result joining an event to what it shows: 'You arrive at sofa 1 to find a box 3 and a
    pillow 1 on it.', 'You arrive at drawer 10 to find it closed.', 'You open the cabinet 1 to find a mug 1 inside
    it.', 'You look quickly around you to find nothing.'"""
    s = sents[i]
    find = rng.choice(("to find", "to find", "only to find", "to discover"))
    if s.kind == "arrive":
        on, state = after(sents, i, "on"), after(sents, i, "is_open", "is_closed")
        if on:
            return f"You arrive at {s.a} {find} {things(on)} {in_on(s.a)} it.", 2
        if state and (state.kind == "is_closed" or not next_of_kind(sents, i + 1, "in_it")):
            return f"You arrive at {s.a} {find} it {_state(state)}.", 2
        if state and (seen := next_of_kind(sents, i + 1, "in_it")):
            return f"You arrive at {s.a} {find} it open, and in it you see {seen.listed}.", 3
    elif s.kind == "open" and after(sents, i, "is_open") and (seen := next_of_kind(sents, i + 1, "in_it")):
        return f"You open the {s.a} {find} {things(seen)} inside it.", 3
    elif s.kind == "middle" and (around := next_of_kind(sents, i, "around")):
        return f"You are in the middle of a room. You look quickly around you {find} {things(around)}.", 2
    elif s.kind == "facing" and (beside := next_of_kind(sents, i, "next_to")):
        return f"You are facing the {s.listed}. You look next to it {find} {things(beside)}.", 2
    return s.text, 1


# -- a topic fronted with "as for" ------------------------------------------------------------------------------
_AS_FOR = {
    "on": lambda s, lead, named: f"{lead} the {s.a}, {in_on(s.a)} it you see {things(s)}.",
    "is_open": lambda s, lead, named: f"{lead} the {s.a}, it is open.",
    "is_closed": lambda s, lead, named: f"{lead} the {s.a}, it is closed.",
    "in_it": lambda s, lead, named: f"{lead} what is inside the {named}, you see {things(s)}." if named else s.text,
    "next_to": lambda s, lead, named: f"{lead} what is next to it, you see {things(s)} there.",
    "around": lambda s, lead, named: f"{lead} the room around you, you see {things(s)}.",
    "pick": lambda s, lead, named: f"{lead} the {s.a}, you pick it up from the {s.b}.",
    "move": lambda s, lead, named: f"{lead} the {s.a}, you move it to the {s.b}.",
    "close": lambda s, lead, named: f"{lead} the {s.a}, you close it.",
    "treat": lambda s, lead, named: f"{lead} the {s.a}, you {s.verb} it using the {s.b}.",
    "turn": lambda s, lead, named: f"{lead} the {s.a}, you turn it {s.verb}.",
    "slice": lambda s, lead, named: f"{lead} the {s.a}, you slice it with the {s.b}.",
    "carrying": lambda s, lead, named: f"{lead} your hands, you are carrying {things(s)}.",
    "not_carrying": lambda s, lead, named: f"{lead} your hands, you are not carrying anything.",
    "special": lambda s, lead, named: f"{lead} {s.a}, there's nothing special about it.",
}  # fmt: skip


def _as_for(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """A topic fronted with 'as for' (or 'as to') and taken up again by a pronoun: 'As for the sofa 1, on it you
    see a box 3.', 'As for the drawer 10, it is closed.', 'As for the box 3, you pick it up from the sofa 1.', 'As
    for your hands, you are not carrying anything.'"""
    if not all_known(sents):
        return None
    lead = rng.choice(("As for", "As for", "As to"))
    out: list[str] = []
    named = ""  # the receptacle 'it' refers to
    for s in sents:
        if s.kind in ("arrive", "open", "is_open", "is_closed"):
            named = s.a
        rule = _AS_FOR.get(s.kind)
        out.append(rule(s, lead, named) if rule else s.text)
    text = " ".join(out)
    return text if text != _body(sents) else None


# -- questions answered in turn ---------------------------------------------------------------------------------
def _qa_rule(s: Sentence, rng: random.Random) -> str | None:
    """Questions answered in turn, as a model talks itself through a scene: 'What is on the sofa 1? A box 3, and a
    pillow 1.', 'What state is the drawer 10 in? It is closed.', 'What do you pick up from the sofa 1? The box 3.',
    'What are you carrying? Nothing.', 'What happens? Nothing.' Arrivals and openings stay as they are."""
    answer = capital(things(s)) if s.kind in (*_LISTS, "carrying") else ""
    if s.kind == "on":
        where = f"{in_on(s.a)} the {s.a}"
        return rng.choice((f"What is {where}? {answer}.", f"What do you see {where}? {answer}."))
    if s.kind == "in_it":
        return rng.choice((f"What is in it? {answer}.", f"What do you see in it? {answer}."))
    if s.kind == "next_to":
        return f"What is next to it? {answer}."
    if s.kind == "around":
        return f"What do you see around you? {answer}."
    if s.kind in ("is_open", "is_closed"):
        state = _state(s)
        return rng.choice((f"What state is the {s.a} in? It is {state}.", f"Is the {s.a} {state}? Yes, it is {state}."))
    if s.kind == "carrying":
        return f"What are you carrying? {answer}."
    if s.kind == "not_carrying":
        return "What are you carrying? Nothing."
    if s.kind == "nothing":
        return "What happens? Nothing."
    if s.kind == "pick":
        return f"What do you pick up from the {s.b}? The {s.a}."
    if s.kind == "move":
        return f"Where do you move the {s.a}? To the {s.b}."
    if s.kind == "treat":
        return f"What do you {s.verb} using the {s.b}? The {s.a}."
    if s.kind == "middle":
        return "Where are you? In the middle of a room."
    if s.kind == "facing":
        return f"What are you facing? The {s.listed}."
    if s.kind == "special":
        return f"Anything special about {s.a}? There's nothing special about it."
    return None


# -- the state as a noun-phrase appositive ----------------------------------------------------------------------
def _appositive(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """The open/closed state as a noun-phrase appositive after the receptacle: 'You arrive at drawer 10, a closed
    drawer.', 'You arrive at the fridge 1 -- a closed fridge.', 'You open the cabinet 1, now an open cabinet. In it,
    you see a mug 1.', 'You close the drawer 1, now a closed drawer.'"""
    s = sents[i]
    kind = s.a.split(" ")[0]
    sep = rng.choice((", ", ", ", " -- ", " — "))
    if s.kind == "arrive" and (state := after(sents, i, "is_open", "is_closed")):
        adj = _state(state)
        return f"You arrive at {rng.choice(('', 'the '))}{s.a}{sep}{article(adj)} {adj} {kind}.", 2
    if s.kind == "open" and after(sents, i, "is_open"):
        return f"You open the {s.a}{sep}now an open {kind}.", 2
    if s.kind == "close":
        return f"You close the {s.a}{sep}now a closed {kind}.", 1
    if s.kind in ("is_open", "is_closed") and i == 0:
        adj = _state(s)
        return f"The {s.a} is {article(adj)} {adj} {kind}.", 1
    return s.text, 1


# -- causal clauses and connectives -----------------------------------------------------------------------------
def _causal(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """Causal clauses and connectives that tie what is seen to the event: 'Now that you are at sofa 1, you see a
    box 3 on it.', 'You arrive at drawer 10, so you see that it is closed.', 'You open the cabinet 1, so it is open,
    and in it you see a mug 1.', 'You pick up the box 3 from the sofa 1, so it is now in your hand.'"""
    s = sents[i]
    if s.kind == "arrive":
        on, state = after(sents, i, "on"), after(sents, i, "is_open", "is_closed")
        since = rng.choice((f"Now that you are at {s.a}", f"Since you are at {s.a} now", f"Because you are at {s.a}"))
        if on:
            if rng.random() < 0.3:
                return f"You arrive at {s.a}; as a result, you see {things(on)} {in_on(s.a)} it.", 2
            return f"{since}, you see {things(on)} {in_on(s.a)} it.", 2
        if state and state.kind == "is_closed":
            if rng.random() < 0.5:
                return f"You arrive at {s.a}, so you see that it is closed.", 2
            return f"{since}, you see that it is closed.", 2
        if state and (seen := next_of_kind(sents, i + 1, "in_it")):
            return f"{since}, you see that it is open, and in it you see {seen.listed}.", 3
    elif s.kind == "open" and after(sents, i, "is_open") and (seen := next_of_kind(sents, i + 1, "in_it")):
        return f"You open the {s.a}, so it is open, and in it you see {seen.listed}.", 3
    elif s.kind == "close":
        return f"You close the {s.a}, so it is now closed.", 1
    elif s.kind == "pick":
        return f"You pick up the {s.a} from the {s.b}, so it is now in your hand.", 1
    elif s.kind == "move":
        return f"You move the {s.a} to the {s.b}, so it is now {in_on(s.b)} the {s.b}.", 1
    elif s.kind == "middle" and (around := next_of_kind(sents, i, "around")):
        return f"You are in the middle of a room, so looking quickly around you, you see {around.listed}.", 2
    elif s.kind == "facing" and (beside := next_of_kind(sents, i, "next_to")):
        return f"You are facing the {s.listed}, so next to it you see {beside.listed}.", 2
    return s.text, 1


# -- emoji markers ----------------------------------------------------------------------------------------------
_EMOJI = {
    "arrive": "📍", "on": "👀", "in_it": "👀", "next_to": "👀", "around": "👀", "is_open": "🔓", "is_closed": "🔒",
    "open": "🔓", "close": "🔒", "pick": "✋", "move": "📦", "turn": "💡", "slice": "🔪", "carrying": "🎒",
    "not_carrying": "🎒", "nothing": "⚠️", "middle": "🏠", "facing": "🧭", "special": "🔍", "this_is": "🔍",
}  # fmt: skip
_TREAT = {"heat": "🔥", "cool": "❄️", "clean": "🧼"}


def _emoji(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """An emoji marker before each sentence, as chat models decorate a scene: '📍 You arrive at sofa 1. 👀 On the
    sofa 1, you see a box 3.', '🔒 The drawer 10 is closed.', '✋ You pick up ...', each on its own line or not."""
    if not all_known(sents):
        return None
    sep = rng.choice((" ", "\n"))
    return sep.join(f"{_TREAT.get(s.verb, '') if s.kind == 'treat' else _EMOJI[s.kind]} {s.text}" for s in sents)


# -- what is seen as a markdown table ---------------------------------------------------------------------------
def _cells(s: Sentence, rng: random.Random) -> str:
    if len(s.items) > 1 and rng.random() < 0.4:
        return ", ".join(f"{article(i)} {i}" for i in s.items)
    return things(s)


_WHERE = {"next_to": "next to it", "around": "around you"}


def _table(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """What is seen and the open/closed states as markdown tables, the events kept as sentences: 'You arrive at
    sofa 1.\\n\\n| place | what you see |\\n|---|---|\\n| on the sofa 1 | a box 3, and a pillow 1 |', 'You arrive at
    drawer 10.\\n\\n| receptacle | state |\\n|---|---|\\n| drawer 10 | closed |'."""
    if not all_known(sents):
        return None
    heads = {"see": "| place | what you see |", "state": "| receptacle | state |"}
    blocks: list[tuple[str, list[str]]] = []  # (table kind or "text", its rows or sentences)
    named = ""
    for s in sents:
        if s.kind in ("arrive", "open", "is_open", "is_closed"):
            named = s.a
        if s.kind in _LISTS and not (s.kind == "in_it" and not named):
            where = f"{in_on(s.a)} the {s.a}" if s.kind == "on" else _WHERE.get(s.kind, f"in the {named}")
            kind, row = "see", f"| {where} | {_cells(s, rng)} |"
        elif s.kind in ("is_open", "is_closed"):
            kind, row = "state", f"| {s.a} | {_state(s)} |"
        else:
            kind, row = "text", s.text
        if blocks and blocks[-1][0] == kind:
            blocks[-1][1].append(row)
        else:
            blocks.append((kind, [row]))
    if all(kind == "text" for kind, _ in blocks):
        return None
    out = [" ".join(rows) if kind == "text" else "\n".join([heads[kind], "|---|---|", *rows]) for kind, rows in blocks]
    return "\n\n".join(out)


# -- the observation in a code fence ----------------------------------------------------------------------------
def _fence(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The observation in a markdown code fence, as chat models hand back a predicted text: '```\\nYou arrive at
    sofa 1. On the sofa 1, you see ...\\n```', or with a language tag ('```text')."""
    if not all_known(sents):
        return None
    return f"{rng.choice(('```', '```', '```text', '```plaintext'))}\n{_body(sents)}\n```"


# -- the observation in quotation marks -------------------------------------------------------------------------
def _quoted(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The observation in quotation marks, straight or curly, as a model quotes what the game would print: '"You
    arrive at sofa 1. On the sofa 1, you see ..."', '“The drawer 10 is closed.”'."""
    if not all_known(sents):
        return None
    left, right = rng.choice((('"', '"'), ("“", "”"), ("“", "”"), ("'", "'")))
    return f"{left}{_body(sents)}{right}"


# -- a heading that names the place arrived at ------------------------------------------------------------------
def _heading(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """A heading line that names the place arrived at, the observation under it unchanged: '## Sofa 1\\nYou arrive
    at sofa 1. ...', '**Drawer 10**\\nYou arrive at drawer 10. The drawer 10 is closed.', 'Sofa 1\\n------\\n...'."""
    if not all_known(sents) or sents[0].kind != "arrive":
        return None
    name = capital(sents[0].a)
    head = rng.choice((f"## {name}", f"### {name}", f"**{name}**", f"{name}\n{'-' * len(name)}", f"[{name}]"))
    return f"{head}\n{_body(sents)}"


_QA = ("on", "in_it", "next_to", "around", "is_open", "is_closed", "carrying", "not_carrying", "nothing", "pick",
       "move", "treat", "middle", "facing", "special")  # fmt: skip


def _qa(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    return per_sentence(dict.fromkeys(_QA, _qa_rule))(sents, rng, tr) if all_known(sents) else None


_qa.__doc__ = _qa_rule.__doc__

FAMILIES: dict[str, Family] = {
    name: family(name, reword)
    for name, reword in (
        ("result_infinitive", stepwise(_result_infinitive)),
        ("as_for_topic", _as_for),
        ("question_answer", _qa),
        ("appositive_state", stepwise(_appositive)),
        ("causal_connective", stepwise(_causal)),
        ("emoji_marker", _emoji),
        ("markdown_table", _table),
        ("code_fence", _fence),
        ("quotation_marks", _quoted),
        ("location_heading", _heading),
    )
}

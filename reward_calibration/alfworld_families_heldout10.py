"""TENTH held-out paraphrase families of real ALFWorld next states: the tenth holdout set, NOT for development.

Do not read these families, their corpus or their results while writing or tuning a fact reader: they measure how a
reader does on rewordings it was not built against. They were written without reading the fact reader. They follow
the interface of `reward_calibration.family_framework` (a family is `(Transition) -> str | None`, None where it does
not apply; the world state is kept exactly and the task-status line stays verbatim as the last line), and reword in
kinds that neither the dev families nor the first nine held-out sets use, chosen for how people and instruction-tuned
models asked to "predict the next observation" write a state down: the game's run-together names written as the
English compounds they are ("You arrive at sink basin 1.", "a garbage can 1", "a credit card 2"), the names written
as code identifiers ("You arrive at drawer_10. The drawer_10 is closed.", "`sofa_1`", "drawer-10", "drawer10"), the
command echoed on a prompt line before the observation, as a transcript of a text game shows it ("> go to drawer
10\\nYou arrive at drawer 10. ..."), an open or closed state said as the negation of its opposite ("The drawer 10 is
not open.", "The cabinet 1 is no longer closed."), what the state implies for the player added to it ("The drawer 10
is closed, so you can't see inside it.", "On the sofa 1, you see nothing, so there's nothing here to take.", "They
are all within your reach."), the state as predicate-logic facts ("at(agent, drawer 10)\\nis_closed(drawer 10)",
"on(box 3, sofa 1). on(pillow 1, sofa 1)."), two sentences joined by an em dash ("You arrive at drawer 10 — the
drawer 10 is closed."), lists written as bracketed arrays ("On the sofa 1, you see [box 3, pillow 1].", "['box 3',
'pillow 1']"), lists told as the exception to nothing ("Apart from a box 3 and a pillow 1, there is nothing on the
sofa 1.", "In it, you see nothing but a cloth 1."), and an open or closed state named as a state or a position ("The
drawer 10 is in a closed state.", "The fridge 1 is in the open position.").

    python -m reward_calibration.alfworld_families --families heldout10 --out DIR --label before
"""

from __future__ import annotations

import random
import re

from reward_calibration.family_framework import (
    Family,
    Sentence,
    Transition,
    body_text,
    family,
    in_on,
    known_only,
    lower_first,
    say,
    stepwise,
)

_LISTS = ("on", "in_it", "next_to", "around")
_NAME = re.compile(r"\b([a-z]+) (\d+)\b")  # a numbered name: 'drawer 10', 'box 3'


# -- the run-together names as English compounds -----------------------------------------------------------------
# ALFWorld's names run the words of a compound together; people write them apart. Names that are one English word
# (armchair, countertop, houseplant, keychain, newspaper, ...) are left alone.
_COMPOUNDS: dict[str, str] = {
    "alarmclock": "alarm clock",
    "baseballbat": "baseball bat",
    "bathtubbasin": "bathtub basin",
    "butterknife": "butter knife",
    "cellphone": "cell phone",
    "coffeemachine": "coffee machine",
    "coffeetable": "coffee table",
    "creditcard": "credit card",
    "desklamp": "desk lamp",
    "diningtable": "dining table",
    "dishsponge": "dish sponge",
    "floorlamp": "floor lamp",
    "garbagecan": "garbage can",
    "glassbottle": "glass bottle",
    "handtowel": "hand towel",
    "handtowelholder": "hand towel holder",
    "laundryhamper": "laundry hamper",
    "lightswitch": "light switch",
    "papertowel": "paper towel",
    "papertowelroll": "paper towel roll",
    "peppershaker": "pepper shaker",
    "remotecontrol": "remote control",
    "saltshaker": "salt shaker",
    "scrubbrush": "scrub brush",
    "showerdoor": "shower door",
    "showerglass": "shower glass",
    "showerhead": "shower head",
    "sidetable": "side table",
    "sinkbasin": "sink basin",
    "soapbar": "soap bar",
    "soapbottle": "soap bottle",
    "spraybottle": "spray bottle",
    "stoveburner": "stove burner",
    "stoveknob": "stove knob",
    "teddybear": "teddy bear",
    "tennisracket": "tennis racket",
    "tissuebox": "tissue box",
    "toiletpaper": "toilet paper",
    "toiletpaperhanger": "toilet paper hanger",
    "toiletpaperroll": "toilet paper roll",
    "towelholder": "towel holder",
    "tvstand": "TV stand",
    "wateringcan": "watering can",
    "winebottle": "wine bottle",
}
_COMPOUND = re.compile(r"\b(" + "|".join(sorted(_COMPOUNDS, key=len, reverse=True)) + r") (?=\d)")


def _spaced_compounds(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The game's run-together names written as the English compounds they are, as anyone retelling the game
    writes them: 'You arrive at sink basin 1. On the sink basin 1, you see a dish sponge 2, and a soap bottle 1.',
    'You arrive at garbage can 1.', 'You pick up the credit card 2 from the side table 1.', 'You move the hand towel
    1 to the hand towel holder 1.' Every number and every other word is kept; names that are one English word
    (armchair, countertop, newspaper) stay as they are."""
    body = body_text(sents)
    out = _COMPOUND.sub(lambda m: _COMPOUNDS[m.group(1)] + " ", body)
    return out if out != body else None


# -- the names as code identifiers ---------------------------------------------------------------------------------
def _identifiers(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Each name written as a code identifier, as models that have seen the game's ids write them: 'You arrive at
    drawer_10. The drawer_10 is closed.', 'On the sofa_1, you see a box_3, and a pillow_1.', 'You pick up the box-3
    from the sofa-1.', 'You arrive at drawer10.'; sometimes in backticks, as markdown sets off an identifier: 'On
    the `sofa_1`, you see a `box_3`.' One notation for the whole observation."""
    joint = rng.choice(("_", "_", "_", "-", ""))
    tick = "`" if rng.random() < 0.3 else ""
    return _NAME.sub(lambda m: f"{tick}{m.group(1)}{joint}{m.group(2)}{tick}", body_text(sents))


# -- the command echoed on a prompt line ---------------------------------------------------------------------------
def _command_echo(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The command the player typed echoed on a prompt line before the observation, as a transcript of a text game
    shows a turn: '> go to drawer 10\\nYou arrive at drawer 10. The drawer 10 is closed.', '>take box 3 from sofa
    1\\n\\nYou pick up the box 3 from the sofa 1.', 'Command: open cabinet 1\\nYou open the cabinet 1. ...' The
    command is the one that was taken, word for word; the observation follows it unchanged."""
    command = tr.action.strip()
    if not command or "\n" in command:
        return None
    prompt = rng.choice(("> ", "> ", "> ", ">", "Command: "))
    gap = rng.choice(("\n", "\n", "\n\n"))
    return f"{prompt}{command}{gap}{body_text(sents)}"


# -- an open or closed state as the negation of its opposite ----------------------------------------------------
def _negated_antonym(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """An open or closed receptacle said as not being the opposite, as people put a binary state: 'You arrive at
    drawer 10. The drawer 10 is not open.', 'The drawer 10 isn't open.', 'You arrive at cabinet 20. The cabinet 20
    is not closed.'; right after the opening, 'You open the cabinet 1. The cabinet 1 is no longer closed. In it,
    you see nothing.' Nothing else is reworded."""
    out, changed = [], False
    for i, s in enumerate(sents):
        prev = sents[i - 1] if i else None
        if s.kind == "is_closed":
            new = rng.choice((f"The {s.a} is not open.", f"The {s.a} is not open.", f"The {s.a} isn't open."))
        elif s.kind == "is_open" and prev is not None and prev.kind == "open" and prev.a == s.a:
            new = rng.choice((f"The {s.a} is no longer closed.", f"The {s.a} is not closed anymore."))
        elif s.kind == "is_open":
            new = rng.choice((f"The {s.a} is not closed.", f"The {s.a} isn't closed."))
        else:
            out.append(s.text)
            continue
        out.append(new)
        changed = True
    return " ".join(out) if changed else None


# -- what the state implies for the player ------------------------------------------------------------------------
_CLOSED_SO = (
    ", so you can't see inside it.",
    ", so you cannot see what is in it.",
    "; you would have to open it to look inside.",
    ". You can't see inside it without opening it.",
)
_EMPTY_SO = (
    ", so there's nothing here to take.",
    ", so there is nothing to pick up.",
    ". There's nothing here for you to take.",
)
_REACH_ONE = (" It is within your reach.", " You could take it.", " It's within reach.")
_REACH_MANY = (" They are all within your reach.", " You could take any of them.", " All of them are within reach.")
_GO_TO = (" You could go to any of them.", " You can go to any of them from here.")


def _consequence(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """What the state implies for the player added after it, as models explain an observation: 'You arrive at
    drawer 10. The drawer 10 is closed, so you can't see inside it.', 'On the sofa 1, you see nothing, so there's
    nothing here to take.', 'On the sofa 1, you see a box 3, and a pillow 1. They are all within your reach.',
    'You are not carrying anything, so your hands are free.' What is added is what the player can or cannot do or
    see, never another thing, state or event."""
    out, changed = [], False
    for i, s in enumerate(sents):
        prev = sents[i - 1] if i else None
        new: str | None = None
        if s.kind == "is_closed" and prev is not None and prev.kind == "arrive" and prev.a == s.a:
            new = s.text[:-1] + rng.choice(_CLOSED_SO)
        elif s.kind in _LISTS and not s.items:
            new = s.text[:-1] + rng.choice(_EMPTY_SO)
        elif s.kind == "around":
            new = s.text + rng.choice(_GO_TO)
        elif s.kind in ("on", "in_it", "next_to"):
            new = s.text + rng.choice(_REACH_ONE if len(s.items) == 1 else _REACH_MANY)
        elif s.kind == "not_carrying":
            new = s.text[:-1] + rng.choice((", so your hands are free.", ", so you are free to pick something up."))
        if new is None:
            out.append(s.text)
            continue
        out.append(new)
        changed = True
    return " ".join(out) if changed else None


# -- the state as predicate-logic facts ----------------------------------------------------------------------------
def _referent(sents: list[Sentence], i: int) -> str | None:
    """The receptacle 'it' names in sents[i] ('In it, ...', 'Next to it, ...'): the one just arrived at, opened or
    faced; None when that is not one receptacle."""
    for s in reversed(sents[:i]):
        if s.kind in ("arrive", "open", "is_open", "is_closed"):
            return s.a
        if s.kind == "facing":
            return s.items[0] if len(s.items) == 1 else None
    return None


def _facts(sents: list[Sentence], i: int, agent: str, q: str) -> list[str] | None:
    """sents[i] as facts ('at(agent, drawer 10)', 'on(box 3, sofa 1)'); None when it has no such form."""
    s = sents[i]

    def n(name: str) -> str:
        return f"{q}{name}{q}"

    if s.kind == "arrive":
        return [f"at({agent}, {n(s.a)})"]
    if s.kind in ("open", "close"):
        return [f"{'opened' if s.kind == 'open' else 'closed'}({agent}, {n(s.a)})"]
    if s.kind in ("is_open", "is_closed"):
        return [f"{s.kind}({n(s.a)})"]
    if s.kind == "pick":
        return [f"picked_up({agent}, {n(s.a)}, from={n(s.b)})"]
    if s.kind == "move":
        return [f"moved({agent}, {n(s.a)}, to={n(s.b)})"]
    if s.kind == "treat":
        return [f"{s.verb}ed({agent}, {n(s.a)}, using={n(s.b)})"]
    if s.kind == "turn":
        return [f"turned_{s.verb}({agent}, {n(s.a)})"]
    if s.kind == "slice":
        return [f"sliced({agent}, {n(s.a)}, with={n(s.b)})"]
    if s.kind == "on":
        return [f"on({n(x)}, {n(s.a)})" for x in s.items] or [f"empty({n(s.a)})"]
    if s.kind in ("in_it", "next_to"):
        where = _referent(sents, i)
        if where is None:
            return None
        if s.kind == "in_it":
            return [f"in({n(x)}, {n(where)})" for x in s.items] or [f"empty({n(where)})"]
        return [f"next_to({n(x)}, {n(where)})" for x in s.items] or [f"nothing_next_to({n(where)})"]
    if s.kind == "carrying":
        return [f"holding({agent}, {n(x)})" for x in s.items]
    if s.kind == "not_carrying":
        return [f"holding({agent}, nothing)"]
    if s.kind == "middle":
        return [f"in_middle_of_room({agent})"]
    if s.kind == "around":
        return [f"sees({agent}, {n(x)})" for x in s.items] or [f"sees({agent}, nothing)"]
    if s.kind == "facing":
        return [f"facing({agent}, {n(x)})" for x in s.items]
    if s.kind == "special":
        return [f"nothing_special({n(s.a)})"]
    if s.kind == "nothing":
        return ["nothing_happens()"]
    return None


def _predicates(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The state as predicate-logic facts, as models that think of the game in PDDL or Prolog write it down: 'You
    arrive at drawer 10. The drawer 10 is closed.' -> 'at(agent, drawer 10)\\nis_closed(drawer 10)'; 'On the sofa 1,
    you see a box 3, and a pillow 1.' -> 'on(box 3, sofa 1). on(pillow 1, sofa 1).'; 'You pick up the box 3 from
    the sofa 1.' -> 'picked_up(you, box 3, from=sofa 1)'; an empty receptacle as 'empty(cabinet 1)'. One fact per
    line, Prolog's full stops, commas or '∧' between them; the names bare or quoted."""
    agent = rng.choice(("agent", "agent", "you"))
    q = '"' if rng.random() < 0.25 else ""
    facts: list[str] = []
    for i in range(len(sents)):
        got = _facts(sents, i, agent, q)
        if got is None:
            return None
        facts.extend(got)
    style = rng.choice(("lines", "lines", "prolog", "comma", "wedge"))
    if style == "lines":
        return "\n".join(facts)
    if style == "prolog":
        return rng.choice(("\n", " ")).join(f"{f}." for f in facts)
    return (", " if style == "comma" else " ∧ ").join(facts)


# -- two sentences joined by an em dash ------------------------------------------------------------------------
def _em_dash(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Two sentences of the observation joined by an em dash, as models run a finding on from what led to it: 'You
    arrive at drawer 10 — the drawer 10 is closed.', 'You arrive at sofa 1 — on the sofa 1, you see a box 3, and a
    pillow 1.', 'You open the cabinet 1. The cabinet 1 is open—in it, you see nothing.', 'You are facing the sofa 1
    -- next to it, you see nothing.' One dash in an observation; the sentences are otherwise as they were."""
    if len(sents) < 2:
        return None
    i = rng.randrange(len(sents) - 1)
    dash = rng.choice((" — ", " — ", " — ", "—", " -- "))
    joined = f"{sents[i].text[:-1]}{dash}{lower_first(sents[i + 1].text)}"
    return " ".join([*(s.text for s in sents[:i]), joined, *(s.text for s in sents[i + 2 :])])


# -- lists as bracketed arrays --------------------------------------------------------------------------------------
def _array(items: tuple[str, ...], style: str) -> str:
    if style == "articles":
        return "[" + ", ".join(f"a {x}" for x in items) + "]"
    quote = {"bare": "", "single": "'", "double": '"'}[style]
    return "[" + ", ".join(f"{quote}{x}{quote}" for x in items) + "]"


def _bracketed(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Each list of things written as a bracketed array, as models half in code write one: 'On the sofa 1, you see
    [box 3, newspaper 2, pillow 1].', 'In it, you see: ['egg 1', 'mug 1'].', 'You are carrying: ["pen 1"].', 'On
    the desk 1, you see [a cd 1, a pen 2].' Every thing of the list is kept, in its order; an empty list ('you see
    nothing') stays as it is. One notation for the whole observation."""
    style = rng.choice(("bare", "bare", "single", "double", "articles"))
    colon = rng.random() < 0.3
    out, changed = [], False
    for s in sents:
        if s.kind in (*_LISTS, "carrying") and s.items:
            head = s.text[: s.text.rindex(s.listed)].rstrip()
            if colon and not head.endswith(":"):
                head += ":"
            out.append(f"{head} {_array(s.items, style)}.")
            changed = True
        else:
            out.append(s.text)
    return " ".join(out) if changed else None


# -- a list as the exception to nothing -----------------------------------------------------------------------------
def _exceptive_rule(s: Sentence, rng: random.Random) -> str | None:
    things = s.listed
    # fronted, a list of two reads without ALFWorld's comma before 'and': 'Apart from a box 3 and a pillow 1, ...'
    front = say(s.items, "a", oxford=len(s.items) > 2)
    if s.kind == "on":
        where = f"{in_on(s.a)} the {s.a}"
        return rng.choice(
            (f"Apart from {front}, there is nothing {where}.", f"There is nothing {where} except {things}.",
             f"On the {s.a}, you see nothing but {things}.", f"Other than {front}, you see nothing {where}.")
        )  # fmt: skip
    if s.kind == "in_it":
        return rng.choice(
            (f"Apart from {front}, there is nothing in it.", f"In it, you see nothing but {things}.",
             f"There is nothing in it except {things}.", f"Other than {front}, you see nothing in it.")
        )  # fmt: skip
    if s.kind == "next_to":
        return rng.choice(
            (f"Next to it, you see nothing but {things}.", f"Apart from {front}, there is nothing next to it.")
        )
    if s.kind == "around":
        return f"Looking quickly around you, you see nothing but {things}."
    if s.kind == "carrying":
        return rng.choice((f"You are carrying nothing but {things}.", f"Apart from {front}, you carry nothing."))
    return None


def _exceptive(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """A list of things told as the only exception to nothing, as people stress that a list is all there is: 'Apart
    from a box 3 and a pillow 1, there is nothing on the sofa 1.', 'There is nothing in the garbagecan 1 except a
    soapbottle 1.', 'In it, you see nothing but a cloth 1.', 'Other than a mug 1, you see nothing on the shelf 2.',
    'You are carrying nothing but a pen 1.' The list is ALFWorld's (a list of two put first without its comma
    before 'and'); empty lists stay as they are."""
    out, changed = [], False
    for s in sents:
        new = _exceptive_rule(s, rng) if s.items else None
        changed |= new is not None
        out.append(new or s.text)
    return " ".join(out) if changed else None


# -- an open or closed state named as a state or a position -------------------------------------------------------
def _state_noun(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """An open or closed receptacle said to be in that state or position, as technical writing names a binary
    state: 'You arrive at drawer 10. The drawer 10 is in a closed state.', 'The drawer 10 is in the closed
    position.', 'You open the fridge 1. The fridge 1 is now in an open state. In it, you see ...' Nothing else is
    reworded."""
    s = sents[i]
    if s.kind not in ("is_open", "is_closed"):
        return s.text, 1
    state = "open" if s.kind == "is_open" else "closed"
    now = "now " if i and sents[i - 1].kind == "open" and sents[i - 1].a == s.a and rng.random() < 0.5 else ""
    art = "an" if state == "open" else "a"
    return rng.choice(
        (f"The {s.a} is {now}in {art} {state} state.", f"The {s.a} is {now}in the {state} position.",
         f"The {s.a} is {now}in its {state} position.")
    ), 1  # fmt: skip


FAMILIES: dict[str, Family] = {
    name: family(name, reword)
    for name, reword in (
        ("spaced_compounds", known_only(_spaced_compounds)),
        ("identifier_tokens", known_only(_identifiers)),
        ("command_echo", known_only(_command_echo)),
        ("negated_antonym", known_only(_negated_antonym)),
        ("implied_consequence", known_only(_consequence)),
        ("predicate_facts", known_only(_predicates)),
        ("em_dash_join", known_only(_em_dash)),
        ("bracketed_list", known_only(_bracketed)),
        ("exceptive_list", known_only(_exceptive)),
        ("state_noun", stepwise(_state_noun)),
    )
}  # fmt: skip

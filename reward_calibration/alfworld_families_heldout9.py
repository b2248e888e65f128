"""NINTH held-out paraphrase families of real ALFWorld next states: the ninth holdout set, NOT for development.

Do not read these families, their corpus or their results while writing or tuning a fact reader: they measure how a
reader does on rewordings it was not built against. They were written without reading the fact reader. They follow
the interface of `reward_calibration.family_framework` (a family is `(Transition) -> str | None`, None where it does
not apply; the world state is kept exactly and the task-status line stays verbatim as the last line), and reword in
kinds that neither the dev families nor the first eight held-out sets use, chosen for how people and
instruction-tuned models asked to "predict the next observation" write a state down: a number sign before the numbers
of the names ("You arrive at drawer #10. The drawer #10 is closed.", "a box No. 3"), the word "number" before them or
the number spelled out ("drawer number 10", "drawer number ten", "a pillow one"), each thing named first by its kind
with its name in parentheses ("You arrive at the sofa (sofa 1). On the sofa 1, you see a box (box 3)."), the
observation in indirect speech ("The game tells you that you arrive at sofa 1, and that on the sofa 1, you see ..."),
the words that carry the news in capitals ("The drawer 10 is CLOSED.", "In it, you see NOTHING.", "You PICK UP the
box 3 ..."), a step or speaker tag before the observation ("[Step 4] You arrive at ...", "[Env] ..."), a one-line
summary before the observation in full ("Summary: you are at drawer 10, which is closed.\\n\\nYou arrive ..."), what
an arrival or an opening shows put in parentheses after the receptacle ("You arrive at drawer 10 (closed).", "You
arrive at sofa 1 (on it: a box 3, and a pillow 1)."), a let-down told with a contrastive connective ("You arrive at
drawer 10, but the drawer 10 is closed.", "However, on the sofa 1, you see nothing."), and plain list punctuation (no
comma after "On the sofa 1", no serial comma, no "and", or semicolons between the things).

    python -m reward_calibration.alfworld_families --families heldout9 --out DIR --label before
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
_EVENTS = ("arrive", "open", "close", "pick", "move", "treat", "turn", "slice")
_NAME = re.compile(r"\b([a-z]+) (\d+)\b")


_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _spelled(n: int) -> str:
    """An English number word, 0 to 99 ('three', 'twenty-one'); the digits above that."""
    if n < 20:
        return _ONES[n]
    if n > 99:
        return str(n)
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def _things(n: int) -> str:
    return f"{_spelled(n)} {'thing' if n == 1 else 'things'}"


# -- a number sign before the numbers -------------------------------------------------------------------------------
def _number_sign(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Each name's number written with a number sign, as people label numbered things: 'You arrive at drawer #10.
    The drawer #10 is closed.', 'On the sofa #1, you see a box #3, and a pillow #1.', or with 'No.': 'You pick up
    the box No. 3 from the sofa No. 1.' One notation for the whole observation."""
    sign = rng.choice(("#", "#", "No. "))
    return _NAME.sub(lambda m: f"{m.group(1)} {sign}{m.group(2)}", body_text(sents))


# -- the word 'number', or the number spelled out -----------------------------------------------------------------
def _number_word(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Each name's number said as a word, as one reads the names aloud: 'You arrive at drawer number 10.', 'The
    drawer number ten is closed.', 'On the sofa one, you see a box three, and a pillow one.' One way for the whole
    observation: 'number 10', 'number ten' or 'ten'."""
    style = rng.choice(("number_digits", "number_word", "number_word", "word"))

    def name(m: re.Match[str]) -> str:
        kind, n = m.group(1), m.group(2)
        word = _spelled(int(n))
        if style == "number_digits":
            return f"{kind} number {n}"
        return f"{kind} number {word}" if style == "number_word" else f"{kind} {word}"

    return _NAME.sub(name, body_text(sents))


# -- the kind first, the name in parentheses ------------------------------------------------------------------------
_NAMED = re.compile(r"(?:\b(an?|the|The) )?\b([a-z]+) (\d+)\b")


def _kind_then_id(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Each thing first named by its kind with its name after it in parentheses, as models write to keep both a
    natural noun and the game's name: 'You arrive at the sofa (sofa 1). On the sofa 1, you see a box (box 3), and a
    pillow (pillow 1).', 'You pick up the box (box 3) from the sofa (sofa 1).' Only the first mention of a name, or
    every mention."""
    every = rng.random() < 0.3
    seen: set[str] = set()

    def name(m: re.Match[str]) -> str:
        det, kind, n = m.group(1), m.group(2), m.group(3)
        full = f"{kind} {n}"
        if full in seen and not every:
            return m.group(0)
        seen.add(full)
        return f"{det or 'the'} {kind} ({full})"

    return _NAMED.sub(name, body_text(sents))


# -- indirect speech ----------------------------------------------------------------------------------------------
_REPORTERS = (
    "The game tells you that",
    "The game says that",
    "The game reports that",
    "The narrator tells you that",
    "The environment reports that",
    "You are told that",
)
_ALSO = ("It also says that", "It adds that", "It goes on to say that", "It also tells you that")


def _clause(s: Sentence) -> str:
    """A sentence as a that-clause: 'you arrive at sofa 1', 'the drawer 10 is closed', 'you are carrying a pen 1'."""
    text = s.text[:-1]
    if s.kind == "carrying":
        text = text.replace("carrying: ", "carrying ", 1)
    return lower_first(text)


def _indirect(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The observation in indirect speech, present tense kept, as one retells what a game printed: 'The game tells
    you that you arrive at drawer 10, and that the drawer 10 is closed.', 'The narrator tells you that you open the
    cabinet 1, that the cabinet 1 is open, and that in it, you see nothing.', or one report a sentence: 'The game
    says that you arrive at sofa 1. It adds that on the sofa 1, you see a box 3.'"""
    clauses = [_clause(s) for s in sents]
    head = rng.choice(_REPORTERS)
    if len(clauses) > 1 and rng.random() < 0.35:
        also = rng.sample(_ALSO, min(len(_ALSO), len(clauses) - 1))
        rest = [f"{also[k % len(also)]} {c}." for k, c in enumerate(clauses[1:])]
        return " ".join([f"{head} {clauses[0]}.", *rest])
    if len(clauses) == 1:
        return f"{head} {clauses[0]}."
    middle = "".join(f", that {c}" for c in clauses[1:-1])
    return f"{head} {clauses[0]}{middle}, and that {clauses[-1]}."


# -- the news in capitals ------------------------------------------------------------------------------------------
_EMPHASIS_STATE = ("is_open", "is_closed", "not_carrying", "nothing", "special")


def _state_caps(s: Sentence, rng: random.Random) -> str | None:
    if s.kind == "is_closed":
        return f"The {s.a} is CLOSED."
    if s.kind == "is_open":
        return f"The {s.a} is OPEN."
    if s.kind in _LISTS and not s.items:
        return s.text[: -len("nothing.")] + "NOTHING."
    if s.kind == "not_carrying":
        return rng.choice(("You are NOT carrying anything.", "You are not carrying ANYTHING."))
    if s.kind == "nothing":
        return "NOTHING happens."
    if s.kind == "special":
        return f"There's NOTHING special about {s.a}."
    return None


def _event_caps(s: Sentence) -> str | None:
    if s.kind in ("open", "close"):
        return f"You {s.kind.upper()} the {s.a}."
    if s.kind == "pick":
        return f"You PICK UP the {s.a} from the {s.b}."
    if s.kind == "move":
        return f"You MOVE the {s.a} to the {s.b}."
    if s.kind == "treat":
        return f"You {s.verb.upper()} the {s.a} using the {s.b}."
    if s.kind == "turn":
        return f"You turn {s.verb.upper()} the {s.a}."
    if s.kind == "slice":
        return s.text.replace("You slice", "You SLICE", 1)
    return None


def _caps(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The word that carries the news in capitals, as people stress it in plain text: 'The drawer 10 is CLOSED.',
    'On the sofa 1, you see NOTHING.', 'You are NOT carrying anything.', 'NOTHING happens.'; where nothing is closed,
    open or missing, the event's verb: 'You PICK UP the box 3 from the sofa 1.', 'You CLEAN the ladle 1 using the
    sinkbasin 1.', 'You turn ON the desklamp 1.' Arrivals and lists of things stay as they are."""
    stressed = [_state_caps(s, rng) for s in sents]
    if not any(stressed):
        stressed = [_event_caps(s) for s in sents]
    if not any(stressed):
        return None
    return " ".join(new or s.text for s, new in zip(sents, stressed, strict=True))


# -- a step or speaker tag ------------------------------------------------------------------------------------------
def _step_tag(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """A step or speaker tag before the observation, as a transcript of a run marks its turns: '[Step 4] You arrive
    at sofa 1. ...', 'Step 4: ...', '[t=4] ...', 'Turn 4: ...', '[Env] ...', '[Env | step 4]' on a line of its
    own. The step is the one the observation answers (the branch's step + 1)."""
    n = tr.t + 1
    tag = rng.choice((f"[Step {n}]", f"Step {n}:", f"[t={n}]", f"Turn {n}:", "[Env]", f"[Env | step {n}]"))
    return tag + rng.choice((" ", " ", "\n")) + body_text(sents)


# -- a one-line summary first ---------------------------------------------------------------------------------------
def _with_list(s: Sentence, where: str) -> str:
    """', with nothing on it' or ', with three things on it' (the count of the sentence's things)."""
    return f"with {'nothing' if not s.items else _things(len(s.items))} {where}"


def _summary_clause(sents: list[Sentence], i: int) -> tuple[str, int]:
    """What sents[i] (with the sentences that go with it) leaves true, as a short clause, and how many it took."""
    s = sents[i]
    nxt = sents[i + 1] if i + 1 < len(sents) else None
    third = sents[i + 2] if i + 2 < len(sents) else None
    if s.kind in ("arrive", "open"):
        head = f"you are at {s.a}" if s.kind == "arrive" else f"the {s.a} is now open"
        if nxt is not None and nxt.a == s.a and nxt.kind == "on":
            return f"{head}, {_with_list(nxt, 'on it')}", 2
        if nxt is not None and nxt.a == s.a and nxt.kind in ("is_open", "is_closed"):
            state = "open" if nxt.kind == "is_open" else "closed"
            head = f"{head}, which is {state}" if s.kind == "arrive" else head
            if third is not None and third.kind == "in_it":
                return f"{head}, {_with_list(third, 'in it')}", 3
            return head, 2
        if s.kind == "open" and nxt is not None and nxt.kind == "in_it":
            return f"{head}, {_with_list(nxt, 'in it')}", 2
        return head, 1
    if s.kind in ("is_open", "is_closed"):
        return f"the {s.a} is {'open' if s.kind == 'is_open' else 'closed'}", 1
    if s.kind == "on":
        if not s.items:
            return f"nothing is on the {s.a}", 1
        return f"the {s.a} has {_things(len(s.items))} on it", 1
    if s.kind == "close":
        return f"the {s.a} is now closed", 1
    if s.kind == "pick":
        return f"you now hold the {s.a}", 1
    if s.kind == "move":
        return f"the {s.a} is now {in_on(s.b)} the {s.b}", 1
    if s.kind == "treat":
        return f"you have {s.verb}ed the {s.a} with the {s.b}", 1
    if s.kind == "turn":
        return f"the {s.a} is now {s.verb}", 1
    if s.kind == "slice":
        return f"the {s.a} is now sliced", 1
    if s.kind == "carrying":
        return f"you hold {s.listed}", 1
    if s.kind == "not_carrying":
        return "your hands are empty", 1
    if s.kind == "nothing":
        return "nothing changes", 1
    if s.kind == "special":
        return f"{s.a} is nothing special", 1
    if s.kind == "middle":
        if nxt is not None and nxt.kind == "around":
            return f"you are in the middle of a room, {_with_list(nxt, 'around you')}", 2
        return "you are in the middle of a room", 1
    if s.kind == "facing":
        if nxt is not None and nxt.kind == "next_to":
            return f"you are facing the {s.listed}, {_with_list(nxt, 'next to it')}", 2
        return f"you are facing the {s.listed}", 1
    if s.kind in ("in_it", "next_to", "around"):
        where = {"in_it": "in it", "next_to": "next to it", "around": "around you"}[s.kind]
        return f"you see {'nothing' if not s.items else _things(len(s.items))} {where}", 1
    return "", 1


_SUMMARY_LEADS = ("Summary:", "In short:", "TL;DR:", "Short version:", "In brief:")
_DETAIL_LEADS = ("", "", "Details: ", "In detail: ", "Full observation: ")


def _summary_first(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """A one-line summary before the observation in full, as models lead with the gist: 'Summary: you are at drawer
    10, which is closed.\\n\\nYou arrive at drawer 10. The drawer 10 is closed.', 'In short: you are at sofa 1, with
    three things on it.\\nDetails: You arrive at sofa 1. On the sofa 1, you see ...', 'TL;DR: you now hold the box
    3.' The summary counts what is seen and says nothing the observation does not."""
    clauses, i = [], 0
    while i < len(sents):
        clause, step = _summary_clause(sents, i)
        if not clause:
            return None
        clauses.append(clause)
        i += step
    summary = f"{rng.choice(_SUMMARY_LEADS)} {'; '.join(clauses)}."
    sep, details = rng.choice(("\n\n", "\n", " ")), rng.choice(_DETAIL_LEADS)
    if sep == " " and not details:  # on one line, the observation is set off by its lead
        details = _DETAIL_LEADS[-1]
    return f"{summary}{sep}{details}{body_text(sents)}"


# -- what an arrival or an opening shows, in parentheses --------------------------------------------------------
def _paren_list(s: Sentence, where: str, rng: random.Random) -> str:
    if s.items:
        return f"{where}: {s.listed}"
    return rng.choice((f"{where}: nothing", f"nothing {where}"))


def _parenthetical(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """What an arrival or an opening shows put in parentheses after the receptacle, as terse notes have it: 'You
    arrive at drawer 10 (closed).', 'You arrive at sofa 1 (on it: a box 3, and a pillow 1).', 'You arrive at
    cabinet 20 (open; in it: nothing).', 'You open the cabinet 1 (now open; nothing in it).', 'You are facing the
    sofa 1 (next to it: nothing).' Other sentences stay as they are."""
    s = sents[i]
    nxt = sents[i + 1] if i + 1 < len(sents) else None
    third = sents[i + 2] if i + 2 < len(sents) else None
    if nxt is None:
        return s.text, 1
    if s.kind in ("arrive", "open") and nxt.a == s.a and nxt.kind in ("is_open", "is_closed"):
        state = "open" if nxt.kind == "is_open" else "closed"
        if s.kind == "open":
            state = "now open"
        if third is not None and third.kind == "in_it":
            return f"{s.text[:-1]} ({state}; {_paren_list(third, 'in it', rng)}).", 3
        return f"{s.text[:-1]} ({state}).", 2
    if s.kind == "arrive" and nxt.a == s.a and nxt.kind == "on":
        return f"{s.text[:-1]} ({_paren_list(nxt, 'on it', rng)}).", 2
    if s.kind == "facing" and nxt.kind == "next_to" and len(s.items) == 1:  # 'it' must be the one thing faced
        return f"{s.text[:-1]} ({_paren_list(nxt, 'next to it', rng)}).", 2
    if s.kind == "middle" and nxt.kind == "around":
        return f"{s.text[:-1]} ({_paren_list(nxt, 'around you', rng)}).", 2
    return s.text, 1


# -- a let-down told with a contrastive connective --------------------------------------------------------------
def _letdown(s: Sentence, before: Sentence) -> bool:
    """Whether `s` disappoints what `before` leads one to hope for: a closed receptacle just reached, nothing seen."""
    if s.kind == "is_closed":
        return before.a == s.a
    if s.kind == "on":
        return not s.items and before.a == s.a
    return s.kind in ("in_it", "next_to", "around") and not s.items


def _contrast(sents: list[Sentence], i: int, rng: random.Random) -> tuple[str, int]:
    """A let-down told with a contrastive connective, as a narrator marks a hope not met: 'You arrive at drawer 10,
    but the drawer 10 is closed.', 'You arrive at sofa 1. However, on the sofa 1, you see nothing.', 'You open the
    cabinet 1. The cabinet 1 is open, but in it, you see nothing.', 'You are facing the sofa 1; however, next to it,
    you see nothing.' Nothing else is reworded."""
    s = sents[i]
    nxt = sents[i + 1] if i + 1 < len(sents) else None
    if nxt is None or not _letdown(nxt, s):
        return s.text, 1
    joint = rng.choice((", but ", ", but ", ". However, ", "; however, "))
    return f"{s.text[:-1]}{joint}{lower_first(nxt.text)}", 2


# -- plain list punctuation -----------------------------------------------------------------------------------------
_FRONTED = {"on": None, "in_it": "In it", "next_to": "Next to it"}


def _plain_list(items: tuple[str, ...], style: str) -> str:
    words = [f"a {i}" for i in items]
    if style == "no_serial":
        return say(items, "a", oxford=False)
    if style == "no_and":
        return ", ".join(words)
    return "; ".join(words[:-1]) + "; and " + words[-1]


def _punctuation(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Plain list punctuation, as people punctuate by ear: no comma after the fronted place ('On the sofa 1 you see
    a box 3.', 'In it you see nothing.'), and lists of two or more without the serial comma ('a box 3, a newspaper
    2 and a pillow 1'), without 'and' ('a box 3, a newspaper 2, a pillow 1'), or with semicolons ('a box 3; a
    newspaper 2; and a pillow 1'); 'You are carrying a pen 1.' without the colon."""
    multi = any(s.kind in (*_LISTS, "carrying") and len(s.items) > 1 for s in sents)
    drop_comma = rng.random() < 0.6 or not multi
    style = rng.choice(("no_serial", "no_serial", "no_and", "semicolons"))
    out = []
    for s in sents:
        text = s.text
        if s.kind in (*_LISTS, "carrying") and len(s.items) > 1:
            text = text[: text.rindex(s.listed)] + _plain_list(s.items, style) + "."
        if s.kind == "carrying":
            text = text.replace("carrying: ", "carrying ", 1)
        if drop_comma and s.kind in _FRONTED:
            lead = f"On the {s.a}" if s.kind == "on" else _FRONTED[s.kind]
            text = text.replace(f"{lead}, you see", f"{lead} you see", 1)
        out.append(text)
    return " ".join(out)


FAMILIES: dict[str, Family] = {
    name: family(name, reword)
    for name, reword in (
        ("number_sign", known_only(_number_sign)),
        ("number_word", known_only(_number_word)),
        ("kind_then_name", known_only(_kind_then_id)),
        ("indirect_speech", known_only(_indirect)),
        ("capitals_emphasis", known_only(_caps)),
        ("step_tag", known_only(_step_tag)),
        ("summary_first", known_only(_summary_first)),
        ("parenthetical_state", stepwise(_parenthetical)),
        ("contrastive_connective", stepwise(_contrast)),
        ("plain_punctuation", known_only(_punctuation)),
    )
}  # fmt: skip

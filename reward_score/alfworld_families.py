"""Paraphrase families of real ALFWorld next states: the dev positive corpus a fact reader must accept, per family.

A family rewords a real next state one way people (and instruction-tuned models) reword English -- an implied
sentence left out, an event told as the state it leaves, another tense, another word order, a synonym -- and keeps
exactly the same world state: the same numbered objects, the same open or closed receptacles, the same contents,
the same held object, the same object properties, the same refusal, and the task-status line verbatim as the last
line (the world-model prompt fixes it to "Task completed." / "Task is not yet completed."). A family is a function
`(Transition) -> str | None`; None when nothing of its kind is in the state. Each draws from a `random.Random`
seeded by the family, the transition and the seed, so a corpus is the same on every run.

The families were written from how people restate these sentences, not from the fact reader's phrase table.
`reward_score.alfworld_families_heldout` holds more families of other kinds: the held-out set, not for development.
`reward_score.alfworld_families_heldout2` holds a second held-out set (`--families heldout2`), not for development.
`reward_score.alfworld_families_heldout3` holds a third held-out set (`--families heldout3`), not for development.
`reward_score.alfworld_families_heldout4` holds a fourth held-out set (`--families heldout4`), not for development.

The CLI collects real transitions (`alfworld_pairs.collect_pairs`: both the trajectory's action and the branch's
other admissible action are real transitions of the same state), writes every applicable family's paraphrase to
`DIR/alfworld_families_<families>.jsonl`, scores each through `compute_score_batch` as the policy writes it, and
writes the per-family accepted share to `DIR/alfworld_families_<families>_<label>.json`:

    python -m reward_score.alfworld_families --data-root ../shared/alfworld --split valid_seen \\
        --families dev --out reward_score/calibration --label before
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reward_score.alfworld_rewrites import OBJECT_RE, list_items, split_status
from reward_score.answer_format import STATE_CLOSE, STATE_OPEN, THINK_CLOSE, THINK_OPEN

# -- reading a real state: ALFWorld's sentence forms ----------------------------------------------------------------
_E = r"[a-z]+ \d+"  # a numbered object or receptacle
_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rf"^{pattern}$"))
    for kind, pattern in (
        ("arrive", rf"You arrive at (?:the )?(?P<a>{_E})\."),
        ("open", rf"You open the (?P<a>{_E})\."),
        ("close", rf"You close the (?P<a>{_E})\."),
        ("is_open", rf"The (?P<a>{_E}) is open\."),
        ("is_closed", rf"The (?P<a>{_E}) is closed\."),
        ("in_it", r"In it, you see (?P<list>.+)\."),
        ("on", rf"On the (?P<a>{_E}), you see (?P<list>.+)\."),
        ("pick", rf"You pick up the (?P<a>{_E}) from the (?P<b>{_E})\."),
        ("move", rf"You move the (?P<a>{_E}) to the (?P<b>{_E})\."),
        ("treat", rf"You (?P<verb>heat|cool|clean) the (?P<a>{_E}) using the (?P<b>{_E})\."),
        ("turn", rf"You turn (?P<verb>on|off) the (?P<a>{_E})\."),
        ("slice", rf"You slice(?:d)? the (?P<a>{_E}) with the (?P<b>{_E})\."),
        ("carrying", r"You are carrying: (?P<list>.+)\."),
        ("not_carrying", r"You are not carrying anything\."),
        ("nothing", r"Nothing happens\."),
        ("middle", r"You are in the middle of a room\."),
        ("around", r"Looking quickly around you, you see (?P<list>.+)\."),
        ("facing", r"You are facing the (?P<list>.+)\."),
        ("next_to", r"Next to it, you see (?P<list>.+)\."),
        ("special", rf"There's nothing special about (?P<a>{_E})\."),
        ("this_is", rf"This is a (?P<verb>[a-z ]+?) (?P<a>{_E})\."),
    )
)
_SENTENCE_SPLIT = re.compile(r"(?<=\.)\s+")
# Receptacles one puts things *in* (the rest, counters, shelves, beds..., things are *on*).
_CONTAINERS = frozenset(
    "cabinet drawer fridge microwave safe box garbagecan sinkbasin bathtubbasin laundryhamper bowl cup mug pot".split()
)


@dataclass(frozen=True)
class Sentence:
    """One sentence of a real state: its form (`kind`, "other" when unknown), its parts, and its text."""

    kind: str
    text: str
    a: str = ""  # the first numbered thing: receptacle or object
    b: str = ""  # the second: the receptacle taken from or moved to, the tool
    verb: str = ""  # heat/cool/clean, on/off, the property of "This is a ..."
    items: tuple[str, ...] = ()  # a listed sentence's numbered things, in order
    listed: str = ""  # the list as written ("a mug 3, and a pen 2", "nothing")


def parse(body: str) -> list[Sentence]:
    """The sentences of a state body (no status line), each with its form."""
    out = []
    for raw in _SENTENCE_SPLIT.split(body.strip()):
        text = raw.strip()
        if not text:
            continue
        for kind, pattern in _FORMS:
            m = pattern.match(text)
            if m:
                g = m.groupdict()
                listed = g.get("list") or ""
                out.append(
                    Sentence(
                        kind, text, g.get("a") or "", g.get("b") or "", g.get("verb") or "",
                        tuple(list_items(listed)), listed,
                    )
                )  # fmt: skip
                break
        else:
            out.append(Sentence("other", text))
    return out


def inside(receptacle: str) -> bool:
    """Whether things are *in* this receptacle (a cabinet, a sink basin) rather than *on* it (a shelf)."""
    return receptacle.split()[0] in _CONTAINERS


def in_on(receptacle: str) -> str:
    return "in" if inside(receptacle) else "on"


def article(name: str) -> str:
    """The English indefinite article of a name ('an' before a vowel; ALFWorld itself always writes 'a')."""
    return "an" if name[0] in "aeiou" else "a"


def say(items: Sequence[str], style: str = "a", oxford: bool = True) -> str:
    """Items as a list in ALFWorld's shape ('a mug 3, a pen 2, and a key 1'); 'nothing' when empty.

    `style`: 'a' (ALFWorld's article), 'an' (a/an by the sound), 'the', or '' (no article).
    """
    if not items:
        return "nothing"
    art = {"a": lambda i: "a ", "an": lambda i: f"{article(i)} ", "the": lambda i: "the ", "": lambda i: ""}[style]
    words = [f"{art(i)}{i}" for i in items]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + (", and " if oxford else " and ") + words[-1]


def shuffled(items: Sequence[str], rng: random.Random) -> list[str]:
    """`items` in another order (the same order only when no other exists)."""
    out = list(items)
    if len(set(out)) < 2:
        return out
    while out == list(items):
        rng.shuffle(out)
    return out


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """A sentence as the continuation of another: 'The drawer 1 is open.' -> 'the drawer 1 is open.'"""
    return text[:1].lower() + text[1:] if not text.startswith("I ") else text


# -- families -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Transition:
    """A real ALFWorld step: the action taken and the real next state (with its status line)."""

    game: str
    t: int
    action: str
    real: str
    source: str = "real"  # "real": the trajectory's action; "other": the branch's other admissible action
    seed: int = 0

    def rng(self, family: str) -> random.Random:
        return random.Random(f"{self.seed}:{family}:{self.game}:{self.t}:{self.source}:{self.action}")


Family = Callable[[Transition], str | None]
# A family body: (sentences, rng, transition) -> the reworded body, or None when the family does not apply.
Rewording = Callable[[list[Sentence], random.Random, Transition], str | None]


def family(name: str, reword: Rewording) -> Family:
    """The family `name`: `reword` on the parsed body, the status line put back last and verbatim.

    None when the family does not apply, or when its output equals the real body.
    """

    def run(tr: Transition) -> str | None:
        body, status = split_status(tr.real)
        out = reword(parse(body), tr.rng(name), tr)
        if out is None or not out.strip() or out.strip() == body:
            return None
        return f"{out.strip()}\n{status}" if status else out.strip()

    run.__name__ = name
    run.__doc__ = reword.__doc__
    return run


SentenceRule = Callable[[Sentence, random.Random], str | None]


def per_sentence(rules: dict[str, SentenceRule]) -> Rewording:
    """A rewording sentence by sentence: `rules[kind]` rewords a sentence (None keeps it); others are kept."""

    def reword(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
        out, changed = [], False
        for s in sents:
            rule = rules.get(s.kind)
            new = rule(s, rng) if rule else None
            changed |= new is not None and new != s.text
            out.append(new if new is not None else s.text)
        return " ".join(out) if changed else None

    return reword


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


_ENTITY_AHEAD = rf"(?={_E}\b)"


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


# -- corpus and scoring ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    family: str
    game: str
    t: int
    action: str
    real: str
    paraphrase: str
    source: str = "real"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def transitions_from_pairs(pairs: Iterable[Any], seed: int = 0) -> list[Transition]:
    """Both real transitions of each branch pair: the trajectory's action and the other admissible action."""
    out = []
    for p in pairs:
        out.append(Transition(p.game, p.t, p.action, p.next_state, "real", seed))
        out.append(Transition(p.game, p.t, p.other_action, p.other_next_state, "other", seed))
    return out


def generate(transitions: Iterable[Transition], families: dict[str, Family]) -> list[Item]:
    """Every applicable family's paraphrase of every transition, family by family."""
    transitions = list(transitions)
    return [
        Item(name, tr.game, tr.t, tr.action, tr.real, para, tr.source)
        for name, fam in families.items()
        for tr in transitions
        if (para := fam(tr)) is not None
    ]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score 95% interval of a share k/n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


def rejection(score: dict[str, Any]) -> str:
    """A rejection's reason and its first fact difference, numbered objects and sets blanked so that like
    rejections count together."""
    facts = str(score.get("facts") or "").split("; ")[0]
    if not facts:
        return str(score.get("reason"))
    facts = re.sub(r"\{[^{}]*\}", "{...}", OBJECT_RE.sub("<obj>", facts))
    return f"{score.get('reason')}: {facts[:160]}"


_REASONING = "The action changes the room; this is what it shows next."


def response(paraphrase: str) -> str:
    """The paraphrase as the policy writes its answer."""
    return f"{THINK_OPEN}{_REASONING}{THINK_CLOSE}{STATE_OPEN}{paraphrase}{STATE_CLOSE}"


def score_items(items: Sequence[Item], settings: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    from reward_score import compute_score_batch

    if not items:
        return []
    return compute_score_batch(
        ["alfworld"] * len(items), [response(it.paraphrase) for it in items], [it.real for it in items],
        **(settings or {}),
    )  # fmt: skip


@dataclass
class FamilyResult:
    n: int = 0
    accepted: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self, examples: int = 4) -> dict[str, Any]:
        share = self.accepted / self.n if self.n else 0.0
        return {
            "n": self.n,
            "accepted": self.accepted,
            "accepted_share": round(share, 4),
            "wilson95": list(wilson(self.accepted, self.n)),
            "top_rejections": [[r, c] for r, c in self.reasons.most_common(3)],
            "rejected_examples": self.rejected[:examples],
        }


def summarize(items: Sequence[Item], scores: Sequence[dict[str, Any]], order: Sequence[str]) -> dict[str, Any]:
    """Per family (in `order`, then any other): n, accepted share, Wilson interval, top rejections, examples."""
    per: dict[str, FamilyResult] = {name: FamilyResult() for name in order}
    total = FamilyResult()
    for it, sc in zip(items, scores, strict=True):
        mine = per.setdefault(it.family, FamilyResult())
        for res in (mine, total) if it.family != CONTROL else (mine,):
            res.n += 1
            if sc.get("score") == 1.0:
                res.accepted += 1
            else:
                reason = rejection(sc)
                res.reasons[reason] += 1
                res.rejected.append(
                    {"action": it.action, "real": it.real, "paraphrase": it.paraphrase, "reason": reason,
                     "cosine": sc.get("cosine")}
                )  # fmt: skip
    return {"families": {k: v.to_dict() for k, v in per.items()}, "overall": total.to_dict(examples=0)}


CONTROL = "exact"  # the real state itself, scored as a check that the corpus is read right (not a family)


def format_table(summary: dict[str, Any], title: str) -> str:
    lines = [
        f"### {title}",
        "",
        "| family | n | accepted | share | Wilson 95% | top rejection |",
        "|---|---:|---:|---:|---|---|",
    ]
    rows = list(summary["families"].items()) + [("**overall** (families)", summary["overall"])]
    for name, r in rows:
        top = r["top_rejections"][0] if r["top_rejections"] else None
        top_text = f"{top[0]} ({top[1]})".replace("|", "/") if top else ""
        lo, hi = r["wilson95"]
        lines.append(
            f"| {name} | {r['n']} | {r['accepted']} | {r['accepted_share']:.3f} | [{lo:.3f}, {hi:.3f}] | {top_text} |"
        )
    return "\n".join(lines)


def _families(which: str) -> dict[str, Family]:
    if which == "dev":
        return FAMILIES
    if which == "heldout2":
        from reward_score.alfworld_families_heldout2 import FAMILIES as HELDOUT2

        return HELDOUT2
    if which == "heldout3":
        from reward_score.alfworld_families_heldout3 import FAMILIES as HELDOUT3

        return HELDOUT3
    if which == "heldout4":
        from reward_score.alfworld_families_heldout4 import FAMILIES as HELDOUT4

        return HELDOUT4
    from reward_score.alfworld_families_heldout import FAMILIES as HELDOUT

    return HELDOUT


def _pairs(args: argparse.Namespace) -> list[Any]:
    from reward_score.alfworld_pairs import BranchPair, collect_pairs

    cache = Path(args.pairs_cache) if args.pairs_cache else None
    if cache and cache.is_file():
        return [BranchPair(**json.loads(line)) for line in cache.read_text().splitlines() if line.strip()]
    pairs = collect_pairs(
        args.data_root, args.split, games=args.games, branches=args.branches, max_steps=args.max_steps, seed=args.seed
    )
    if cache:
        from data_prep.atomic_file import write_atomic

        cache.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cache, "".join(json.dumps(p.to_dict()) + "\n" for p in pairs))
    return pairs


MIN_ITEMS = 60  # a family with fewer items than this gets a warning: its share is too loose to compare


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from data_prep.atomic_file import write_atomic
    from data_prep.cli_errors import ArgumentParser

    ap = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", default=os.environ.get("ALFWORLD_DATA", "../shared/alfworld"))
    ap.add_argument("--split", default="valid_seen")
    ap.add_argument("--families", choices=("dev", "heldout", "heldout2", "heldout3", "heldout4"), default="dev")
    ap.add_argument("--out", required=True, help="folder for the corpus JSONL and the result JSON")
    ap.add_argument("--label", default="before", help="names the reader version scored (before, after, ...)")
    ap.add_argument("--games", type=int, default=40)
    ap.add_argument("--branches", type=int, default=4, help="branch pairs per game (each gives two transitions)")
    ap.add_argument("--max-steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0, help="seeds the games' order, the branches and the families")
    ap.add_argument("--pairs-cache", help="JSONL of branch pairs: read if present, else collected and written")
    ap.add_argument("--settings", default="{}", help="reward settings as JSON (default: the documented ones)")
    ap.add_argument("--generate-only", action="store_true", help="write the corpus JSONL and stop (no scoring)")
    args = ap.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    families = _families(args.families)
    transitions = transitions_from_pairs(_pairs(args), seed=args.seed)
    items = generate(transitions, families)
    control = [Item(CONTROL, tr.game, tr.t, tr.action, tr.real, tr.real, tr.source) for tr in transitions]
    corpus = out / f"alfworld_families_{args.families}.jsonl"
    write_atomic(corpus, "".join(json.dumps(it.to_dict()) + "\n" for it in items))
    if args.generate_only:
        counts = Counter(it.family for it in items)
        for name in families:
            print(f"{name}: {counts[name]} items")
        print(f"\nwrote {corpus} ({len(items)} items from {len(transitions)} transitions; not scored)")
        return {"corpus": str(corpus), "items": len(items), "families": dict(counts)}
    scored = [*items, *control]
    scores = score_items(scored, json.loads(args.settings))
    summary = summarize(scored, scores, [*families, CONTROL])
    summary.update(
        label=args.label, families_set=args.families, split=args.split, games=args.games, branches=args.branches,
        max_steps=args.max_steps, seed=args.seed, transitions=len(transitions), items=len(items),
        settings=json.loads(args.settings), corpus=corpus.name,
    )  # fmt: skip
    result = out / f"alfworld_families_{args.families}_{args.label}.json"
    write_atomic(result, json.dumps(summary, indent=2) + "\n")
    for name, r in summary["families"].items():
        if name != CONTROL and r["n"] < MIN_ITEMS:
            print(f"warning: family {name} has {r['n']} items (< {MIN_ITEMS}); use more --games", file=sys.stderr)
    print(format_table(summary, f"{args.families} families, reader `{args.label}`, {args.split}"))
    print(f"\nwrote {corpus} and {result}")
    return summary


def cli(argv: list[str] | None = None) -> int:
    main(argv)
    return 0


if __name__ == "__main__":
    from data_prep.cli_errors import run_cli

    sys.exit(run_cli(cli))

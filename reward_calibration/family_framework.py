"""What a paraphrase family of a real ALFWorld next state is, and the pieces families are written with.

A real state is read into its sentences (`parse`: each sentence with its ALFWorld form -- arrive, open, on, in_it,
pick, move, ... -- its numbered things and its list). A family is a function `(Transition) -> str | None`, made by
`family(name, reword)` from a rewording of the sentences; None when nothing of its kind is in the state. The
task-status line is put back verbatim as the last line. Each family draws from a `random.Random` seeded by the
family, the transition and the seed (`Transition.rng`), so a corpus is the same on every run. `per_sentence` makes
a rewording from one rule per sentence form; `say`, `things`, `be`, `in_on`, `capital`, ... are the English helpers
the families share, and `after` and `next_of_kind` find the sentence after another (for a `stepwise` rule to merge).
The dev families are in `alfworld_families_dev`, the held-out sets in `alfworld_families_heldout*`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reward_calibration.alfworld_rewrites import list_items, split_status

# -- reading a real state: ALFWorld's sentence forms ----------------------------------------------------------------
NUMBERED = r"[a-z]+ \d+"  # a numbered object or receptacle
_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rf"^{pattern}$"))
    for kind, pattern in (
        ("arrive", rf"You arrive at (?:the )?(?P<a>{NUMBERED})\."),
        ("open", rf"You open the (?P<a>{NUMBERED})\."),
        ("close", rf"You close the (?P<a>{NUMBERED})\."),
        ("is_open", rf"The (?P<a>{NUMBERED}) is open\."),
        ("is_closed", rf"The (?P<a>{NUMBERED}) is closed\."),
        ("in_it", r"In it, you see (?P<list>.+)\."),
        ("on", rf"On the (?P<a>{NUMBERED}), you see (?P<list>.+)\."),
        ("pick", rf"You pick up the (?P<a>{NUMBERED}) from the (?P<b>{NUMBERED})\."),
        ("move", rf"You move the (?P<a>{NUMBERED}) to the (?P<b>{NUMBERED})\."),
        ("treat", rf"You (?P<verb>heat|cool|clean) the (?P<a>{NUMBERED}) using the (?P<b>{NUMBERED})\."),
        ("turn", rf"You turn (?P<verb>on|off) the (?P<a>{NUMBERED})\."),
        ("slice", rf"You slice(?:d)? the (?P<a>{NUMBERED}) with the (?P<b>{NUMBERED})\."),
        ("carrying", r"You are carrying: (?P<list>.+)\."),
        ("not_carrying", r"You are not carrying anything\."),
        ("nothing", r"Nothing happens\."),
        ("middle", r"You are in the middle of a room\."),
        ("around", r"Looking quickly around you, you see (?P<list>.+)\."),
        ("facing", r"You are facing the (?P<list>.+)\."),
        ("next_to", r"Next to it, you see (?P<list>.+)\."),
        ("special", rf"There's nothing special about (?P<a>{NUMBERED})\."),
        ("this_is", rf"This is a (?P<verb>[a-z ]+?) (?P<a>{NUMBERED})\."),
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


def things(s: Sentence) -> str:
    """The sentence's listed things with a/an by the sound ('an apple 1, and a knife 1'), or 'nothing'."""
    return say(s.items, "an", oxford=len(s.items) > 2)


def be(s: Sentence) -> str:
    """'are' when the sentence lists more than one thing, else 'is' (the verb agreeing with its things)."""
    return "are" if len(s.items) > 1 else "is"


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


# -- a family ----------------------------------------------------------------------------------------------------------
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


def all_known(sents: list[Sentence]) -> bool:
    """Whether every sentence has a known form (the 'help' listing and other odd outputs are left alone)."""
    return bool(sents) and all(s.kind != "other" for s in sents)


def known_only(reword: Rewording) -> Rewording:
    """`reword` only on a state whose every sentence has a known form (the 'help' listing is left alone)."""

    def run(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
        return reword(sents, rng, tr) if all_known(sents) else None

    run.__doc__ = reword.__doc__
    return run


def body_text(sents: list[Sentence]) -> str:
    """The sentences joined back into one observation body."""
    return " ".join(s.text for s in sents)


def after(sents: list[Sentence], i: int, *kinds: str) -> Sentence | None:
    """The sentence after sents[i] when it is of one of `kinds` and names the same receptacle."""
    if i + 1 < len(sents) and sents[i + 1].kind in kinds and sents[i + 1].a == sents[i].a:
        return sents[i + 1]
    return None


def next_of_kind(sents: list[Sentence], i: int, kind: str) -> Sentence | None:
    """The sentence after sents[i] when it is of `kind` (whatever it names)."""
    return sents[i + 1] if i + 1 < len(sents) and sents[i + 1].kind == kind else None


# A rule of `stepwise`: (sentences, i, rng) -> the text standing for sents[i] and the n - 1 after it, and n.
StepRule = Callable[[list[Sentence], int, random.Random], tuple[str, int]]


def stepwise(rule: StepRule, *, unchanged_is_none: bool = True) -> Rewording:
    """A rewording that walks the sentences in order, `rule` rewording sents[i] alone or merged with the sentences
    after it; only a state whose every sentence has a known form (`all_known`). With `unchanged_is_none`, None
    when the sentences come out as they were."""

    def reword(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
        if not all_known(sents):
            return None
        out, i = [], 0
        while i < len(sents):
            new, step = rule(sents, i, rng)
            out.append(new)
            i += step
        text = " ".join(out)
        return None if unchanged_is_none and text == " ".join(s.text for s in sents) else text

    reword.__doc__ = rule.__doc__
    return reword

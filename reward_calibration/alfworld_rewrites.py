"""Rewrites of a real ALFWorld state for calibrating and testing the reward: same facts, or one fact wrong.

Positives (a reward must accept them):
- `reorder`: the listed objects in another order, "a"/"an" fixed, the status line kept;
- `paraphrase`: every sentence said in other words -- one of several templates per sentence form of ALFWorld's
  grammar (arrive, open, close, pick up, move, heat/cool/clean, slice, turn on/off, inventory, what is on or in
  a receptacle, look), articles dropped or kept, list order shuffled, sentences joined. The templates were
  written from how people and instruction-tuned models restate these sentences, not from the fact reader.
Negatives (a reward must reject them):
- `swap_object`: one numbered object replaced by another one of the same game;
- `flip_fact`: one fact turned into its opposite (open <-> closed, something <-> nothing on or in a receptacle,
  carrying <-> not carrying, on <-> off, the task status when nothing else can flip).
The status line is never reworded: the world-model prompt fixes it to two exact strings.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from reward_score.answer_format import STATUS_DONE, STATUS_NOT_DONE

_ENT = r"[a-z]+ \d+"
OBJECT_RE = re.compile(rf"\b{_ENT}\b")  # a numbered object or receptacle: "mug 3", "desk 2"
_LIST_ITEM_RE = re.compile(r"(?:an? )?([a-z]+ \d+)")


def split_status(state: str) -> tuple[str, str]:
    """(body, status line) of a ground truth; the status line is '' when absent."""
    lines = state.rstrip().splitlines()
    if lines and lines[-1].strip() in (STATUS_DONE, STATUS_NOT_DONE):
        return "\n".join(lines[:-1]).strip(), lines[-1].strip()
    return state.strip(), ""


def _join(body: str, status: str) -> str:
    return f"{body}\n{status}" if status else body


def list_items(text: str) -> list[str]:
    """'a mug 3, a pen 2, and a key 1' -> ['mug 3', 'pen 2', 'key 1']; 'nothing' -> []."""
    return [m.group(1) for m in _LIST_ITEM_RE.finditer(text)]


def _article(name: str) -> str:
    return "an" if name[0] in "aeiou" else "a"


def say_list(items: Sequence[str], rng: random.Random | None = None) -> str:
    """Objects as a sentence list ('an apple 1, a mug 3 and a pen 2'); shuffled and styled when `rng` is given."""
    items = list(items)
    if not items:
        return "nothing"
    if rng is not None:
        rng.shuffle(items)
        style = rng.choice(("articles", "bare", "the"))
    else:
        style = "articles"
    words = [f"{_article(i)} {i}" if style == "articles" else f"the {i}" if style == "the" else i for i in items]
    if len(words) == 1:
        return words[0]
    last = " and " if rng is None or rng.random() < 0.5 else ", and "
    return ", ".join(words[:-1]) + last + words[-1]


def reorder(state: str) -> str:
    """The listed objects in reverse order with 'an' before vowels: the same facts, nearly the same words."""
    body, status = split_status(state)

    def relist(m: re.Match[str]) -> str:
        items = list_items(m.group(2))
        return m.group(1) + (say_list(items[::-1]) if len(items) > 1 else m.group(2)) + m.group(3)

    body = re.sub(r"(you see )(.+?)(\.(?:\s|$))", relist, body)
    return _join(re.sub(r"\ba ([aeiou])", r"an \1", body), status)


# -- paraphrase: one template list per sentence form -------------------------------------------------------------
Template = Callable[[re.Match[str], random.Random], str]


def _contents(items: list[str], where: str, rng: random.Random) -> str:
    if not items:
        return rng.choice(
            (f"There is nothing {where}.", "It is empty.", f"Nothing is {where}.", f"You find nothing {where}.")
        )
    listed = say_list(items, rng)
    return rng.choice(
        (f"There is {listed} {where}.", f"You notice {listed} {where}.", f"{where.capitalize()}, you find {listed}.",
         f"It holds {listed}.", f"Inside you can see {listed}." if where == "in it" else f"You spot {listed} {where}.")
    )  # fmt: skip


_FORMS: list[tuple[re.Pattern[str], Callable[[re.Match[str], random.Random], str]]] = [
    (re.compile(rf"^You arrive at (?:the )?({_ENT})\.$"), lambda m, r: r.choice((
        f"You reach the {m[1]}.", f"You go to the {m[1]}.", f"You walk over to the {m[1]}.",
        f"You are now at the {m[1]}.", f"You make your way to the {m[1]}.", f"You head to the {m[1]}."))),
    (re.compile(rf"^You open the ({_ENT})\.$"), lambda m, r: r.choice((
        f"You pull open the {m[1]}.", f"You open up the {m[1]}.", f"You swing open the {m[1]}.",
        f"You have opened the {m[1]}."))),
    (re.compile(rf"^You close the ({_ENT})\.$"), lambda m, r: r.choice((
        f"You shut the {m[1]}.", f"You close up the {m[1]}.", f"You push the {m[1]} shut.",
        f"You have closed the {m[1]}."))),
    (re.compile(rf"^The ({_ENT}) is open\.$"), lambda m, r: r.choice((
        f"The {m[1]} is now open.", "It is open.", f"The {m[1]} stands open.", f"The {m[1]} is opened."))),
    (re.compile(rf"^The ({_ENT}) is closed\.$"), lambda m, r: r.choice((
        f"The {m[1]} is shut.", "It is closed.", f"The {m[1]} is closed right now.", f"The {m[1]} is shut tight."))),
    (re.compile(r"^In it, you see (.+)\.$"), lambda m, r: _contents(list_items(m[1]), "in it", r)),
    (re.compile(rf"^On the ({_ENT}), you see (.+)\.$"), lambda m, r: _contents(list_items(m[2]), f"on the {m[1]}", r)),
    (re.compile(rf"^You pick up the ({_ENT}) from the ({_ENT})\.$"), lambda m, r: r.choice((
        f"You take the {m[1]} from the {m[2]}.", f"You grab the {m[1]} off the {m[2]}.",
        f"You pick the {m[1]} up from the {m[2]}.", f"You lift the {m[1]} from the {m[2]}.",
        f"You took the {m[1]} from the {m[2]}."))),
    (re.compile(rf"^You move the ({_ENT}) to the ({_ENT})\.$"), lambda m, r: r.choice((
        f"You put the {m[1]} on the {m[2]}.", f"You place the {m[1]} in the {m[2]}.",
        f"You set the {m[1]} down on the {m[2]}.", f"The {m[1]} is now on the {m[2]}.",
        f"You put the {m[1]} in the {m[2]}."))),
    (re.compile(rf"^You (heat|cool|clean) the ({_ENT}) using the ({_ENT})\.$"), lambda m, r: r.choice((
        f"You {m[1]} the {m[2]} with the {m[3]}.", f"Using the {m[3]}, you {m[1]} the {m[2]}.",
        f"The {m[2]} is {dict(heat='heated', cool='cooled', clean='cleaned')[m[1]]} in the {m[3]}.",
        {"heat": f"You warm the {m[2]} in the {m[3]}.", "cool": f"You chill the {m[2]} in the {m[3]}.",
         "clean": f"You wash the {m[2]} in the {m[3]}."}[m[1]]))),
    (re.compile(rf"^You sliced the ({_ENT}) with the ({_ENT})\.$"), lambda m, r: r.choice((
        f"You slice the {m[1]} with the {m[2]}.", f"Using the {m[2]}, you cut the {m[1]} into slices.",
        f"The {m[1]} is sliced with the {m[2]}."))),
    (re.compile(rf"^You turn on the ({_ENT})\.$"), lambda m, r: r.choice((
        f"You switch on the {m[1]}.", f"You turn the {m[1]} on.", f"The {m[1]} is now on."))),
    (re.compile(rf"^You turn off the ({_ENT})\.$"), lambda m, r: r.choice((
        f"You switch off the {m[1]}.", f"You turn the {m[1]} off.", f"The {m[1]} is now off."))),
    (re.compile(r"^You are carrying: (.+)\.$"), lambda m, r: r.choice((
        f"You are holding {say_list(list_items(m[1]), r)}.", f"In your hands you have {say_list(list_items(m[1]), r)}.",
        f"You carry {say_list(list_items(m[1]), r)}."))),
    (re.compile(r"^You are not carrying anything\.$"), lambda m, r: r.choice((
        "You are empty-handed.", "You are holding nothing.", "Your hands are empty.", "You carry nothing."))),
    (re.compile(r"^Nothing happens\.$"), lambda m, r: r.choice((
        "Nothing happened.", "That has no effect.", "Nothing changes.", "Nothing at all happens."))),
    (re.compile(rf"^You are facing the ({_ENT})\.$"), lambda m, r: r.choice((
        f"You are in front of the {m[1]}.", f"You face the {m[1]}.", f"You are looking at the {m[1]}."))),
    (re.compile(r"^Next to it, you see (.+)\.$"), lambda m, r: _contents(list_items(m[1]), "next to it", r)),
    (re.compile(r"^You are in the middle of a room\.$"), lambda m, r: r.choice((
        "You stand in the middle of the room.", "You are in the center of a room."))),
    (re.compile(r"^Looking quickly around you, you see (.+)\.$"), lambda m, r: r.choice((
        f"Around you there are {say_list(list_items(m[1]), r)}.",
        f"Looking around, you notice {say_list(list_items(m[1]), r)}."))),
    (re.compile(rf"^This is a (normal|[a-z ]+?) ({_ENT})\.$"), lambda m, r: r.choice((
        f"This is a {m[1]} {m[2]}.", f"You see that it is a {m[1]} {m[2]}."))),
]  # fmt: skip

_SENTENCE_RE = re.compile(r"(?<=\.)\s+")


def paraphrase(state: str, rng: random.Random, tries: int = 8) -> str | None:
    """The state said in other words, sentence by sentence; None when a sentence has no known form.

    A paraphrase keeps every named object: a draw whose pronoun ("It is closed.") drops the only mention of one
    is drawn again.
    """
    objects = set(OBJECT_RE.findall(state))
    for _ in range(tries):
        out = _paraphrase_once(state, rng)
        if out is None or set(OBJECT_RE.findall(out)) == objects:
            return out
    return None


def _paraphrase_once(state: str, rng: random.Random) -> str | None:
    body, status = split_status(state)
    out = []
    for sentence in _SENTENCE_RE.split(body):
        for pattern, template in _FORMS:
            m = pattern.match(sentence.strip())
            if m:
                out.append(template(m, rng))
                break
        else:
            return None
    if len(out) > 1 and rng.random() < 0.3:  # join two sentences into one
        out[:2] = [f"{out[0][:-1]}, and {out[1][0].lower()}{out[1][1:]}"]
    text = " ".join(out)
    return _join(text, status) if text != body else None


def swap_object(state: str, others: Sequence[str], rng: random.Random) -> str | None:
    """`state` with every mention of one of its numbered objects replaced by another object of the game."""
    body, status = split_status(state)
    mine = sorted(set(re.findall(rf"\b{_ENT}\b", body)))
    candidates = sorted(set(others) - set(mine))
    if not mine or not candidates:
        return None
    old, new = rng.choice(mine), rng.choice(candidates)
    return _join(re.sub(rf"\b{re.escape(old)}\b", new, body), status)


def flip_fact(state: str, others: Sequence[str], rng: random.Random) -> tuple[str, str] | None:
    """(kind of flip, `state` with one fact turned into its opposite), or None when it reports nothing to flip."""
    body, status = split_status(state)
    flips: list[tuple[str, str]] = []
    if " is open." in body:
        closed = re.sub(r" is open\.(?: In it, you see .+?\.)?", " is closed.", body, count=1)
        flips.append(("open->closed", closed))
    if re.search(r" is closed\.", body):
        flips.append(("closed->open", body.replace(" is closed.", " is open.", 1)))
    m = re.search(r"you see (.+?)\.(?:\s|$)", body)
    if m and m.group(1) == "nothing":
        pick = [o for o in others if o not in body]
        if pick:
            obj = rng.choice(pick)
            flips.append(("nothing->something", body.replace("you see nothing.", f"you see {_article(obj)} {obj}.", 1)))
    elif m:
        flips.append(("something->nothing", body[: m.start(1)] + "nothing" + body[m.end(1) :]))
    if body.startswith("You are carrying:"):
        flips.append(("carrying->not", "You are not carrying anything."))
    if body == "You are not carrying anything.":
        pick = [o for o in others]
        if pick:
            obj = rng.choice(pick)
            flips.append(("not->carrying", f"You are carrying: {_article(obj)} {obj}."))
    if "You turn on the" in body:
        flips.append(("on->off", body.replace("You turn on the", "You turn off the")))
    if "You turn off the" in body:
        flips.append(("off->on", body.replace("You turn off the", "You turn on the")))
    if flips:
        kind, flipped = rng.choice(flips)
        return kind, _join(flipped, status)
    if status:
        other = STATUS_DONE if status == STATUS_NOT_DONE else STATUS_NOT_DONE
        return "task status", _join(body, other)
    return None

"""SEVENTH held-out paraphrase families of real ALFWorld next states: the seventh holdout set, NOT for development.

Do not read these families, their corpus or their results while writing or tuning a fact reader: they measure
how a reader does on rewordings it was not built against. They were written without reading the fact reader. They
follow the interface of `reward_calibration.family_framework` (a family is `(Transition) -> str | None`, None where it
does not apply; the world state is kept exactly and the task-status line stays verbatim as the last line), and
reword in kinds that neither the dev families nor the first six held-out sets use, chosen for how instruction-tuned
models asked to "predict the next observation" write a state down: the state as a JSON object ('{"location": "sofa
1", "on the sofa 1": ["box 3", "pillow 1"]}'), as YAML ("location: sofa 1\\non the sofa 1:\\n  - box 3"), in XML
elements ("<location>sofa 1</location>" or "<arrival>You arrive at sofa 1.</arrival>"), in upper or title case
("YOU ARRIVE AT SOFA 1. ..."), under section labels ("**Location:** You arrive at sofa 1.\\n**What you see:** ..."),
after a chat assistant's preamble ("Sure! Here's the next observation:"), addressed to the player with a vocative
("You arrive at sofa 1, adventurer."), in a texting register ("u arrive at sofa 1. on the sofa 1, u see a box 3 & a
pillow 1"), seeing told with gaze idioms ("On the sofa 1, your eyes fall on a box 3, and a pillow 1."), and states
marked as current with a temporal adverb ("The drawer 10 is currently closed.").

    python -m reward_calibration.alfworld_families --families heldout7 --out DIR --label before
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from reward_calibration.family_framework import (
    Family,
    Sentence,
    Transition,
    all_known,
    body_text,
    capital,
    family,
    known_only,
    lower_first,
    per_sentence,
)

_LISTS = ("on", "in_it", "next_to", "around")


def _state(s: Sentence) -> str:
    return "open" if s.kind == "is_open" else "closed"


# -- the state as key/value fields (shared by the JSON and YAML families) ---------------------------------------
Fields = list[tuple[str, Any]]  # (key, a string, a list of names, or a dict of fields), in the sentences' order


def _flat_fields(sents: list[Sentence]) -> Fields | None:
    """The state as flat fields: the place, what is seen where (as lists of names), each receptacle's open/closed
    state, what is carried, and the events as their sentences. None when two fields would share a key."""
    out: Fields = []
    named = ""  # the receptacle 'it' refers to
    events: list[str] = []
    for s in sents:
        if s.kind in ("arrive", "open", "close", "is_open", "is_closed"):
            named = s.a
        if s.kind == "arrive":
            out.append(("location", s.a))
        elif s.kind == "middle":
            out.append(("location", "the middle of a room"))
        elif s.kind == "facing":
            out.append(("facing", s.listed))
        elif s.kind == "on":
            out.append((f"on the {s.a}", list(s.items)))
        elif s.kind == "in_it":
            out.append((f"in the {named}" if named else "in it", list(s.items)))
        elif s.kind == "next_to":
            out.append(("next to it", list(s.items)))
        elif s.kind == "around":
            out.append(("around you", list(s.items)))
        elif s.kind in ("is_open", "is_closed"):
            out.append((s.a, _state(s)))
        elif s.kind == "carrying":
            out.append(("carrying", list(s.items)))
        elif s.kind == "not_carrying":
            out.append(("carrying", []))
        else:
            if not events:
                out.append(("event", events))
            events.append(s.text)
    keys = [k for k, _ in out]
    if len(set(keys)) < len(keys):
        return None
    return [(k, (v[0] if len(v) == 1 else v) if k == "event" else v) for k, v in out]


def _nested_fields(sents: list[Sentence]) -> Fields | None:
    """The state with one object per receptacle: '{"location": "drawer 10", "drawer 10": {"state": "open", "in it":
    []}}'; the rest as in `_flat_fields`."""
    out: Fields = []
    named = ""
    recept: dict[str, dict[str, Any]] = {}
    events: list[str] = []

    def slot(name: str) -> dict[str, Any]:
        if name not in recept:
            recept[name] = {}
            out.append((name, recept[name]))
        return recept[name]

    for s in sents:
        if s.kind in ("arrive", "open", "close", "is_open", "is_closed"):
            named = s.a
        if s.kind == "arrive":
            out.append(("location", s.a))
        elif s.kind == "middle":
            out.append(("location", "the middle of a room"))
        elif s.kind == "facing":
            out.append(("facing", s.listed))
        elif s.kind == "on":
            slot(s.a)["on it"] = list(s.items)
        elif s.kind == "in_it" and named:
            slot(named)["in it"] = list(s.items)
        elif s.kind == "in_it":
            out.append(("in it", list(s.items)))
        elif s.kind == "next_to":
            out.append(("next to it", list(s.items)))
        elif s.kind == "around":
            out.append(("around you", list(s.items)))
        elif s.kind in ("is_open", "is_closed"):
            slot(s.a)["state"] = _state(s)
        elif s.kind == "carrying":
            out.append(("carrying", list(s.items)))
        elif s.kind == "not_carrying":
            out.append(("carrying", []))
        else:
            if not events:
                out.append(("event", events))
            events.append(s.text)
    keys = [k for k, _ in out]
    if len(set(keys)) < len(keys):
        return None
    return [(k, (v[0] if len(v) == 1 else v) if k == "event" else v) for k, v in out]


def _empty_as(value: Any, empty: Any) -> Any:
    """Empty lists (nothing seen, nothing carried) written as `empty`, inside nested fields too."""
    if isinstance(value, dict):
        return {k: _empty_as(v, empty) for k, v in value.items()}
    if isinstance(value, list) and not value:
        return empty
    return value


# -- a JSON object ------------------------------------------------------------------------------------------------
def _json(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The state as a JSON object, as models asked for a structured observation write it: '{"location": "sofa 1",
    "on the sofa 1": ["box 3", "pillow 1"]}', '{"location": "drawer 10", "drawer 10": {"state": "closed"}}',
    '{"event": "You pick up the box 3 from the sofa 1."}'; on one line or indented, nothing as [] or "nothing"."""
    fields = (_nested_fields if rng.random() < 0.5 else _flat_fields)(sents)
    if fields is None:
        return None
    empty: Any = rng.choice(([], "nothing"))
    obj = {k: _empty_as(v, empty) for k, v in fields}
    return json.dumps(obj, ensure_ascii=False, indent=rng.choice((None, 2, 2)))


# -- YAML -----------------------------------------------------------------------------------------------------------
def _yaml_value(value: Any, indent: int, flow: bool, art: bool) -> list[str]:
    """The lines of a YAML value after its key (the first line goes after 'key:')."""
    pad = " " * indent
    if isinstance(value, dict):
        lines = [""]
        for k, v in value.items():
            sub = _yaml_value(v, indent + 2, flow, art)
            lines.append(f"{pad}  {k}:{sub[0]}")
            lines.extend(sub[1:])
        return lines
    if isinstance(value, list):
        if not value:
            return [" nothing" if art else " []"]
        if all(isinstance(v, str) and re.fullmatch(r"[a-z]+ \d+", v) for v in value):
            names = [f"{'an' if v[0] in 'aeiou' else 'a'} {v}" if art else v for v in value]
        else:
            names = list(value)
        if flow:
            return [f" [{', '.join(names)}]"]
        return ["", *(f"{pad}  - {n}" for n in names)]
    return [f" {value}"]


def _yaml(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The state as YAML: 'location: sofa 1\\non the sofa 1:\\n  - box 3\\n  - pillow 1', or with flow lists ('on
    the sofa 1: [box 3, pillow 1]'), articles ('- a box 3'), a '---' start or an 'observation:' root key."""
    fields = _flat_fields(sents) if rng.random() < 0.6 else _nested_fields(sents)
    if fields is None:
        return None
    flow, art = rng.random() < 0.35, rng.random() < 0.3
    root = rng.choice(("", "", "---", "observation:"))
    indent = 2 if root == "observation:" else 0
    lines = [root] if root else []
    for k, v in fields:
        sub = _yaml_value(v, indent, flow, art)
        lines.append(f"{' ' * indent}{k}:{sub[0]}")
        lines.extend(sub[1:])
    return "\n".join(lines)


# -- XML elements -------------------------------------------------------------------------------------------------
_ROLE = {
    "arrive": "arrival", "middle": "position", "facing": "position", "on": "contents", "in_it": "contents",
    "next_to": "contents", "around": "contents", "is_open": "state", "is_closed": "state", "carrying": "inventory",
    "not_carrying": "inventory", "nothing": "result", "special": "result", "this_is": "result",
}  # fmt: skip


def _xml_items(items: tuple[str, ...], tag: str) -> str:
    return "".join(f"<{tag}>{i}</{tag}>" for i in items) if items else "nothing"


def _xml_structured(sents: list[Sentence], rng: random.Random) -> list[str]:
    tag = rng.choice(("object", "item"))
    named = ""
    out = []
    for s in sents:
        if s.kind in ("arrive", "open", "close", "is_open", "is_closed"):
            named = s.a
        if s.kind == "arrive":
            out.append(f"<location>{s.a}</location>")
        elif s.kind == "middle":
            out.append("<location>the middle of a room</location>")
        elif s.kind == "facing":
            out.append(f"<facing>{s.listed}</facing>")
        elif s.kind == "on":
            out.append(f'<on receptacle="{s.a}">{_xml_items(s.items, tag)}</on>')
        elif s.kind == "in_it":
            where = f' receptacle="{named}"' if named else ""
            out.append(f"<in{where}>{_xml_items(s.items, tag)}</in>")
        elif s.kind == "next_to":
            out.append(f"<next_to_it>{_xml_items(s.items, tag)}</next_to_it>")
        elif s.kind == "around":
            out.append(f"<around_you>{_xml_items(s.items, tag)}</around_you>")
        elif s.kind in ("is_open", "is_closed"):
            out.append(f'<state receptacle="{s.a}">{_state(s)}</state>')
        elif s.kind == "carrying":
            out.append(f"<inventory>{_xml_items(s.items, tag)}</inventory>")
        elif s.kind == "not_carrying":
            out.append("<inventory>nothing</inventory>")
        else:
            out.append(f"<event>{s.text}</event>")
    return out


def _xml(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The state in XML elements: each sentence in an element named by its role ('<arrival>You arrive at sofa
    1.</arrival><contents>On the sofa 1, you see ...</contents>'), or the facts as elements ('<location>sofa
    1</location><on receptacle="sofa 1"><object>box 3</object>...</on>', '<state receptacle="drawer
    10">closed</state>'); under an <observation> root or not, on one line or one element a line."""
    if not all_known(sents):
        return None
    if rng.random() < 0.5:
        elements = [f"<{_ROLE.get(s.kind, 'action')}>{s.text}</{_ROLE.get(s.kind, 'action')}>" for s in sents]
    else:
        elements = _xml_structured(sents, rng)
    root = rng.choice(("observation", "observation", "scene", ""))
    if rng.random() < 0.5:
        inner = "".join(elements)
        return f"<{root}>{inner}</{root}>" if root else inner
    if root:
        return "\n".join([f"<{root}>", *(f"  {e}" for e in elements), f"</{root}>"])
    return "\n".join(elements)


# -- upper or title case ------------------------------------------------------------------------------------------
def _title_word(m: re.Match[str]) -> str:
    return capital(m.group(0))


def _letter_case(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The observation in capitals, as some models shout a game's text: 'YOU ARRIVE AT SOFA 1. ON THE SOFA 1, YOU
    SEE A BOX 3, AND A PILLOW 1.'; in title case ('You Arrive At Sofa 1. On The Sofa 1, You See A Box 3, ...'); or
    only its first sentence in capitals, as a headline."""
    if not all_known(sents):
        return None
    style = rng.choice(("upper", "upper", "title", "first"))
    body = body_text(sents)
    if style == "upper":
        return body.upper()
    if style == "title":
        return re.sub(r"[A-Za-z']+", _title_word, body)
    return " ".join([sents[0].text.upper(), *(s.text for s in sents[1:])])


# -- section labels -----------------------------------------------------------------------------------------------
_SECTION = {
    "arrive": 0, "middle": 0, "facing": 0, "on": 1, "in_it": 1, "next_to": 1, "around": 1, "is_open": 2,
    "is_closed": 2, "carrying": 4, "not_carrying": 4,
}  # fmt: skip
_SECTION_NAMES = (
    ("Location", "What you see", "State", "Action", "Inventory"),
    ("Where you are", "Visible", "Receptacle state", "Result", "Holding"),
    ("Position", "Surroundings", "Condition", "Action result", "Inventory"),
)


def _sections(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """Each sentence under a section label, sentences of one section together: '**Location:** You arrive at sofa
    1.\\n**What you see:** On the sofa 1, you see ...', 'Action: You pick up the box 3 from the sofa 1.', or
    markdown sub-headings ('### State\\nThe drawer 10 is closed.')."""
    if not all_known(sents):
        return None
    names = rng.choice(_SECTION_NAMES)
    groups: list[tuple[str, list[str]]] = []
    for s in sents:
        label = names[_SECTION.get(s.kind, 3)]
        if groups and groups[-1][0] == label:
            groups[-1][1].append(s.text)
        else:
            groups.append((label, [s.text]))
    style = rng.choice(("bold", "bold", "plain", "heading"))
    if style == "heading":
        return "\n\n".join(f"### {label}\n{' '.join(texts)}" for label, texts in groups)
    mark = "**" if style == "bold" else ""
    return "\n".join(f"{mark}{label}:{mark} {' '.join(texts)}" for label, texts in groups)


# -- a chat assistant's preamble ----------------------------------------------------------------------------------
_PREAMBLES = (
    "Sure! Here's the next observation:",
    "Sure, here is what you observe next:",
    "Certainly. The environment responds:",
    "Okay, here's the result of that action:",
    "Here is the updated observation:",
    "Got it. Here's what happens:",
)


def _preamble(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """A chat assistant's preamble before the observation, as instruction-tuned models answer: 'Sure! Here's the
    next observation:\\n\\nYou arrive at sofa 1. ...', 'Certainly. The environment responds: You arrive at ...'."""
    if not all_known(sents):
        return None
    return rng.choice(_PREAMBLES) + rng.choice(("\n\n", "\n", " ")) + body_text(sents)


# -- a vocative addressing the player -----------------------------------------------------------------------------
_VOCATIVES = ("adventurer", "traveler", "player", "my friend", "friend")


def _vocative(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """The player addressed by a vocative, as a role-playing game master talks: 'You arrive at sofa 1, adventurer.',
    'Traveler, on the sofa 1, you see ...', 'Player, the drawer 10 is closed.', once, in the first or the last
    sentence. A vocative ends a sentence only when the sentence ends in no list, so it never reads as a listed thing."""
    if not all_known(sents):
        return None
    who = rng.choice(_VOCATIVES)
    chosen = len(sents) - 1 if rng.random() < 0.3 else 0  # the one sentence addressed: the first or the last
    out = []
    for i, s in enumerate(sents):
        if i != chosen:
            out.append(s.text)
            continue
        if s.items or s.kind in (*_LISTS, "carrying", "facing") or rng.random() < 0.4:
            out.append(f"{capital(who)}, {lower_first(s.text)}")
        else:
            out.append(f"{s.text[:-1]}, {who}.")
    return " ".join(out)


# -- a texting register -------------------------------------------------------------------------------------------
def _texting(sents: list[Sentence], rng: random.Random, tr: Transition) -> str | None:
    """A texting register, as a person types a quick reply: all lower case, '&' for a list's 'and', 'u' for 'you'
    and 'ur' for 'your', the last full stop dropped or each sentence on its own line without one: 'u arrive at sofa
    1. on the sofa 1, u see a box 3 & a pillow 1'."""
    if not all_known(sents):
        return None
    amp, you = rng.random() < 0.7, rng.random() < 0.6
    texts = []
    for s in sents:
        text = s.text.lower()
        if amp and s.kind in (*_LISTS, "carrying", "facing") and len(s.items) > 1:
            text = text.replace(", and ", " & ").replace(" and ", " & ")
        if you:
            text = re.sub(r"\byour\b", "ur", re.sub(r"\byou\b", "u", text))
        texts.append(text)
    if rng.random() < 0.5:
        return " ".join(texts)[:-1]
    return "\n".join(t[:-1] for t in texts)


# -- gaze idioms for seeing -----------------------------------------------------------------------------------------
_GAZE = ("your eyes fall on", "your gaze lands on", "you catch sight of", "your eyes land on", "you lay eyes on")
_GAZE_NOTHING = ("your eyes find nothing", "your gaze finds nothing")


def _gaze_rule(s: Sentence, rng: random.Random) -> str | None:
    """Seeing told with gaze idioms: 'On the sofa 1, your eyes fall on a box 3, and a pillow 1.', 'In it, you catch
    sight of a mug 1.', 'Next to it, your eyes find nothing.'"""
    if "you see " not in s.text:
        return None
    if s.items:
        return s.text.replace("you see ", f"{rng.choice(_GAZE)} ", 1)
    return s.text.replace("you see nothing", rng.choice(_GAZE_NOTHING), 1)


# -- a temporal adverb marking a state as current -----------------------------------------------------------------
_NOW_OPENERS = ("Right now", "At the moment", "At present", "Currently")


def _current_rule(s: Sentence, rng: random.Random) -> str | None:
    """States marked as current by a temporal adverb, events left as they are: 'The drawer 10 is currently
    closed.', 'At the moment, on the sofa 1, you see a box 3.', 'You are currently carrying: a pen 1.', 'You are
    not carrying anything at present.'"""
    if s.kind in _LISTS:
        if rng.random() < 0.3 and "you see " in s.text:
            return s.text.replace("you see ", "you currently see ", 1)
        return f"{rng.choice(_NOW_OPENERS)}, {lower_first(s.text)}"
    if s.kind in ("is_open", "is_closed"):
        state = _state(s)
        return rng.choice(
            (f"The {s.a} is currently {state}.", f"The {s.a} is {state} at the moment.",
             f"Right now, the {s.a} is {state}.", f"The {s.a} is presently {state}.")
        )  # fmt: skip
    if s.kind == "carrying":
        return rng.choice((f"You are currently carrying: {s.listed}.", f"At the moment, you are carrying: {s.listed}."))
    if s.kind == "not_carrying":
        return rng.choice(("You are not carrying anything at the moment.", "You are currently not carrying anything."))
    if s.kind == "middle":
        return "You are currently in the middle of a room."
    if s.kind == "facing":
        return f"You are currently facing the {s.listed}."
    return None


_CURRENT = (*_LISTS, "is_open", "is_closed", "carrying", "not_carrying", "middle", "facing")

FAMILIES: dict[str, Family] = {
    name: family(name, reword)
    for name, reword in (
        ("json_object", known_only(_json)),
        ("yaml_fields", known_only(_yaml)),
        ("xml_elements", _xml),
        ("letter_case", _letter_case),
        ("section_labels", _sections),
        ("assistant_preamble", _preamble),
        ("vocative_address", _vocative),
        ("texting_register", _texting),
        ("gaze_idiom", known_only(per_sentence(dict.fromkeys(_LISTS, _gaze_rule)))),
        ("current_state_adverb", known_only(per_sentence(dict.fromkeys(_CURRENT, _current_rule)))),
    )
}

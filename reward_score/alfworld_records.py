"""An observation written as data -- a JSON object, YAML fields, XML elements -- or under labels, said as sentences.

Models asked for a structured observation write '{"location": "sofa 1", "on the sofa 1": ["box 3"]}', 'drawer 10:
closed' in YAML, '<state receptacle="drawer 10">closed</state>', or put a label before each sentence ("**Position:**
You arrive at ...", "### Where you are") or a chat preamble before the observation ("Sure! Here is the next
observation:"). On normalised, case-folded body lines (the task-status line apart):

- `said_as_sentences` parses the body with a real parser (`json`, `yaml.safe_load`, `xml.etree`) and says each field
  as the sentence the game prints, from a closed list of keys: the place ("location"), what is seen where ("on the
  sofa 1", "in it", "next to it", "around you": a list, [] or "nothing"), a receptacle's state ("drawer 10": "closed",
  or {"state": ..., "in it": [...]}), what is carried ("carrying", "inventory"), what you face ("facing"), and events
  as their own sentences ("event", "action", ...); wrapper keys and elements ("observation", "scene") are read
  through. One key or element outside the list and the record is not said at all (None: the text stays unreadable);
- `labels_dropped` drops a label or heading before a sentence when every word of it is from a closed list that says
  nothing of the world ("observation", "result", "here is", "sure", "where you are", "receptacle state", ...), and
  the sentence after it stands on its own ("Location: You arrive at ..." -- not "Inventory: a pen 1", which the
  grammar reads as the list it is).

`alfworld_state` uses a record's sentences only when the text as written cannot be read and the sentences can.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import yaml

_E = r"[a-z]+ \d+"
_ENT_RE = re.compile(rf"(?:the )?({_E})")
_WHERE_RE = re.compile(rf"(?:on|in|inside|on top of|next to|around|near) (?:the )?(?:{_E}|it|you)")
_PLACE_KEYS = frozenset({"location", "position", "place", "where", "where you are", "you are at", "current location"})
_CARRY_KEYS = frozenset({"carrying", "inventory", "holding", "you are carrying", "in hand", "held", "your inventory"})
_STATE_KEYS = frozenset({"state", "status", "condition", "open or closed", "door"})
_SEEN_KEYS = {"on it": "on", "in it": "in", "inside": "in", "contents": "in", "objects": "in", "items": "in"}
_EVENT_KEYS = frozenset({"event", "events", "action", "result", "outcome", "arrival", "feedback", "message"})
_WRAPPER_KEYS = frozenset({"observation", "scene", "state", "next state", "world", "environment", "response"})
_NOTHING = frozenset({"nothing", "none", "empty", ""})
_ITEM_TAGS = frozenset({"object", "item", "thing"})
# Elements named for the role of the sentence they hold ("<arrival>You arrive at sofa 1.</arrival>").
_ROLE_TAGS = _WRAPPER_KEYS | _EVENT_KEYS | {"contents", "position", "inventory", "location", "state", "surroundings"}
_SENTENCE_RE = re.compile(r".*\b(?:you|is|are|nothing happens)\b.*")


def _items(value: Any) -> str | None:
    """A list of names (or "nothing") as the game lists them; None when it is not a list of names."""
    if isinstance(value, str):
        value = [] if value.strip() in _NOTHING else [v.strip() for v in re.split(r",|\band\b", value) if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    names = [m.group(1) if (m := _ENT_RE.fullmatch(v.strip().removeprefix("a ").removeprefix("an "))) else None
             for v in value]  # fmt: skip
    if any(n is None for n in names):
        return None
    return ", ".join(n for n in names if n) if names else "nothing"


def _field(key: str, value: Any) -> list[str] | None:
    """One field said as sentences; None when the key or its value is outside the closed list."""
    key = " ".join(key.replace("_", " ").split())
    if key in _WRAPPER_KEYS and isinstance(value, dict):
        return _record(value)
    if key in _EVENT_KEYS:
        texts = value if isinstance(value, list) else [value]
        return [t.strip() for t in texts] if all(isinstance(t, str) and t.strip() for t in texts) else None
    if key in _PLACE_KEYS and isinstance(value, str):
        where = value.strip().removeprefix("the ")
        return [f"you are in {where}."] if "middle of" in where else [f"you are at {where}."]
    if key == "facing" and isinstance(value, str):
        return [f"you are facing {value.strip()}."]
    if key in _CARRY_KEYS:
        items = _items(value)
        return None if items is None else [f"you are carrying {items}."]
    if _WHERE_RE.fullmatch(key):
        items = _items(value)
        return None if items is None else [f"{key}, you see {items}."]
    if m := _ENT_RE.fullmatch(key):
        name = m.group(1)
        if isinstance(value, str):
            return [f"{name} is {value.strip()}."]
        if isinstance(value, dict):
            out: list[str] = []
            for k, v in value.items():
                k = " ".join(str(k).replace("_", " ").split())
                if k in _STATE_KEYS and isinstance(v, str):
                    out.append(f"{name} is {v.strip()}.")
                elif k in _SEEN_KEYS and (items := _items(v)) is not None:
                    out.append(f"{_SEEN_KEYS[k]} {name}, you see {items}.")
                else:
                    return None
            return out
    return None


def _record(obj: dict[Any, Any]) -> list[str] | None:
    out: list[str] = []
    for key, value in obj.items():
        said = _field(str(key), value)
        if said is None:
            return None
        out.extend(said)
    return out


def _element(el: ET.Element) -> list[str] | None:
    """One XML element said as sentences: a wrapper read through, an element holding a sentence, or a field."""
    tag = el.tag.replace("_", " ")
    children = list(el)
    text = (el.text or "").strip()
    if children and all(c.tag in _ITEM_TAGS and not list(c) for c in children):
        value: Any = [(c.text or "").strip() for c in children]
    elif children:
        if tag not in _WRAPPER_KEYS and tag not in _EVENT_KEYS:
            return None
        out: list[str] = []
        for child in children:
            said = _element(child)
            if said is None:
                return None
            out.extend(said)
        return out
    else:
        value = text
    if len(el.attrib) > 1:
        return None
    if el.attrib:
        (attr, named), = el.attrib.items()  # fmt: skip
        if attr not in ("receptacle", "name", "of", "object"):
            return None
        if tag in ("on", "in", "inside"):
            return _field(f"{tag} {named}", value)
        if tag in _STATE_KEYS:
            return _field(named, value)
        return None
    if isinstance(value, str) and tag in _ROLE_TAGS and _SENTENCE_RE.fullmatch(value):
        return [value]  # a sentence in an element named for its role
    return _field(tag, value)


_YAMLISH_RE = re.compile(r"\s*(?:---|- .+|[a-z][a-z0-9 _']*:(?: .*)?)")


def said_as_sentences(lines: list[str]) -> list[str] | None:
    """The body lines of a JSON, YAML or XML record said as sentences; None when the body is not such a record or
    holds a field outside the closed list (see the module docstring)."""
    body = "\n".join(line for line in lines if not line.strip().startswith(("```", "~~~"))).strip()
    if not body:
        return None
    obj: Any = None
    try:
        if body.startswith(("{", "[")):
            obj = json.loads(body)
        elif body.startswith("<"):
            root = ET.fromstring(f"<r>{body}</r>")
            out: list[str] = []
            for child in root:
                s = _element(child)
                if s is None:
                    return None
                out.extend(s)
            return out or None
        elif all(_YAMLISH_RE.fullmatch(line) for line in body.split("\n")) and ":" in body:
            obj = yaml.safe_load(body)
    except (ValueError, ET.ParseError, yaml.YAMLError):
        return None
    return _record(obj) if isinstance(obj, dict) and obj else None


# -- labels and preambles ---------------------------------------------------------------------------------------
_NEUTRAL = frozenset(
    "observation observations result results outcome output response feedback update updated new next current"
    " resulting predicted environment game world scene text description details info information the a an is are"
    " here what where you your happens happened sure certainly okay ok got it of course responds says following"
    " this that after action arrival event events position location surroundings contents receptacle receptacles"
    " state status condition objects items visible nearby inventory step what's here's that's it's observe observed"
    " see sees view holding carrying hands hand".split()
)
_LABEL_RE = re.compile(r"(?:#{1,6}\s*)?(?:\*\*|__)?(?P<label>[a-z' .,!]{2,60}?)(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*")
_HEADING_RE = re.compile(r"#{1,6}\s+(?P<label>[a-z' ]{2,60})")
_STANDS_ALONE_RE = re.compile(r"(?:you|the|on|in|inside|next to|looking|nothing happens|there|it)\b")


def _neutral(label: str) -> bool:
    words = re.findall(r"[a-z']+", label)
    return bool(words) and all(w in _NEUTRAL for w in words)


def labels_dropped(lines: list[str]) -> list[str]:
    """`lines` without headings and labels that say nothing of the world (see the module docstring)."""
    out = []
    for line in lines:
        if (h := _HEADING_RE.fullmatch(line)) and _neutral(h["label"]):
            continue
        m = _LABEL_RE.match(line)
        if m and _neutral(m["label"]) and (not line[m.end() :] or _STANDS_ALONE_RE.match(line, m.end())):
            line = line[m.end() :]
            if not line:
                continue
        out.append(line)
    return out

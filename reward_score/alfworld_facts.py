"""The facts an ALFWorld state reports, read from its words: objects, events, open/closed/empty/carrying, status.

ALFWorld's feedback comes from a small grammar (`alfworld/data/alfred.twl2`): every object and receptacle is
named with its number ("mug 3", "desk 2"), and each sentence reports an event (you arrive, open, close, pick up,
move, heat, cool, clean, slice, turn on or off; nothing happens) or a fact (a receptacle is open, closed or empty,
what is on or in it, what you carry). Two states report the same facts when they name the same numbered objects,
the same events and facts and the same task-status line, whatever the wording: "You take the mug 3 from the
desk 2." states what "You pick up the mug 3 from the desk 2." states; "You pick up the mug 1 ..." does not.

`read_facts` knows each event and fact under several phrasings (the `_PHRASES` table). What it cannot read
makes two states differ -- a reward of 0, never a free 1. The sim-to-real reward's `facts` mode
(reward_score/scoring.py) scores 1 only when the facts agree AND the embedding cosine clears its tau.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from reward_score.answer_format import STATUS_DONE, STATUS_NOT_DONE

# "mug 3", "desk 2", "mug #3", "mug number 3". The word before the number must be a name, not a function word.
_ENTITY_RE = re.compile(r"\b([a-z]+)\s+(?:#\s*|number\s+|no\.\s*)?(\d+)\b")
_NOT_NAMES = frozenset(
    "a an the at to on in into onto of with from and or by is are was it its your you step task up off over".split()
)
# Status sentences anywhere in the text (a world model may write them on the last line or after a sentence).
_STATUS_RE = re.compile(
    rf"({re.escape(STATUS_DONE.rstrip('.'))}|{re.escape(STATUS_NOT_DONE.rstrip('.'))})\.?", re.IGNORECASE
)

# Canonical fact -> phrasings, read in this order; each match is blanked before the next fact is read, so
# "nothing happens" is not also "empty" and "you closed the" is not also the state "closed". Object names are
# read first and stand as "obj" here.
# fmt: off
_PHRASES: tuple[tuple[str, str], ...] = (
    ("nothing_happens", r"nothing (?:at all )?(?:happens|happened|changes|changed)|(?:has|had|have) no effect"
                        r"|does nothing|did nothing|nothing seems to happen"),
    ("no_switch", r"(?:do not|don't|do n't|cannot|can't|can not) (?:see|find) (?:any|a) switch|has no switch"
                  r"|no switch"),
    ("not_carrying", r"(?:not|n't) (?:carrying|holding) anything|(?:carrying|holding|carry|hold) nothing"
                     r"|empty[- ]handed|hands are empty|nothing in your hands?|(?:not|n't) carrying any\w*"),
    ("turn_on", r"(?:turn|turned|switch|switched) on|(?:turn|turned|switch|switched) (?:the )?obj on"
                r"|now on(?! (?:the|a|an|obj)\b)"),
    ("turn_off", r"(?:turn|turned|switch|switched) off|(?:turn|turned|switch|switched) (?:the )?obj off"
                 r"|now off(?! (?:the|a|an|obj)\b)"),
    ("arrive", r"arrive|arrived|arriving|reach|reached|go to|went to|go over to|walk|walked|head (?:over )?to"
               r"|headed (?:over )?to|get to|got to|come to|came to|(?:are|stand|find yourself) (?:now )?(?:at|by"
               r"|next to)|move to|moved to|travel to|travelled to|approach|approached|make your way"),
    ("open_act", r"you (?:have |just |then )?(?:open|opened|pull open|pulled open|swing open|swung open)"
                 r"|you (?:pull|pulled|swing|swung|push|pushed) (?:the )?obj open|(?:opening|opened) the obj"),
    ("close_act", r"you (?:have |just |then )?(?:close|closed|shut|push shut|pushed shut)"
                  r"|you (?:push|pushed|slide|slid|swing|swung|pull|pulled) (?:the )?obj (?:shut|closed)"
                  r"|(?:closing|closed|shutting) the obj"),
    ("pickup", r"pick(?:ed)? up|pick(?:ed)? (?:the )?obj up|take|took|taken|grab|grabbed|lift|lifted|retrieve"
               r"|retrieved|collect|collected|now in your hands?|now holding|now carrying|get|got|remove|removed"),
    ("put", r"put|puts|place|placed|set down|set|move the|moved the|drop|dropped|deposit|deposited|leave|left"
            r"|now (?:on|in|inside) the|stow|stowed"),
    ("hot", r"heat|heats|heated|heating|warm|warms|warmed|hot"),
    ("cool", r"cool|cools|cooled|cooling|chill|chills|chilled|refrigerate[ds]?|cold"),
    ("clean", r"clean|cleans|cleaned|cleaning|wash|washes|washed|rinse|rinsed"),
    ("sliced", r"slice|slices|sliced|slicing|cut|cuts"),
    ("examine_object", r"this is a|this is an|it is a normal|it's a normal|a normal"),
    ("facing", r"facing|in front of|looking at"),
    ("middle_of_room", r"middle of (?:a|the) room|cent(?:er|re) of (?:a|the) room|looking (?:quickly )?around"),
    ("empty", r"nothing|empty|no objects?|not anything"),
    ("carrying", r"carrying|holding|you have (?:got )?(?:a|an|the|obj)|you hold|you carry|in your hands?"
                 r"|your inventory"),
    ("open", r"open|opened|opening|ajar"),
    ("closed", r"close|closed|closing|shut"),
)
# fmt: on
_PATTERNS = tuple((name, re.compile(rf"\b(?:{pattern})\b")) for name, pattern in _PHRASES)
# An event implies the state it leaves: "You open the drawer 1." says the drawer is open.
_IMPLIES = {"open_act": "open", "close_act": "closed"}


@dataclass(frozen=True)
class Facts:
    """What a state says: numbered objects named, canonical events and facts, and its task-status line."""

    entities: frozenset[str]
    predicates: frozenset[str]
    status: bool | None  # True "Task completed.", False "Task is not yet completed.", None when absent

    def differences(self, other: Facts) -> list[str]:
        """What `other` gets wrong against self (the real state), as short reasons; [] when the facts agree."""
        out = []
        if missing := self.entities - other.entities:
            out.append("missing " + ", ".join(sorted(missing)))
        if extra := other.entities - self.entities:
            out.append("invented " + ", ".join(sorted(extra)))
        if missing := self.predicates - other.predicates:
            out.append("misses " + ", ".join(sorted(missing)))
        if extra := other.predicates - self.predicates:
            out.append("adds " + ", ".join(sorted(extra)))
        if self.status is not None and other.status != self.status:
            out.append("task status differs" if other.status is not None else "no task-status line")
        return out


def _status(text: str) -> tuple[bool | None, str]:
    found: bool | None = None
    for m in _STATUS_RE.finditer(text):
        found = m.group(1).lower().startswith(STATUS_DONE.lower().rstrip("."))
    return found, _STATUS_RE.sub(" ", text)


@functools.lru_cache(maxsize=16384)  # ground truths repeat across a GRPO group and across steps
def read_facts(state: str) -> Facts:
    """The facts `state` reports (see the module docstring); never raises on any text."""
    status, text = _status(state)
    text = " ".join(text.lower().replace("\u2019", "'").split())
    entities = frozenset(f"{w} {n}" for w, n in _ENTITY_RE.findall(text) if w not in _NOT_NAMES)
    # Blank the names so an object called e.g. "desklamp" is not read as a fact word.
    text = " ".join(_ENTITY_RE.sub(lambda m: m.group(0) if m.group(1) in _NOT_NAMES else " obj ", text).split())
    predicates: set[str] = set()
    for name, pattern in _PATTERNS:
        text, hits = pattern.subn(" ", text)
        if hits:
            predicates.add(name)
            if name in _IMPLIES:
                predicates.add(_IMPLIES[name])
    return Facts(entities, frozenset(predicates), status)


def fact_differences(real: str, predicted: str) -> list[str]:
    """Why `predicted` does not report the facts of `real` ([] when it does)."""
    return read_facts(real).differences(read_facts(predicted))

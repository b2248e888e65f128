# ruff: noqa: E501 - the grammar reads best one clause form per line
"""Read an ALFWorld observation into the world state it reports, so two wordings of one state compare equal.

ALFWorld's feedback comes from a small grammar (`alfworld/data/alfred.twl2`): every object and receptacle is named
with its number ("mug 3"), and each sentence reports an event (you arrive, open, close, pick up, move, heat, cool,
clean, slice, turn on or off; nothing happens) or a state (a receptacle is open or closed, what is in or on it,
what you carry, what an object is like). `read_state` turns a text into a `WorldState`: a map from a fact's key
to its value --

    at                    where the agent is ("room" in the middle of the room)
    open <r>              True / False
    contents <r>          the exact set of objects seen in or on r (empty for "nothing")
    in <o>                the receptacle o is in or on
    holds <o>, left <o>   the agent holds o; the receptacle it was taken from
    inventory             the exact set the agent carries
    heat|cool|clean <o>   the appliance used; hot|cool|clean|sliced <o> as properties
    sliced <o>            the tool used
    on <o>                a lamp's switch; facing, around, floor: what a `look` shows
    examined <o>          what `examine` says of an object; nothing happens; help

Events imply the states they leave (opening r sets `open r`; reporting what is in or on r puts the agent at r; a
pickup means the agent holds the object), so "The cabinet 4 is now open, and inside it you see a cloth 2." reads
as "You open the cabinet 4. The cabinet 4 is open. In it, you see a cloth 2." Who did what to what is bound: the
object moved and the place it went are different keys.

The reader is a closed grammar: the text is normalised (Unicode NFKC, format characters such as zero-width spaces
removed, case folded, articles dropped, contractions spelled out), the task-status line is read from the LAST line
only, and every clause of the body must be one of the known forms (`_CLAUSES`, each with several wordings, tenses
and word orders). A clause that is not -- a negation ("you do not see a mug 1"), a failure ("you cannot ..."),
a hedge ("either ... or"), a disclaimer, a status line elsewhere, a look-alike letter -- makes the text
unreadable, and an unreadable prediction scores 0 with its reason; two clauses that disagree (open and closed)
make it contradictory. What the reader cannot read is never a free 1.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from reward_score.answer_format import STATUS_DONE, STATUS_NOT_DONE

_DONE = STATUS_DONE.casefold().rstrip(".")
_NOT_DONE = STATUS_NOT_DONE.casefold().rstrip(".")

# -- normalisation --------------------------------------------------------------------------------------------------
_CONTRACTIONS = (
    (r"\bcan't\b", "cannot"), (r"\bwon't\b", "will not"), (r"n't\b", " not"), (r"\bthere's\b", "there is"),
    (r"\bit's\b", "it is"), (r"\byou're\b", "you are"), (r"\byou've\b", "you have"), (r"\bthat's\b", "that is"),
    (r"\bthere're\b", "there are"), (r"\bcan not\b", "cannot"),
)  # fmt: skip
_CONTRACTION_RES = tuple((re.compile(p), r) for p, r in _CONTRACTIONS)
# Person and layout: a first-person narration says what the second-person one says; bullets and colons introduce
# lists ("you see: - a mug 1 - a pen 2" is "you see a mug 1, a pen 2"; "the drawer 1: closed" is "... is closed").
_LAYOUT = (
    (r"\bi am\b", "you are"), (r"\bi'm\b", "you are"), (r"\bi\b", "you"), (r"\bmy\b", "your"), (r"\bme\b", "you"),
    (r"\bmyself\b", "yourself"), (r"(?:^|\s)[•*·\-](?=\s)", " , "),
    (r"\b(see|notice|find|spot|observe|carrying|holding|contains|holds|have|has)\s*[:,](?:\s*,)*", r"\1 "),
    (r"(?<=\d):\s*(?=(?:open|opened|closed|shut|empty)\b)", " is "), (r"\s*:\s*,?", ", "), (r",(?:\s*,)+", ","),
)  # fmt: skip
_LAYOUT_RES = tuple((re.compile(p), r) for p, r in _LAYOUT)
_NUMBERED_RE = re.compile(r"(?<!\w)([a-z]+)\s*(?:#|number|no\.|n°)\s*0*(\d+)(?!\w)")
_ARTICLE_RE = re.compile(r"(?<!\w)(?:a|an|the)(?!\w)")


def normalise(text: str) -> str:
    """NFKC, format characters (zero-width spaces, bidi marks) removed, case folded, curly quotes straightened."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return text.casefold().replace("\u2019", "'").replace("\u2018", "'").replace("\r\n", "\n").replace("\r", "\n")


def _clean_body(text: str) -> str:
    for pattern, repl in _CONTRACTION_RES:
        text = pattern.sub(repl, text)
    for pattern, repl in _LAYOUT_RES:
        text = pattern.sub(repl, text)
    text = _NUMBERED_RE.sub(r"\1 \2", text)
    text = _ARTICLE_RE.sub(" ", text)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\s+([,.;:!])", r"\1", text).strip()


# -- the clause grammar ---------------------------------------------------------------------------------------------
_ENT = r"(?<!\w)[a-z]+ \d+(?!\w)"
_ENT_RE = re.compile(_ENT)
_SEP = r"(?:\s*,\s*(?:and\s+)?|\s+and\s+)"
_LIST = rf"{_ENT}(?:{_SEP}{_ENT})*"
_NOTHING = r"nothing(?: at all)?|no objects?|no items?|not anything"


def _g(name: str, pattern: str) -> str:
    return f"(?P<{name}>{pattern})"


def _alt(*words: str) -> str:
    return "(?:" + "|".join(sorted(words, key=len, reverse=True)) + ")"


OBJ = _g("o", _ENT)  # the object acted on
REC = _g("r", rf"{_ENT}|it|there")  # a receptacle or place; "it"/"there" name the last one mentioned
TOOL = _g("u", _ENT)  # the appliance or tool used
LST = _g("l", rf"{_LIST}|{_NOTHING}")  # an exhaustive list of objects, or nothing
_IN = _alt("on", "in", "inside", "within", "atop", "on top of", "upon", "inside of", "in or on", "onto", "into")
_YOU = r"you (?:(?:now|then|just|have|had|also|have now|have just|finally|quickly) )?"
_SEE = _alt("see", "notice", "find", "spot", "observe", "discover", "can see", "can spot", "are able to see",
            "saw", "noticed", "found", "spotted", "observed", "discovered", "could see", "count", "spy")  # fmt: skip
_NOW = r"(?:(?:now|still|already|currently|then) )?"
# "do not see anything" says what "see nothing" says; it has no group "l", so it reads as an empty list.
_NOT_SEE = (
    r"(?:do not|did not|cannot|could not|can not) (?:see|find|notice|spot|observe) (?:anything|any objects?|any items?)"
)
_LATER = r"(?: right now| now| at the moment| currently| still| at present)?"
_BE = _alt("is", "are", "was", "were", "has been", "have been", "stands", "remains", "sits", "lies", "is left",
           "rests", "seems", "looks", "appears to be", "seems to be")  # fmt: skip
_ARRIVE = _alt(
    "arrive at",
    "arrived at",
    "reach",
    "reached",
    "get to",
    "got to",
    "go to",
    "went to",
    "walk to",
    "walked to",
    "walk over to",
    "walked over to",
    "head to",
    "headed to",
    "head over to",
    "headed over to",
    "make your way to",
    "made your way to",
    "move to",
    "moved to",
    "come to",
    "came to",
    "travel to",
    "traveled to",
    "travelled to",
    "approach",
    "approached",
    "go over to",
    "went over to",
    "step over to",
    "stepped over to",
    "step up to",
    "stepped up to",
    "return to",
    "returned to",
    "go back to",
    "went back to",
    "proceed to",
    "proceeded to",
    "navigate to",
    "navigated to",
    "wander over to",
    "wandered over to",
    "arrive by",
    "arrived by",
)
_NEAR = _alt("at", "by", "looking at", "next to", "beside", "in front of", "standing at", "standing by", "standing next to",
             "standing in front of", "standing beside", "right by", "right at", "over at", "now at", "back at")  # fmt: skip
_OPEN_V = _alt("open", "opened", "pull open", "pulled open", "swing open", "swung open", "open up", "opened up",
               "pry open", "pried open", "throw open", "threw open", "unlatch", "unlatched", "lift open",
               "lifted open", "push open", "pushed open", "slide open", "slid open", "flip open", "flipped open")  # fmt: skip
_CLOSE_V = _alt("close", "closed", "shut", "close up", "closed up", "push shut", "pushed shut", "slide shut",
                "slid shut", "swing shut", "swung shut", "pull shut", "pulled shut", "snap shut", "snapped shut")  # fmt: skip
_MOVE_V = _alt("pull", "pulled", "swing", "swung", "push", "pushed", "slide", "slid", "flip", "flipped", "lift",
               "lifted", "pry", "pried", "snap", "snapped", "ease", "eased")  # fmt: skip
_OPEN_ADJ = _alt("open", "opened", "ajar", "wide open", "open now", "now open", "opened up")
_CLOSED_ADJ = _alt("closed", "shut", "shut tight", "tightly shut", "firmly closed", "closed now", "now closed",
                   "closed tight", "firmly shut")  # fmt: skip
_TAKE_V = _alt("pick up", "picked up", "take", "took", "taken", "grab", "grabbed", "lift", "lifted", "retrieve",
               "retrieved", "collect", "collected", "get", "got", "remove", "removed", "take out", "took out",
               "pull", "pulled", "pick", "picked", "snatch", "snatched", "fetch", "fetched", "pluck", "plucked",
               "lift up", "lifted up", "scoop up", "scooped up")  # fmt: skip
_FROM = _alt("from", "off", "off of", "out of", "from inside", "from on", "from top of", "from off", "from in",
             "from within", "from atop", "from on top of", "away from")  # fmt: skip
_PUT_V = _alt("move", "moved", "put", "placed", "place", "set", "drop", "dropped", "leave", "left", "deposit",
              "deposited", "stow", "stowed", "lay", "laid", "rest", "rested", "return", "returned", "position",
              "positioned", "transfer", "transferred", "slide", "slid", "store", "stored", "bring", "brought",
              "carry", "carried", "take", "took", "tuck", "tucked")  # fmt: skip
_TO = _alt("to", "on", "onto", "in", "into", "inside", "on top of", "atop", "upon", "in or on", "down on",
           "down in", "down onto", "back on", "back in", "over to", "within", "inside of", "over on")  # fmt: skip
_APPLIANCE_VERBS: dict[str, tuple[str, ...]] = {
    "heat": ("heat", "heated", "heat up", "heated up", "warm", "warmed", "warm up", "warmed up", "microwave",
             "microwaved", "cook", "cooked"),
    "cool": ("cool", "cooled", "cool down", "cooled down", "chill", "chilled", "refrigerate", "refrigerated",
             "cool off", "cooled off", "chill down", "chilled down"),
    "clean": ("clean", "cleaned", "wash", "washed", "rinse", "rinsed", "clean off", "cleaned off", "scrub",
              "scrubbed", "wash off", "washed off", "rinse off", "rinsed off", "clean up", "cleaned up"),
}  # fmt: skip
_PASSIVE: dict[str, tuple[str, ...]] = {
    "heat": ("heated", "warmed", "heated up", "warmed up", "microwaved", "cooked"),
    "cool": ("cooled", "chilled", "cooled down", "refrigerated", "chilled down", "cooled off"),
    "clean": ("cleaned", "washed", "rinsed", "scrubbed", "cleaned off", "washed off", "rinsed off", "cleaned up"),
}  # fmt: skip
# Property words -> the property keys (not the event keys: "cool <o>" holds the appliance a cooling used).
_PROPERTY_WORDS = {"hot": "is hot", "warm": "is hot", "heated": "is hot", "cool": "is cool", "cold": "is cool",
                   "chilled": "is cool", "cooled": "is cool", "clean": "is clean", "cleaned": "is clean",
                   "washed": "is clean", "sliced": "is sliced"}  # fmt: skip
_RESULT_WORDS = {"heat": ("hot", "warm", "heated"), "cool": ("cold", "cool", "chilled", "cooled"),
                 "clean": ("clean", "cleaned", "washed")}  # fmt: skip
_EVENT_PROPERTY = {"heat": "is hot", "cool": "is cool", "clean": "is clean", "sliced": "is sliced"}
_USING = _alt("using", "with", "in", "by using", "inside", "at", "by means of", "with help of", "in and with")
_SLICE_V = _alt("slice", "sliced", "cut", "chop", "chopped", "slice up", "sliced up", "cut up")
_ON_V = _alt("turn on", "turned on", "switch on", "switched on", "flip on", "flipped on", "power on", "powered on",
             "light", "lit", "click on", "clicked on")  # fmt: skip
_OFF_V = _alt("turn off", "turned off", "switch off", "switched off", "flip off", "flipped off", "power off",
              "powered off", "click off", "clicked off")  # fmt: skip
_TOGGLE_V = _alt("turn", "turned", "switch", "switched", "flip", "flipped", "power", "powered", "click", "clicked")
_CARRY = _alt("carrying", "holding", "carry", "hold", "have", "are carrying", "are holding", "have got",
              "are now carrying", "are now holding", "now carry", "now hold", "now have", "are still carrying",
              "are still holding", "still have", "still hold")  # fmt: skip
_EMPTY_HANDED = _alt(
    "you are not carrying anything",
    "you are not holding anything",
    "you carry nothing",
    "you hold nothing",
    "you are carrying nothing",
    "you are holding nothing",
    "you are empty-handed",
    "you are empty handed",
    "your hands are empty",
    "you do not have anything",
    "you have nothing",
    "you have nothing in your hands",
    "you have nothing in your hand",
    "nothing is in your hands",
    "nothing is in your hand",
    "you carry no objects",
    "you are not carrying any objects",
    "you are not holding any objects",
    "your inventory is empty",
    "you are carrying no objects",
    "you do not carry anything",
    "you do not hold anything",
    "you have no objects",
    "your hands are free",
    "you hold no objects",
    "you are not carrying anything at all",
)
_NOTHING_HAPPENS = _alt(
    "nothing happens",
    "nothing happened",
    "nothing changes",
    "nothing changed",
    "nothing at all happens",
    "nothing seems to happen",
    "nothing has happened",
    "nothing has changed",
    "that has no effect",
    "that had no effect",
    "it has no effect",
    "it had no effect",
    "this has no effect",
    "that does nothing",
    "that did nothing",
    "it does nothing",
    "it did nothing",
    "nothing happens at all",
    "nothing is changed",
    "there is no effect",
    "there is no change",
    "nothing occurs",
    "nothing occurred",
    "no effect",
)


@dataclass
class _Reading:
    """Facts read so far, the receptacle "it" names, and why the text could not be read (if it could not)."""

    facts: dict[tuple[str, ...], Any] = field(default_factory=dict)
    it: str | None = None
    problems: list[str] = field(default_factory=list)

    def set(self, key: tuple[str, ...], value: Any) -> None:
        old = self.facts.get(key, _MISSING)
        if old is not _MISSING and old != value:
            self.problems.append(f"contradiction: {_say_key(key)} is {_say(old)} and {_say(value)}")
        self.facts[key] = value

    def place(self, m: re.Match[str]) -> str | None:
        """The receptacle group `r` names: a numbered one, or the last one mentioned for "it"/"there"."""
        r = m.groupdict().get("r")
        if r is None or r in ("it", "there"):
            if self.it is None:
                self.problems.append(f"unreadable: {r or 'a clause'!r} names no receptacle: {m.group(0)!r}")
            return self.it
        self.it = r
        return r


_MISSING = object()
Handler = Callable[[_Reading, re.Match[str]], None]


def _items(text: str | None) -> frozenset[str]:
    return frozenset(_ENT_RE.findall(text or ""))


def _arrive(st: _Reading, m: re.Match[str]) -> None:
    if (r := st.place(m)) is not None:
        st.set(("at",), r)


def _open_state(value: bool) -> Handler:
    def handle(st: _Reading, m: re.Match[str]) -> None:
        if (r := st.place(m)) is not None:
            st.set(("open", r), value)

    return handle


def _contents(st: _Reading, m: re.Match[str]) -> None:
    r = st.place(m)
    if r is not None:
        st.set(("contents", r), _items(m.group("l")))


def _empty(st: _Reading, m: re.Match[str]) -> None:
    if (r := st.place(m)) is not None:
        st.set(("contents", r), frozenset())


def _more_contents(st: _Reading, m: re.Match[str]) -> None:
    r = st.place(m)
    if r is not None:
        st.facts[("contents", r)] = st.facts.get(("contents", r), frozenset()) | _items(m.group("l"))


def _take(st: _Reading, m: re.Match[str]) -> None:
    st.set(("holds", m.group("o")), True)
    if m.groupdict().get("r") is not None and (r := st.place(m)) is not None:
        st.set(("left", m.group("o")), r)


def _put(st: _Reading, m: re.Match[str]) -> None:
    if (r := st.place(m)) is not None:
        st.set(("in", m.group("o")), r)


def _appliance(kind: str) -> Handler:
    def handle(st: _Reading, m: re.Match[str]) -> None:
        st.set((kind, m.group("o")), m.group("u"))

    return handle


def _property(st: _Reading, m: re.Match[str]) -> None:
    st.set((_PROPERTY_WORDS[m.group("p")], m.group("o")), True)


def _slice(st: _Reading, m: re.Match[str]) -> None:
    st.set(("sliced", m.group("o")), m.group("u"))


def _switch(value: bool) -> Handler:
    def handle(st: _Reading, m: re.Match[str]) -> None:
        st.set(("on", m.group("o")), value)

    return handle


def _inventory(st: _Reading, m: re.Match[str]) -> None:
    st.set(("inventory",), _items(m.groupdict().get("l")))


def _flag(*key: str) -> Handler:
    def handle(st: _Reading, m: re.Match[str]) -> None:
        st.set(key, True)

    return handle


def _facing(st: _Reading, m: re.Match[str]) -> None:
    items = _items(m.group("l"))
    if len(items) == 1:
        (st.it,) = items
        st.set(("at",), st.it)
    else:
        st.set(("facing",), items)


def _around(key: str) -> Handler:
    def handle(st: _Reading, m: re.Match[str]) -> None:
        st.set((key,), _items(m.group("l")))

    return handle


def _examined(what: str | None = None) -> Handler:
    def handle(st: _Reading, m: re.Match[str]) -> None:
        st.it = m.group("o")
        props = m.groupdict().get("props")
        value = what or " and ".join(sorted(_PROPERTY_WORDS[w] for w in re.findall(r"[a-z]+", props or "")
                                            if w in _PROPERTY_WORDS)) or "normal"  # fmt: skip
        st.set(("examined", m.group("o")), value)

    return handle


def _no_switch(st: _Reading, m: re.Match[str]) -> None:
    st.set(("no switch", m.group("o")), True)


_SPECIAL = _alt("special", "remarkable", "unusual", "noteworthy", "interesting", "out of ordinary", "notable")
_PROPS = r"(?:(?:hot|cool|cold|clean|sliced|and)\s*)+"
_SWITCH_ADJ_ON = _alt("on", "turned on", "switched on", "lit", "powered on", "now on", "on now")
_SWITCH_ADJ_OFF = _alt("off", "turned off", "switched off", "powered off", "now off", "off now", "unlit")

# (clause regex, handler). The body is cut into clauses by these: at each point the longest match wins.
# fmt: off
_CLAUSES: list[tuple[str, Handler]] = [
    # arrival and position
    (rf"{_YOU}{_ARRIVE} {REC}{_LATER}", _arrive),
    (rf"you (?:are|find yourself|stand|now stand|are now|arrive|have arrived|are standing) {_NOW}{_NEAR} {REC}{_LATER}", _arrive),
    (rf"(?:arriving|once|after arriving|upon arriving|having arrived|when you arrive|as you arrive) (?:at )?{REC}", _arrive),
    (rf"{REC} (?:has been|is|was|has now been) (?:reached|arrived at|approached){_LATER}", _arrive),
    (rf"you are facing {_g('l', _LIST)}", _facing),
    (rf"you (?:face|stand in front of|are in front of|are standing in front of|are looking at|see in front of you) {_g('l', _LIST)}", _facing),
    (r"you (?:are|stand|find yourself|are standing) (?:now )?(?:standing )?in (?:middle|centre|center) of (?:a )?room", lambda st, m: st.set(("at",), "room")),
    (rf"(?:looking (?:quickly )?around(?: you)?|glancing around(?: you)?|around you),? you (?:quickly )?(?:{_SEE} {LST}|{_NOT_SEE})", _around("around")),
    (rf"you (?:quickly )?(?:look|glance) around(?: you)? and (?:{_SEE} {LST}|{_NOT_SEE})", _around("around")),
    (rf"you {_SEE} {LST} around you", _around("around")),
    (rf"(?:looking (?:quickly )?around(?: you)?|around you),? {LST}(?: (?:can be seen|is visible|are visible|is seen|are seen))?", _around("around")),
    (rf"(?:around you|all around),? there (?:is|are) {LST}", _around("around")),
    (rf"there (?:is|are) {LST} around you", _around("around")),
    (rf"(?:next to|beside|near|alongside|close to|by) it,? you (?:{_SEE} {LST}|{_NOT_SEE})", _around("floor")),
    (rf"you {_SEE} {LST} (?:next to|beside|near|alongside|close to|by) it", _around("floor")),
    (rf"there (?:is|are) {LST} (?:next to|beside|near|alongside|close to|by) it", _around("floor")),
    (rf"(?:next to|beside|near|alongside|close to|by) it,? there (?:is|are) {LST}", _around("floor")),
    (rf"(?:next to|beside|near|alongside|close to|by) it,? {LST}(?: (?:can be seen|is visible|are visible|is seen|are seen))?", _around("floor")),
    (rf"{_g('l', _NOTHING)} (?:is|lies|sits|can be seen) (?:next to|beside|near|alongside|close to|by) it", _around("floor")),
    # open / closed
    (rf"{_YOU}{_OPEN_V} {REC}", _open_state(True)),
    (rf"{_YOU}{_MOVE_V} {REC} open", _open_state(True)),
    (rf"(?:opening|after opening|having opened|once you open|when you open) {REC}", _open_state(True)),
    (rf"{_YOU}{_CLOSE_V} {REC}", _open_state(False)),
    (rf"{_YOU}{_MOVE_V} {REC} (?:shut|closed)", _open_state(False)),
    (rf"{REC} {_NOW}(?:{_BE} )?{_NOW}{_OPEN_ADJ}{_LATER}", _open_state(True)),
    (rf"{REC} (?:swings|swung|slides|slid|pops|popped|comes|came|is pulled|is swung) open", _open_state(True)),
    (rf"{REC} {_NOW}(?:{_BE} )?{_NOW}{_CLOSED_ADJ}{_LATER}", _open_state(False)),
    (rf"{REC} {_NOW}(?:is|are|was|remains|stays) not {_OPEN_ADJ}{_LATER}", _open_state(False)),
    (rf"{REC} {_NOW}(?:is|are|was|remains|stays) not {_CLOSED_ADJ}{_LATER}", _open_state(True)),
    (rf"(?:{_BE} )?{_NOW}{_OPEN_ADJ}{_LATER}", _open_state(True)),  # "..., and is now open" / "which is open"
    (rf"(?:{_BE} )?{_NOW}{_CLOSED_ADJ}{_LATER}", _open_state(False)),
    # what is in or on a receptacle (exhaustive)
    (rf"{_IN}(?: {REC})?,? you (?:can |now |also |then )?(?:{_SEE} {LST}|{_NOT_SEE})", _contents),
    (rf"you also (?:can )?{_SEE} {LST}", _more_contents),
    (rf"there (?:is|are) also {LST}", _more_contents),
    (rf"{REC},? you (?:can |now |also |then )?(?:{_SEE} {LST}|{_NOT_SEE})", _contents),
    (rf"(?:{_IN} )?{REC},? there (?:is|are|sits|sit|lies|lie|rests|rest) {LST}", _contents),
    (rf"(?:{_IN} )?{REC},? (?:is|are|sits|sit|lies|lie|rests|rest) {LST}", _contents),
    (rf"(?:{_IN} )?{REC},? {_g('l', _NOTHING)} (?:is|can be seen|can be found)", _contents),
    (rf"{_IN} {REC},? {LST}(?: (?:can be seen|is visible|are visible|is seen|are seen|can be found))?", _contents),
    (rf"(?:on|in|inside) which,? you (?:can )?(?:{_SEE} {LST}|{_NOT_SEE})", _contents),
    (rf"(?:{_IN} (?:it|there),? )?{LST} (?:can be seen|is visible|are visible|is seen|are seen|can be found)", _contents),
    (rf"{_YOU}(?:can )?(?:{_SEE} {LST}|{_NOT_SEE})(?: (?:lying|sitting|resting|placed|inside|there))? {_IN} {REC}", _contents),
    (rf"{_YOU}(?:can )?(?:{_SEE} {LST}|{_NOT_SEE})(?: (?:there|inside|in there|on it|in it|on top))?", _contents),
    (rf"(?:and )?(?:{_SEE} {LST}|{_NOT_SEE})(?: (?:there|inside|in there|on it|in it|on top))?", _contents),
    (rf"there (?:is|are|sits|sit|lies|lie|rests|rest) {LST}(?: (?:there|inside|in there|on it|in it|on top))?", _contents),
    (rf"there (?:is|are|sits|sit|lies|lie|rests|rest) {LST} {_IN} {REC}", _contents),
    (rf"{_g('l', _NOTHING)} (?:is|can be seen|can be found|lies|sits) {_IN} {REC}", _contents),
    (rf"{_g('l', rf'{_ENT}{_SEP}{_ENT}(?:{_SEP}{_ENT})*')} (?:are|lie|sit|rest) {_IN} {REC}", _contents),
    (rf"{REC} (?:holds|contains|has|carries|has got|is holding|is home to) {LST}(?: (?:on it|in it|inside|inside it|on top|on top of it))?", _contents),
    (rf"(?:it )?(?:holds|contains|has|carries|has got) {LST}(?: (?:on it|in it|inside|inside it|on top|on top of it))?", _contents),
    (rf"{REC} {_NOW}(?:{_BE} )?{_NOW}(?:completely |entirely )?empty", _empty),
    (rf"(?:{_BE} )?{_NOW}(?:completely |entirely )?empty", _empty),
    (rf"{_YOU}(?:do not|did not|cannot) {_alt('see', 'find', 'notice', 'spot')} (?:anything|any objects?|any items?)"
     rf"(?: (?:there|inside|in it|on it|in there))?(?: {_IN} {REC})?", _empty),
    (rf"inside {LST} (?:is|are) (?:visible|seen)", _contents),
    # carrying
    (rf"{_YOU}{_TAKE_V} {OBJ}(?: up| out)? {_FROM} {REC}", _take),
    (rf"{_FROM} {REC},? {_YOU}{_TAKE_V} {OBJ}(?: up| out)?", _take),
    (rf"{_YOU}{_TAKE_V} {OBJ}(?: up| out)?", _take),
    (rf"{OBJ} {_NOW}(?:is|are) {_NOW}in your hands?", lambda st, m: st.set(("holds", m.group("o")), True)),
    (rf"{OBJ} (?:taken |picked up |removed )?{_FROM} {REC} (?:is|are) {_NOW}in your hands?", _take),
    (rf"you (?:are |now |are now )?(?:holding|carrying|have|hold|carry) {OBJ},? (?:which you |that you )?(?:taken |took |picked up |removed |got |grabbed )?{_FROM} {REC}", _take),
    (rf"you are carrying:? {LST}", _inventory),
    (rf"there (?:is|are) {LST} in your hands?", _inventory),
    (rf"{_g('l', _LIST)} (?:is|are) (?:being )?(?:carried|held) by you", _inventory),
    (rf"{_YOU}{_TAKE_V} {OBJ}(?: up)?,? (?:that|which) (?:was|had been|sat|lay|were|rested) {_IN} {REC}", _take),
    (rf"{OBJ} (?:has been|is|was|gets|got) (?:picked up|taken|grabbed|removed|lifted|retrieved)(?: by you)? {_FROM} {REC}(?: by you)?", _take),
    (rf"you {_CARRY}:? {_g('l', _LIST)}(?: in your hands?| with you)?", _inventory),
    (rf"(?:in your hands?|your inventory),? (?:you have|you hold|you are holding|you carry|contains|holds|is|are|there is|there are|:)? ?{LST}", _inventory),
    (rf"(?:your inventory|inventory):? {LST}", _inventory),
    (_EMPTY_HANDED, _inventory),
    # moving an object into or onto a receptacle
    (rf"{_TO} {REC},? {_YOU}{_PUT_V} {OBJ}(?: down| back| away)?", _put),
    (rf"{_YOU}{_PUT_V}(?: down| back)? {OBJ}(?: down| back| away)? {_TO} {REC}", _put),
    (rf"{OBJ} {_NOW}(?:is|are|sits|rests|lies|has been|goes|went|now sits|now rests|now lies|ends up|is placed|was placed|has been placed|is put|was put|is moved|was moved) {_NOW}(?:down )?{_TO} {REC}", _put),
    # heat / cool / clean, slicing, switches
    *[(rf"{_YOU}{_alt(*verbs)} {OBJ} {_USING} {TOOL}", _appliance(kind)) for kind, verbs in _APPLIANCE_VERBS.items()],
    *[(rf"{_YOU}{_alt(*verbs)} {OBJ} (?:up |down |off )?{_USING} {TOOL}", _appliance(kind)) for kind, verbs in _APPLIANCE_VERBS.items()],
    *[(rf"(?:using|with|in) {TOOL},? {_YOU}{_alt(*verbs)} {OBJ}", _appliance(kind)) for kind, verbs in _APPLIANCE_VERBS.items()],
    *[(rf"{OBJ} (?:is|was|has been|gets|got|is now|has now been) {_NOW}{_alt(*verbs)} {_USING} {TOOL}", _appliance(kind)) for kind, verbs in _PASSIVE.items()],
    (rf"{OBJ} {_NOW}(?:is|was|has become|becomes|has been|is now|feels) {_NOW}{_g('p', _alt(*_PROPERTY_WORDS))}", _property),
    *[(rf"{OBJ} {_NOW}(?:is|was|has become|becomes|is now) {_NOW}(?:{_alt(*_RESULT_WORDS[kind])}),? (?:having been )?{_alt(*verbs)} {_USING} {TOOL}", _appliance(kind)) for kind, verbs in _PASSIVE.items()],
    (rf"{_YOU}{_SLICE_V} {OBJ}(?: up| into slices| into pieces)? (?:with|using) {TOOL}(?: into slices| into pieces)?", _slice),
    (rf"(?:using|with) {TOOL},? {_YOU}{_SLICE_V} {OBJ}(?: up| into slices| into pieces)?", _slice),
    (rf"{OBJ} (?:is|was|has been|gets|got|is now|has now been) {_NOW}(?:sliced|cut)(?: up| into slices| into pieces)? (?:with|using|by) {TOOL}", _slice),
    (rf"{_YOU}{_ON_V} {OBJ}", _switch(True)),
    (rf"{_YOU}{_TOGGLE_V} {OBJ} on", _switch(True)),
    (rf"{OBJ} {_NOW}(?:is|was|comes|came|turns|turned|goes|went|is now|flickers) {_NOW}{_SWITCH_ADJ_ON}", _switch(True)),
    (rf"{_YOU}{_OFF_V} {OBJ}", _switch(False)),
    (rf"{_YOU}{_TOGGLE_V} {OBJ} off", _switch(False)),
    (rf"{OBJ} {_NOW}(?:is|was|goes|went|turns|turned|is now) {_NOW}{_SWITCH_ADJ_OFF}", _switch(False)),
    (rf"this {OBJ} is {_g('s', 'on|off')}", lambda st, m: st.set(("on", m.group("o")), m.group("s") == "on")),
    (rf"you do not see any switch on {OBJ}", _no_switch),
    (rf"there is no switch on {OBJ}", _no_switch),
    (rf"{OBJ} (?:has no switch|does not have (?:a |any )?switch)", _no_switch),
    # examining an object; refusal; help
    (rf"this is (?:just )?(?:a )?normal {OBJ}", _examined("normal")),
    (rf"this is (?:an? )?{_g('props', _PROPS)}{OBJ}", _examined()),
    (rf"(?:there is|you see|you find|you notice) nothing {_SPECIAL} about {OBJ}", _examined("nothing special")),
    (rf"{OBJ} is nothing {_SPECIAL}", _examined("nothing special")),
    (_NOTHING_HAPPENS, _flag("nothing happens")),
]
# fmt: on
_CLAUSE_RES: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(pattern + r"(?=$|[,;:]|\s+(?:and|then|where|which|so)\b)"), handler) for pattern, handler in _CLAUSES
]
# Words before a clause that add no fact: discourse markers ("okay, ...") and reporting clauses ("you notice that").
_WRAPPER_RE = re.compile(
    r"(?:(?:okay|ok|alright|well|now|so|then|next|as a result|after that|at this point|here|finally|first),\s*)+"
    r"|you (?:notice|see|find|realise|realize|observe|note|can see|discover) that\s+"
)
_CONNECTOR_RE = re.compile(
    r"\s*(?:[,;:]\s*)*(?:(?:and|then|where|which|so|also|after that|afterwards|and then|while)\s+(?:[,]\s*)?)*"
)
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+|(?<=[.!?])$|\n+")

# Words that make a clause that is not in the grammar a named problem rather than plain "unreadable".
_NEGATION_RE = re.compile(r"\b(?:not|no|never|nor|neither|none|cannot|unable|fail|fails|failed|without|nobody)\b")
_HEDGE_RE = re.compile(r"\b(?:or|either|maybe|perhaps|possibly|probably|might|may|could|likely|unless|whether|if)\b")
_STATUS_WORDS_RE = re.compile(r"\btask\b|\bcompleted\b")


def _why_unreadable(clause: str) -> str:
    if _STATUS_WORDS_RE.search(clause):
        return f"a task-status phrase outside the last line: {clause!r}"
    if _HEDGE_RE.search(clause):
        return f"hedge: {clause!r}"
    if _NEGATION_RE.search(clause):
        return f"negation or failure: {clause!r}"
    return f"unreadable: {clause!r}"


def _read_sentence(sentence: str, st: _Reading) -> None:
    pos, n = 0, len(sentence)
    while pos < n:
        if w := _WRAPPER_RE.match(sentence, pos):
            pos = w.end()
        best: tuple[int, re.Match[str], Handler] | None = None
        for pattern, handler in _CLAUSE_RES:
            m = pattern.match(sentence, pos)
            if m and (best is None or m.end() > best[0]):
                best = (m.end(), m, handler)
        if best is None:
            st.problems.append(_why_unreadable(sentence[pos:]))
            return
        best[2](st, best[1])
        c = _CONNECTOR_RE.match(sentence, best[0])
        pos = c.end() if c else best[0]


def _close(facts: dict[tuple[str, ...], Any], st: _Reading) -> None:
    """Add the states events and reports imply (see the module docstring); disagreements are contradictions."""
    for key, value in list(facts.items()):
        if key[0] == "contents":
            st.set(("at",), key[1])
            for item in value:
                st.set(("in", item), key[1])
        elif key[0] == "open" or key[0] == "left":
            st.set(("at",), key[1] if key[0] == "open" else value)
        elif key[0] == "inventory":
            for item in value:
                st.set(("holds", item), True)
        elif key[0] in _EVENT_PROPERTY:
            st.set((_EVENT_PROPERTY[key[0]], key[1]), True)
        elif key[0] == "examined":
            for word in str(value).split(" and "):
                if word.startswith("is "):
                    st.set((word, key[1]), True)


@dataclass(frozen=True)
class WorldState:
    """What a text says about the world (`facts`, see the module docstring), its task-status line (True "Task
    completed.", False "Task is not yet completed.", None when the last line is neither), and why it could not be
    read (`problems`: a prediction with problems never agrees; a real state with problems agrees only with its own
    normalised `text`)."""

    facts: tuple[tuple[tuple[str, ...], Any], ...]
    status: bool | None
    problems: tuple[str, ...]
    text: str = ""

    @property
    def as_dict(self) -> dict[tuple[str, ...], Any]:
        return dict(self.facts)

    def differences(self, other: WorldState) -> list[str]:
        """What `other` (a prediction) gets wrong against self (the real state); [] when the states agree."""
        if self.problems:  # a real state outside the grammar: only its own text (normalised) agrees with it
            return (
                []
                if other.text == self.text
                else [f"real state {p}; the prediction is not its text" for p in self.problems]
            )
        if other.problems:
            return list(other.problems)
        out = []
        mine, theirs = self.as_dict, other.as_dict
        for key in sorted(mine.keys() | theirs.keys()):
            a, b = mine.get(key, _MISSING), theirs.get(key, _MISSING)
            if a is _MISSING:
                out.append(f"adds {_say_key(key)} = {_say(b)}")
            elif b is _MISSING:
                out.append(f"misses {_say_key(key)} = {_say(a)}")
            elif a != b:
                out.append(f"{_say_key(key)}: {_say(b)} instead of {_say(a)}")
        if self.status is not None and other.status != self.status:
            out.append("task status differs" if other.status is not None else "no task-status line")
        return out


def _say_key(key: tuple[str, ...]) -> str:
    return " ".join(key)


def _say(value: Any) -> str:
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(value)) + "}" if value else "nothing"
    return str(value)


def _lines(text: str) -> list[str]:
    return [line for line in (" ".join(raw.split()) for raw in text.split("\n")) if line]


def _status_of_line(line: str) -> bool | None:
    line = line.rstrip(".").strip()
    if line == _DONE:
        return True
    if line == _NOT_DONE:
        return False
    return None


def _sentences(body: str) -> Iterator[str]:
    for sentence in _SENTENCE_END_RE.split(body):
        sentence = sentence.strip().rstrip(".!?").strip()
        if sentence:
            yield sentence


@functools.lru_cache(maxsize=16384)  # ground truths repeat across a GRPO group and across steps
def read_state(text: str) -> WorldState:
    """The world state `text` reports (see the module docstring); never raises on any text."""
    lines = _lines(normalise(text))
    status = _status_of_line(lines[-1]) if lines else None
    body_lines = lines[:-1] if status is not None else lines
    st = _Reading()
    body = " ".join(body_lines)
    if body.startswith("available commands:"):  # the `help` text: a fixed listing, compared word for word
        st.set(("help",), " ".join(body.split()))
    else:
        for sentence in _sentences(_clean_body(body)):
            _read_sentence(sentence, st)
        if not st.facts and not st.problems:
            st.problems.append("unreadable: no sentence of the world's grammar")
        _close(dict(st.facts), st)
    facts = tuple(sorted(st.facts.items(), key=lambda kv: kv[0]))
    return WorldState(facts, status, tuple(dict.fromkeys(st.problems)), "\n".join(lines))


def state_differences(real: str, predicted: str) -> list[str]:
    """Why `predicted` does not report the world state of `real` ([] when it does)."""
    return read_state(real).differences(read_state(predicted))

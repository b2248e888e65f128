# ruff: noqa: E501 - the grammar reads best one clause form per line
"""The clause grammar of ALFWorld states: each clause form (`_CLAUSES`) with the facts it sets, and the sentence
reader that cuts a sentence into clauses, the longest form first, and names what it cannot read (a negation, a hedge,
a status phrase, anything else). `alfworld_state` normalises a text and reads it sentence by sentence with it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reward_score.alfworld_words import (
    ABOUT,
    APPLIANCE_VERBS,
    AROUND_LABEL,
    ARRIVE,
    BE,
    BESIDE_IT,
    CARRY,
    CLOSE_V,
    CLOSED_ADJ,
    CONNECTOR,
    CONTENTS_LABEL,
    EMPTY_HANDED,
    ENT,
    ENT_RE,
    FROM,
    HEDGE,
    IN,
    INVENTORY_LABEL,
    LATER,
    LIST,
    LST,
    MOVE_V,
    NEAR,
    NEGATION,
    NOT_SEE,
    NOTHING,
    NOTHING_HAPPENS,
    NOW,
    OBJ,
    OFF_V,
    ON_V,
    OPEN_ADJ,
    OPEN_V,
    PASSIVE,
    POSTURE,
    PROPERTY_WORDS,
    PROPS,
    PUT_ING,
    PUT_V,
    REC,
    RESULT_WORDS,
    SEE,
    SEP,
    SLICE_V,
    SPECIAL,
    STATUS_WORDS,
    SWITCH_ADJ_OFF,
    SWITCH_ADJ_ON,
    TAKE_ING,
    TAKE_V,
    THERE,
    THERE_TOO,
    TO,
    TOGGLE_V,
    TOOL,
    USING,
    VISIBLE,
    WRAPPER,
    YOU,
    alt,
    group,
    words,
)


@dataclass
class Reading:
    """Facts read so far, the receptacle "it" names, why the text could not be read (if it could not), and the
    clauses outside the grammar that hold no negation, hedge or status phrase (`unread`: for the second reading);
    `obj`: the object last taken or put, for "you set it down there"."""

    facts: dict[tuple[str, ...], Any] = field(default_factory=dict)
    it: str | None = None
    obj: str | None = None
    problems: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)

    def set(self, key: tuple[str, ...], value: Any) -> None:
        old = self.facts.get(key, MISSING)
        if old is not MISSING and old != value:
            self.problems.append(f"contradiction: {say_key(key)} is {say(old)} and {say(value)}")
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


MISSING = object()
Handler = Callable[[Reading, re.Match[str]], None]


def _items(text: str | None) -> frozenset[str]:
    return frozenset(ENT_RE.findall(text or ""))


def _arrive(st: Reading, m: re.Match[str]) -> None:
    if (r := st.place(m)) is not None:
        st.set(("at",), r)


def _open_state(value: bool) -> Handler:
    def handle(st: Reading, m: re.Match[str]) -> None:
        if (r := st.place(m)) is not None:
            st.set(("open", r), value)

    return handle


def _contents(st: Reading, m: re.Match[str]) -> None:
    r = st.place(m)
    if r is not None:
        st.set(("contents", r), _items(m.group("l")))


def _empty(st: Reading, m: re.Match[str]) -> None:
    if (r := st.place(m)) is not None:
        st.set(("contents", r), frozenset())


def _more_contents(st: Reading, m: re.Match[str]) -> None:
    r = st.place(m)
    if r is not None:
        st.facts[("contents", r)] = st.facts.get(("contents", r), frozenset()) | _items(m.group("l"))


def _take(st: Reading, m: re.Match[str]) -> None:
    st.obj = m.group("o")
    st.set(("holds", st.obj), True)
    if m.groupdict().get("r") is not None and (r := st.place(m)) is not None:
        st.set(("left", m.group("o")), r)


def _put(st: Reading, m: re.Match[str]) -> None:
    st.obj = m.groupdict().get("o") or st.obj  # "it": the object last taken or put
    if st.obj is None:
        st.problems.append(f"unreadable: 'it' names no object: {m.group(0)!r}")
    elif (r := st.place(m)) is not None:
        st.set(("in", st.obj), r)


def _found(st: Reading, m: re.Match[str]) -> None:
    """Objects said to sit or lie in or on r: the agent is at r and sees them there (`alfworld_state.close_state`: the contents)."""
    if (r := st.place(m)) is not None:
        st.set(("at",), r)
        for item in _items(m.group("l")):
            st.set(("in", item), r)


def _appliance(kind: str) -> Handler:
    def handle(st: Reading, m: re.Match[str]) -> None:
        st.set((kind, m.group("o")), m.group("u"))

    return handle


def _property(st: Reading, m: re.Match[str]) -> None:
    st.set((PROPERTY_WORDS[m.group("p")], m.group("o")), True)


def _slice(st: Reading, m: re.Match[str]) -> None:
    st.set(("sliced", m.group("o")), m.group("u"))


def _switch(value: bool) -> Handler:
    def handle(st: Reading, m: re.Match[str]) -> None:
        st.set(("on", m.group("o")), value)

    return handle


def _inventory(st: Reading, m: re.Match[str]) -> None:
    st.set(("inventory",), _items(m.groupdict().get("l")))


def _flag(*key: str) -> Handler:
    def handle(st: Reading, m: re.Match[str]) -> None:
        st.set(key, True)

    return handle


def _facing(st: Reading, m: re.Match[str]) -> None:
    items = _items(m.group("l"))
    if len(items) == 1:
        (st.it,) = items
        st.set(("at",), st.it)
    else:
        st.set(("facing",), items)


def _around(key: str) -> Handler:
    def handle(st: Reading, m: re.Match[str]) -> None:
        st.set((key,), _items(m.group("l")))

    return handle


def _examined(what: str | None = None) -> Handler:
    def handle(st: Reading, m: re.Match[str]) -> None:
        st.it = m.group("o")
        props = m.groupdict().get("props")
        value = what or " and ".join(sorted(PROPERTY_WORDS[w] for w in re.findall(r"[a-z]+", props or "")
                                            if w in PROPERTY_WORDS)) or "normal"  # fmt: skip
        st.set(("examined", m.group("o")), value)

    return handle


def _no_switch(st: Reading, m: re.Match[str]) -> None:
    st.set(("no switch", m.group("o")), True)


# (clause regex, handler). The body is cut into clauses by these: at each point the longest match wins.
# fmt: off
_CLAUSES: list[tuple[str, Handler]] = [
    # arrival and position
    (rf"{YOU}{ARRIVE} {REC}{LATER}", _arrive),
    (rf"you (?:are|find yourself|stand|now stand|are now|arrive|have arrived|are standing) {NOW}{NEAR} {REC}{LATER}", _arrive),
    (rf"(?:arriving|once|after arriving|upon arriving|having arrived|when you arrive|as you arrive) (?:at )?{REC}", _arrive),
    (rf"{REC} (?:has been|is|was|has now been) (?:reached|arrived at|approached){LATER}", _arrive),
    (rf"you are facing {group('l', LIST)}", _facing),
    (rf"you (?:face|stand in front of|are in front of|are standing in front of|are looking at|see in front of you) {group('l', LIST)}", _facing),
    (r"you (?:are|stand|find yourself|are standing) (?:now )?(?:standing )?in (?:middle|centre|center) of (?:a )?room", lambda st, m: st.set(("at",), "room")),
    (rf"(?:looking (?:quickly )?around(?: you)?|glancing around(?: you)?|around you),? you (?:quickly )?(?:{SEE} {LST}|{NOT_SEE})", _around("around")),
    (rf"you (?:quickly )?(?:look|glance) around(?: you)? and (?:{SEE} {LST}|{NOT_SEE})", _around("around")),
    (rf"{AROUND_LABEL},? {LST}(?: {VISIBLE})?", _around("around")),
    (rf"(?:around you|all around),? there (?:is|are) {LST}", _around("around")),
    (rf"(?:you {SEE}|there (?:is|are)) {LST} around you", _around("around")),
    (rf"{BESIDE_IT},? you (?:{SEE} {LST}|{NOT_SEE})", _around("floor")),
    (rf"(?:you {SEE}|there (?:is|are)) {LST} {BESIDE_IT}", _around("floor")),
    (rf"{BESIDE_IT},? there (?:is|are) {LST}", _around("floor")),
    (rf"{BESIDE_IT},? {LST}(?: {VISIBLE})?", _around("floor")),
    (rf"{group('l', LIST)} (?:is|are|{POSTURE}) {BESIDE_IT}", _around("floor")),
    (rf"{group('l', NOTHING)} (?:is|lies|sits|can be seen) {BESIDE_IT}", _around("floor")),
    # open / closed
    (rf"{YOU}{OPEN_V} {REC}", _open_state(True)),
    (rf"{YOU}{MOVE_V} {REC} open", _open_state(True)),
    (rf"(?:opening|after opening|having opened|once you open|when you open) {REC}", _open_state(True)),
    (rf"{YOU}{CLOSE_V} {REC}", _open_state(False)),
    (rf"{YOU}{MOVE_V} {REC} (?:shut|closed)", _open_state(False)),
    (rf"{REC} {NOW}(?:{BE} )?{NOW}{OPEN_ADJ}{LATER}", _open_state(True)),
    (rf"{REC} (?:swings|swung|slides|slid|pops|popped|comes|came|is pulled|is swung) open", _open_state(True)),
    (rf"{REC} {NOW}(?:{BE} )?{NOW}{CLOSED_ADJ}{LATER}", _open_state(False)),
    (rf"{REC} {NOW}(?:is|are|was|remains|stays) not {OPEN_ADJ}{LATER}", _open_state(False)),
    (rf"{REC} {NOW}(?:is|are|was|remains|stays) not {CLOSED_ADJ}{LATER}", _open_state(True)),
    (rf"(?:{BE} )?{NOW}{OPEN_ADJ}{LATER}", _open_state(True)),  # "..., and is now open" / "which is open"
    (rf"(?:{BE} )?{NOW}{CLOSED_ADJ}{LATER}", _open_state(False)),
    # what is in or on a receptacle (exhaustive)
    (rf"{IN}(?: {REC})?,? you (?:can |now |also |then )?(?:{SEE} {LST}|{NOT_SEE})", _contents),
    (rf"(?:you also|and you(?: also)?) (?:can )?{SEE} {LST}{THERE}", _more_contents),  # "and": a sentence going on
    (rf"{group('l', LIST)} (?:is|are) {THERE_TOO}", _more_contents),
    (rf"there (?:is|are) also {LST}", _more_contents),
    (rf"{REC},? you (?:can |now |also |then )?(?:{SEE} {LST}|{NOT_SEE})", _contents),
    (rf"(?:{IN} )?{REC},? there (?:is|are|sits|sit|lies|lie|rests|rest) {LST}", _contents),
    (rf"(?:{IN} )?{REC},? (?:is|are|sits|sit|lies|lie|rests|rest) {LST}", _contents),
    (rf"(?:{IN} )?{REC},? {group('l', NOTHING)} (?:is|can be seen|can be found)", _contents),
    (rf"{IN} {REC},? {LST}(?: (?:can be seen|is visible|are visible|is seen|are seen|can be found))?", _contents),
    (rf"(?:on|in|inside) which,? you (?:can )?(?:{SEE} {LST}|{NOT_SEE})", _contents),
    (rf"(?:{IN} (?:it|there),? )?{LST} (?:can be seen|is visible|are visible|is seen|are seen|can be found)", _contents),
    (rf"{YOU}(?:can )?(?:{SEE} {LST}|{NOT_SEE})(?: (?:lying|sitting|resting|placed|inside|there))? {IN} {REC}", _contents),
    (rf"{YOU}(?:can )?(?:{SEE} {LST}|{NOT_SEE})(?: (?:there|inside|in there|on it|in it|on top))?", _contents),
    (rf"(?:and )?(?:{SEE} {LST}|{NOT_SEE})(?: (?:there|inside|in there|on it|in it|on top))?", _contents),
    (rf"there (?:is|are|sits|sit|lies|lie|rests|rest) {LST}(?: (?:there|inside|in there|on it|in it|on top))?", _contents),
    (rf"there (?:is|are|sits|sit|lies|lie|rests|rest) {LST} {IN} {REC}", _contents),
    (rf"{group('l', NOTHING)} (?:is|can be seen|can be found|lies|sits) {IN} {REC}", _contents),
    (rf"{group('l', rf'{ENT}{SEP}{ENT}(?:{SEP}{ENT})*')} (?:are|lie|sit|rest) {IN} {REC}", _contents),
    (rf"{group('l', LIST)} (?:{POSTURE}|{VISIBLE}) {IN} {REC}", _found),
    (rf"{CONTENTS_LABEL},? {LST}", _contents),  # telegraphic: "Items: mug 1", "Contents: none" (of "it")
    (rf"{REC} (?:holds|contains|has|carries|has got|is holding|is home to) {LST}(?: (?:on it|in it|inside|inside it|on top|on top of it))?", _contents),
    (rf"(?:it )?(?:holds|contains|has|carries|has got) {LST}(?: (?:on it|in it|inside|inside it|on top|on top of it))?", _contents),
    (rf"{REC} {NOW}(?:{BE} )?{NOW}(?:completely |entirely )?empty", _empty),
    (rf"(?:{BE} )?{NOW}(?:completely |entirely )?empty", _empty),
    (rf"{YOU}(?:do not|did not|cannot) {words('see|find|notice|spot')} (?:anything|any objects?|any items?)"
     rf"(?: (?:there|inside|in it|on it|in there))?(?: {IN} {REC})?", _empty),
    (rf"inside {LST} (?:is|are) (?:visible|seen)", _contents),
    # carrying
    (rf"{YOU}{TAKE_V} {OBJ}(?: up| out)? {FROM} {REC}", _take),
    (rf"{FROM} {REC},? {YOU}{TAKE_V} {OBJ}(?: up| out)?", _take),
    (rf"{YOU}{TAKE_V} {OBJ}(?: up| out)?", _take),
    (rf"{TAKE_ING} {OBJ}(?: up| out)? {FROM} {REC}", _take),
    (rf"{OBJ} {NOW}(?:is|are) {NOW}in your hands?", lambda st, m: st.set(("holds", m.group("o")), True)),
    (rf"{OBJ} (?:taken |picked up |removed )?{FROM} {REC} (?:is|are) {NOW}in your hands?", _take),
    (rf"you (?:are |now |are now )?(?:holding|carrying|have|hold|carry) {OBJ},? (?:which you |that you )?(?:taken |took |picked up |removed |got |grabbed )?{FROM} {REC}", _take),
    (rf"you are carrying:? {LST}", _inventory),
    (rf"there (?:is|are) {LST} in your hands?", _inventory),
    (rf"{group('l', LIST)} (?:is|are) (?:being )?(?:carried|held) by you", _inventory),
    (rf"{YOU}{TAKE_V} {OBJ}(?: up)?,? (?:that|which) (?:was|had been|sat|lay|were|rested) {IN} {REC}", _take),
    (rf"{OBJ} (?:has been|is|was|gets|got) (?:picked up|taken|grabbed|removed|lifted|retrieved)(?: by you)? {FROM} {REC}(?: by you)?", _take),
    (rf"you {CARRY}:? {group('l', LIST)}(?: in your hands?| with you)?", _inventory),
    (rf"(?:in your hands?|your inventory|your hands?),? (?:you have|you hold|you are holding|you carry|contains|holds|hold|carries|carry|is|are|there is|there are|:)? ?{LST}", _inventory),
    (rf"{INVENTORY_LABEL},? {group('l', rf'{LIST}|{NOTHING}|empty')}", _inventory),
    (rf"(?:you (?:are |stand |are standing |are now standing )?)?with {LST} in your hands?", _inventory),
    (rf"{EMPTY_HANDED}(?: on you| with you)?", _inventory),
    # moving an object into or onto a receptacle
    (rf"{TO} {REC},? {YOU}{PUT_V} {OBJ}(?: down| back| away)?", _put),
    (rf"{YOU}{PUT_V}(?: down| back)? {OBJ}(?: down| back| away)? {TO} {REC}", _put),
    (rf"(?:{PUT_ING}|having {PUT_V}) {OBJ}(?: down| back)? {TO} {REC}", _put),
    (rf"{YOU}{PUT_V} it(?: down| back| away)? (?:there|{TO} {REC})", _put),  # "it": the object last moved
    (rf"{OBJ} {NOW}(?:is|are|has been|goes|went|now sits|now rests|now lies|ends up|is placed|was placed|has been placed|is put|was put|is moved|was moved) {NOW}(?:down )?{TO} {REC}", _put),
    # heat / cool / clean, slicing, switches
    *[(form.replace("VERB", alt(*verbs)), _appliance(kind)) for kind, verbs in APPLIANCE_VERBS.items() for form in (
        rf"{YOU}VERB {OBJ} {USING} {TOOL}", rf"{YOU}VERB {OBJ} (?:up |down |off )?{USING} {TOOL}",
        rf"(?:using|with|in) {TOOL},? {YOU}VERB {OBJ}", rf"{YOU}use {TOOL} to VERB {OBJ}")],
    *[(rf"{OBJ} (?:is|was|has been|gets|got|is now|has now been) {NOW}{alt(*verbs)} {USING} {TOOL}", _appliance(kind)) for kind, verbs in PASSIVE.items()],
    (rf"{OBJ} {NOW}(?:is|was|has become|becomes|has been|is now|feels) {NOW}{group('p', alt(*PROPERTY_WORDS))}", _property),
    *[(rf"{OBJ} {NOW}(?:is|was|has become|becomes|is now) {NOW}(?:{alt(*RESULT_WORDS[kind])}),? (?:having been )?{alt(*verbs)} {USING} {TOOL}", _appliance(kind)) for kind, verbs in PASSIVE.items()],
    (rf"{YOU}{SLICE_V} {OBJ}(?: up| into slices| into pieces)? (?:with|using) {TOOL}(?: into slices| into pieces)?", _slice),
    (rf"(?:using|with) {TOOL},? {YOU}{SLICE_V} {OBJ}(?: up| into slices| into pieces)?", _slice),
    (rf"{YOU}use {TOOL} to {SLICE_V} {OBJ}(?: up| into slices| into pieces)?", _slice),
    (rf"{OBJ} (?:is|was|has been|gets|got|is now|has now been) {NOW}(?:sliced|cut)(?: up| into slices| into pieces)? (?:with|using|by) {TOOL}", _slice),
    (rf"{YOU}{ON_V} {OBJ}", _switch(True)),
    (rf"{YOU}{TOGGLE_V} {OBJ} on", _switch(True)),
    (rf"{OBJ} {NOW}(?:is|was|comes|came|turns|turned|goes|went|is now|flickers) {NOW}{SWITCH_ADJ_ON}", _switch(True)),
    (rf"{YOU}{OFF_V} {OBJ}", _switch(False)),
    (rf"{YOU}{TOGGLE_V} {OBJ} off", _switch(False)),
    (rf"{OBJ} {NOW}(?:is|was|goes|went|turns|turned|is now) {NOW}{SWITCH_ADJ_OFF}", _switch(False)),
    (rf"this {OBJ} is {group('s', 'on|off')}", lambda st, m: st.set(("on", m.group("o")), m.group("s") == "on")),
    (rf"(?:you do not see any switch on|there is no switch on) {OBJ}", _no_switch),
    (rf"{OBJ} (?:has no switch|does not have (?:a |any )?switch)", _no_switch),
    # examining an object; refusal; help
    (rf"this is (?:just )?(?:a )?normal {OBJ}", _examined("normal")),
    (rf"this is (?:an? )?{group('props', PROPS)}{OBJ}", _examined()),
    (rf"(?:there is|you see|you find|you notice) nothing {SPECIAL} {ABOUT} {OBJ}", _examined("nothing special")),
    (rf"{OBJ} is nothing {SPECIAL}", _examined("nothing special")),
    (NOTHING_HAPPENS, _flag("nothing happens")),
]
# fmt: on
_CLAUSE_RES: list[tuple[re.Pattern[str], Handler]] = [
    (re.compile(pattern + r"(?=$|[,;:]|\s+(?:and|then|where|which|so)\b)"), handler) for pattern, handler in _CLAUSES
]
_WRAPPER_RE, _CONNECTOR_RE = re.compile(WRAPPER), re.compile(CONNECTOR)
UNREADABLE = "unreadable:"  # the problem of plain wording outside the grammar (the others are named)
_NEGATION_RE, _HEDGE_RE, _STATUS_WORDS_RE = re.compile(NEGATION), re.compile(HEDGE), re.compile(STATUS_WORDS)


def _why_unreadable(clause: str) -> str:
    if _STATUS_WORDS_RE.search(clause):
        return f"a task-status phrase outside the last line: {clause!r}"
    if _HEDGE_RE.search(clause):
        return f"hedge: {clause!r}"
    if _NEGATION_RE.search(clause):
        return f"negation or failure: {clause!r}"
    return f"{UNREADABLE} {clause!r}"


def read_sentence(sentence: str, st: Reading) -> None:
    pos, n = 0, len(sentence)
    while pos < n:
        if w := _WRAPPER_RE.match(sentence, pos):
            pos = w.end()
            if pos >= n:
                return
        best: tuple[int, re.Match[str], Handler] | None = None
        for pattern, handler in _CLAUSE_RES:
            m = pattern.match(sentence, pos)
            if m and (best is None or m.end() > best[0]):
                best = (m.end(), m, handler)
        if best is None:
            why = _why_unreadable(sentence[pos:])
            st.problems.append(why)
            if why.startswith(UNREADABLE):
                st.unread.append(sentence[pos:])
            return
        best[2](st, best[1])
        c = _CONNECTOR_RE.match(sentence, best[0])
        pos = c.end() if c else best[0]


def say_key(key: tuple[str, ...]) -> str:
    return " ".join(key)


def say(value: Any) -> str:
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(value)) + "}" if value else "nothing"
    return str(value)

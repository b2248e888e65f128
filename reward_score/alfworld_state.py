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

The reader is a closed grammar: presentation is taken off first (`alfworld_layout`: code fences, emoji, quotation
marks around the whole text, a markdown table said as sentences, a question and its answer said as one statement; a
question left unanswered states nothing and makes the text unreadable), the text is normalised (Unicode NFKC, format
characters such as zero-width spaces removed, case folded, articles dropped, contractions spelled out, asides that
state nothing -- "(as expected)" -- and an echo of ALFWorld's command before its outcome -- 'You try "go to desk
1".' -- dropped, a numbered list over several lines read as one list, "the agent" or "the player" read as you, an
arrow read as a sentence end), the task-status line is read from the LAST line only, and every clause of the body
must be one of the known forms (`alfworld_grammar`, several wordings, tenses and word orders). A clause that is not
-- a negation ("you do not see a mug 1"), a failure ("you cannot ..."), a hedge ("either ... or"), a disclaimer, a
status line elsewhere, a look-alike letter -- makes the text unreadable, and an unreadable prediction scores 0 with
its reason; two clauses that disagree (open and closed) make it contradictory. What the reader cannot read is never
a free 1: a prediction whose only problem is plain wording outside the grammar gets a stricter second reading
(`alfworld_cues`: the same names in the same order, the same state words, no word of mood or denial) and agrees only
if that reading agrees too."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reward_score.alfworld_cues import Cues, cue_differences, read_cues, why_not_cues
from reward_score.alfworld_grammar import MISSING, UNREADABLE, Reading, read_sentence, say, say_key
from reward_score.alfworld_layout import answer_questions, unquote, unwrap
from reward_score.alfworld_records import labels_dropped, said_as_sentences
from reward_score.alfworld_register import identifier_names, plain_register
from reward_score.alfworld_words import ASIDE, COMMAND, EVENT_PROPERTY, TAKE_V, VOCATIVE
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
# lists ("you see: - a mug 1 - a pen 2" is "you see a mug 1, a pen 2"; "the drawer 1: closed" is "... is closed");
# an arrow between clauses ("You arrive at sofa 1 -> On it, you see ...") ends a sentence.
_LAYOUT = (
    (r"\s*(?:-+>|=+>|[→⇒⟶➔➜⟹])\s*", ". "),
    (r"\s*&\s*", " and "), (r"\bu\b", "you"), (r"\bur\b", "your"),  # texting: "u see a box 3 & a pen 1"
    (r"\bi am\b", "you are"), (r"\bi'm\b", "you are"), (r"\bi\b", "you"), (r"\bmy\b", "your"), (r"\bme\b", "you"),
    (r"\bmyself\b", "yourself"), (r"(?:^|(?<=[.!?]))\s*[•*·\-](?=\s)", " "),  # a bullet opening a sentence
    (r"(?:^|\s)[•*·\-](?=\s)", " , "),
    (r"\b(see|notice|find|spot|observe|carrying|holding|contains|holds|have|has)\s*[:,](?:\s*,)*", r"\1 "),
    (r"(?:(?<=[:;,])|(?<=see)|^)\s*\d{1,2}[.)]\s+(?=[a-z])", " , "),  # numbered list: "you see: 1. box 3; 2. pen 1"
    (r";\s*(?=(?:a |an |the )?[a-z]+ \d)", ", "),  # "; " before a name separates list items
    (r"(?<=\d):\s*(?=(?:open|opened|closed|shut|empty)\b)", " is "), (r"\s*:\s*,?", ", "), (r",(?:\s*,)+", ","),
)  # fmt: skip
_LAYOUT_RES = tuple((re.compile(p), r) for p, r in _LAYOUT)
# Sentence shapes said back in the grammar's own words, after articles are dropped ("E" is a numbered name):
# "the drawer 1's closed", "it is drawer 1 that you open", "you are opening drawer 1", "you had seen ...".
_E = r"[a-z]+ \d+"
_GERUNDS = {"arriving": "arrive", "opening": "open", "closing": "close", "picking": "pick", "moving": "move",
            "taking": "take", "putting": "put", "placing": "place", "heating": "heat", "cooling": "cool",
            "cleaning": "clean", "slicing": "slice", "turning": "turn", "walking": "walk", "heading": "head",
            "going": "go", "reaching": "reach", "setting": "set", "dropping": "drop", "grabbing": "grab"}  # fmt: skip
# The third person: "the agent" (or "the player") of a narration is you, and its verb is said in the second person.
_AGENT = r"\b(?:agent|player)\b(?!'|\s*\d)"
_ADV = r"(?:now|then|also|just|finally|quickly|still|currently|presently|carefully) "
_SECOND_PERSON = {"is": "are", "was": "were", "has": "have", "does": "do"}


def _second_person(m: re.Match[str]) -> str:
    """ "agent sees" -> "you see", "player reaches" -> "you reach", "agent is" -> "you are"; other forms kept."""
    verb = m["v"]
    if verb in _SECOND_PERSON:
        verb = _SECOND_PERSON[verb]
    elif re.search(r"(?:ch|sh|x|z|ss|o)es$", verb):
        verb = verb[:-2]
    elif verb.endswith("ies") and len(verb) > 4:
        verb = verb[:-3] + "y"
    elif verb.endswith("s") and not verb.endswith("ss"):
        verb = verb[:-1]
    return f"you {m['a'] or ''}{verb}"


_REWORDINGS = (
    (r"\b(?:agent|player)'s\b", "your"), (rf"{_AGENT} (?P<a>{_ADV})?(?P<v>[a-z]+)", _second_person),
    (_AGENT, "you"),
    (rf"({_E})'s (?:contents?|items|objects|things) (?:is|are) ", r"\1 holds "),
    (rf"\bwhat you see (on|in|inside) ({_E}) (?:is|are)\b", r"\1 \2 you see"),
    (rf"\bit is (on|in|inside) ({_E}) that you see\b", r"\1 \2 you see"),
    (rf"((?:on|in|inside) (?:{_E}|it)),? you are (?:seeing|looking at|spotting|noticing)\b", r"\1, you see"),
    (r"\byou are seeing\b", "you see"),
    (rf"({_E})'s (?:inside|interior|surface|top|front|door|drawer) (?:is|are) ", r"\1 is "),
    (rf"\b({TAKE_V}) ({_E})'s ({_E})", r"\1 \3 from \2"),  # "you pick up the shelf 1's soapbar 1"
    (rf"({_E})'s ", r"\1 is "),
    (rf"\bit is (?:at )?({_E}) that you (arrive|arrived|reach|reached)(?: at)?(?=$|[,;.])", r"you \2 at \1"),
    (rf"\bit is ({_E}) that you (open|opened|close|closed|turn on|turn off|turned on|turned off)(?=$|[,;.])",
     r"you \2 \1"),
    (rf"\bit is ({_E}) that you (pick up|picked up|take|took) from ({_E})", r"you \2 \1 from \3"),
    (rf"\bit is ({_E}) that you (move|moved|put) ({_E}) (to|on|in|into|onto)(?=$|[,;.])", r"you \2 \3 \4 \1"),
    (r"\bwhat you are (carrying|holding) is\b", r"you are \1"),
    (r"\byou are (?:now )?(" + "|".join(_GERUNDS) + r")\b", lambda m: "you " + _GERUNDS[m.group(1)]),
    (r"\byou are (?:standing )?facing\b", "you are facing"),
    (r"\b(?:had|have) (?:seen|spotted|noticed)\b", "saw"),
    (r"\byou were (not )?(carrying|holding)\b", r"you are \1\2"),
    (r"^(?:and|also|all right|alright)\b,?\s*", ""), (r"\bhave not got\b", "do not have"),
    # a topic named first ("as for mug 1, you take it"): the pronoun is the topic; "as for your hands," says nothing
    (rf"(?:^|(?<=[.!?] ))as (?:for|to|regards) ({_E}),\s*([^.!?]*)", lambda m: re.sub(r"\bit\b", m[1], m[2])),
    (r"(?:^|(?<=[.!?] ))as (?:for|to|regards) (?:your hands|you|yourself|your inventory),\s*", ""),
)  # fmt: skip
_REWORDING_RES = tuple((re.compile(p), r) for p, r in _REWORDINGS)
_COUNTS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
        " seventeen eighteen nineteen twenty".split()
    )
}
_LISTED = rf"{_E}(?:(?:,| and|, and) {_E})*"
_COUNTED_RE = re.compile(
    rf"\b(?P<n>{'|'.join(_COUNTS)}|\d+) (?:things?|items?|objects?)(?:,? namely|:| --|,) (?P<l>{_LISTED})"
)


def _uncount(m: re.Match[str]) -> str:
    """ "three things, namely a, b and c" -> the list, when the count is right; else left as is (unreadable)."""
    n = _COUNTS.get(m["n"], int(m["n"]) if m["n"].isdigit() else -1)
    return m["l"] if n == len(re.findall(_E, m["l"])) else m.group(0)


# Markdown emphasis around words ("**drawer 10**", "`mug 1`"); a lone "*" or "-" before a list item is a bullet.
_EMPHASIS_RE = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_NUMBERED_RE = re.compile(r"(?<!\w)([a-z]+)\s*(?:#|number|no\.|n°)\s*0*(\d+)(?!\w)")
_ARTICLE_RE = re.compile(r"(?<!\w)(?:a|an|the)(?!\w)")


# Asides that state nothing ("(as expected)", ", unsurprisingly."), and a command echoed before its outcome
# ('You try "go to toilet 1".', "After 'look', ...", '> inventory' on a line of its own): dropped.
_ASIDE_RE = re.compile(
    rf"\s*\((?:{ASIDE})\)|,\s*(?:{ASIDE}|{VOCATIVE})(?=\s*(?:[,.;!?]|$))|(?:^|(?<=[.!?] ))(?:{VOCATIVE}),\s*"
)
_ECHO_RE = re.compile(
    rf"(?:you (?:try|tried|type|typed|enter|entered|issue|issued|run|ran|do|did|execute|executed)|having done|after)"
    rf" [\"'\u201c](?:{COMMAND})[\"'\u201d](?:\s*[.:,])?\s*"
)
_ECHO_LINE_RE = re.compile(rf"(?:>|(?:command|action|input)\s*:)\s*(?:{COMMAND})\.?")
_LIST_ITEM_RE = re.compile(r"\d{1,2}[.)]\s+(?=[a-z])")  # a line "2. a pencil 2" of a numbered list


_ENT_NAME_RE = re.compile(rf"(?<!\w){_E}(?!\w)")
_TITLE_RE = re.compile(rf"(?:(?:the )?{_E}(?:,? (?:and )?)?)+")


def _join(lines: list[str]) -> str:
    """Body lines as one text: a command echo line dropped, a numbered list's lines as the items of one list, a
    heading a sentence of its own."""
    out: list[str] = []
    for i, line in enumerate(lines):
        rest = " ".join(lines[i + 1 :])
        if _ECHO_LINE_RE.fullmatch(line):
            continue
        if line.startswith(">"):  # a markdown blockquote line
            line = line.lstrip("> ")
        # a markdown heading is a sentence of its own; a title that names only what the body names says nothing
        if line.startswith("#"):
            title = line.lstrip("# ").rstrip(".!?:")
            if _TITLE_RE.fullmatch(title) and all(name in rest for name in re.findall(_E, title)):
                continue
            line = title + "."
        if out and (m := _LIST_ITEM_RE.match(line)):
            line = ("" if out[-1].endswith((".", "!", "?")) else ", ") + line[m.end() :]
        out.append(line)
    return " ".join(out)


def normalise(text: str) -> str:
    """NFKC, format characters (zero-width spaces, bidi marks) removed, case folded, curly quotes straightened."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return text.casefold().replace("\u2019", "'").replace("\u2018", "'").replace("\r\n", "\n").replace("\r", "\n")


def _plain(text: str) -> str:
    """`text` with identifiers said as names, emphasis off and another register in the game's words -- in that order
    (an identifier's underscores look like emphasis marks); what both the reading and the cosine gate start from."""
    return plain_register(_EMPHASIS_RE.sub(r"\2", identifier_names(text)))


def _clean_body(text: str) -> str:
    text = _plain(text)
    text = _ECHO_RE.sub("", _ASIDE_RE.sub("", text))
    for pattern, repl in _CONTRACTION_RES:
        text = pattern.sub(repl, text)
    for pattern, repl in _LAYOUT_RES:
        text = pattern.sub(repl, text)
    text = _NUMBERED_RE.sub(r"\1 \2", text)
    text = _ARTICLE_RE.sub(" ", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.;:!])", r"\1", text).strip()
    for pattern, repl in _REWORDING_RES:
        text = pattern.sub(repl, text)
    return _COUNTED_RE.sub(_uncount, text)


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
    unread: tuple[str, ...] = ()
    cues: Cues = Cues((), frozenset())

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
            return self._second_reading(other)
        out = []
        mine, theirs = self.as_dict, other.as_dict
        for key in sorted(mine.keys() | theirs.keys()):
            a, b = mine.get(key, MISSING), theirs.get(key, MISSING)
            if a is MISSING:
                out.append(f"adds {say_key(key)} = {say(b)}")
            elif b is MISSING:
                out.append(f"misses {say_key(key)} = {say(a)}")
            elif a != b:
                out.append(f"{say_key(key)}: {say(b)} instead of {say(a)}")
        if self.status is not None and other.status != self.status:
            out.append("task status differs" if other.status is not None else "no task-status line")
        return out

    def _second_reading(self, other: WorldState) -> list[str]:
        """`other`'s problems, or [] when they are only plain wording and the second reading agrees."""
        problems = list(other.problems)
        if not other.unread or not all(p.startswith(UNREADABLE) for p in problems):
            return problems
        blocked = [why for clause in other.unread if (why := why_not_cues(clause))]
        if blocked:
            return problems + [f"second reading: {why}" for why in blocked]
        out = cue_differences(self.cues, other.cues)
        mine = self.as_dict
        out += [f"{say_key(k)} = {say(v)}, not the real state's" for k, v in other.facts if mine.get(k, MISSING) != v]
        if self.status is not None and other.status != self.status:
            out.append("task status differs" if other.status is not None else "no task-status line")
        return problems + [f"second reading: {d}" for d in out] if out else []


def close_state(facts: dict[tuple[str, ...], Any], st: Reading) -> None:
    """Add the states events and reports imply (see the module docstring); disagreements are contradictions.

    Where the agent is at r (or has opened or closed r) and objects are said to be in or on r ("You are at toilet 1.
    A toiletpaper 1 is on the toilet 1.", "A pot 1 sits on the stoveburner 2."), those objects are what it reports
    seeing there: the contents of r."""
    at = facts.get(("at",)) or next((k[1] for k in facts if k[0] == "open"), None)  # "you open r. x is in it."
    if at is not None and ("contents", at) not in facts:
        there = frozenset(k[1] for k, v in facts.items() if k[0] == "in" and v == at)
        if there:
            st.set(("contents", at), there)
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
        elif key[0] in EVENT_PROPERTY:
            st.set((EVENT_PROPERTY[key[0]], key[1]), True)
        elif key[0] == "examined":
            for word in str(value).split(" and "):
                if word.startswith("is "):
                    st.set((word, key[1]), True)


def _lines(text: str) -> list[str]:
    return [line for line in (" ".join(raw.split()) for raw in text.split("\n")) if line]


def _status_of_line(line: str) -> bool | None:
    line = line.rstrip(".").strip()
    if line == _DONE:
        return True
    if line == _NOT_DONE:
        return False
    return None


_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+|(?<=[.!?])$|\n+")


def _sentences(body: str) -> Iterator[tuple[str, bool]]:
    """Each sentence of `body`, and whether it is a question (a question left unanswered states nothing)."""
    for sentence in _SENTENCE_END_RE.split(body):
        sentence = sentence.strip()
        asked = sentence.endswith("?")
        sentence = sentence.rstrip(".!?").strip()
        if sentence:
            yield sentence, asked


def _read_body(body_lines: list[str]) -> tuple[Reading, str]:
    """The reading of body lines, and the cleaned body it read."""
    st = Reading()
    body = _join(body_lines)
    if body.startswith("available commands:"):  # the `help` text: a fixed listing, compared word for word
        st.set(("help",), " ".join(body.split()))
        return st, ""
    clean = answer_questions(_clean_body(body))
    for sentence, asked in _sentences(clean):
        if asked and (_ENT_NAME_RE.search(sentence) or read_cues(sentence).classes):
            st.problems.append(f"a question, not a statement: '{sentence}'")
        elif asked:  # "What do you do next?": a prompt to the player that names nothing and asks of no state
            continue
        else:
            read_sentence(sentence, st)
    if not st.facts and not st.problems:
        st.problems.append("unreadable: no sentence of the world's grammar")
    close_state(dict(st.facts), st)
    return st, clean


@functools.lru_cache(maxsize=16384)  # ground truths repeat across a GRPO group and across steps
def _reading(text: str) -> tuple[list[str], bool | None, list[str], Reading, str]:
    """The lines of `text` without presentation, its status, the body lines read, their reading and cleaned body.

    A body that cannot be read as written is read again as a record or without its labels (`alfworld_records`);
    that reading is kept only when it has no problem at all."""
    lines = unquote(unwrap(_lines(normalise(text))))
    status = _status_of_line(lines[-1]) if lines else None
    body_lines = unquote(lines[:-1]) if status is not None else lines
    st, clean = _read_body(body_lines)
    if st.problems:
        indented = [line.rstrip() for line in normalise(text).split("\n") if line.strip()]
        record = said_as_sentences(indented[:-1] if status is not None else indented)
        for other in (record, labels_dropped(body_lines)):
            if other and other != body_lines:
                st2, clean2 = _read_body(other)
                if not st2.problems:
                    return lines, status, other, st2, clean2
    return lines, status, body_lines, st, clean


@functools.lru_cache(maxsize=16384)
def read_state(text: str) -> WorldState:
    """The world state `text` reports (see the module docstring); never raises on any text."""
    lines, status, _, st, clean = _reading(text)
    cues = read_cues(clean) if clean else Cues((), frozenset())
    facts = tuple(sorted(st.facts.items(), key=lambda kv: kv[0]))
    problems = tuple(dict.fromkeys(st.problems))
    return WorldState(facts, status, problems, "\n".join(lines), tuple(st.unread), cues)


def without_presentation(text: str) -> str | None:
    """`text` (normalised) with fences, emoji, quotes, emphasis, labels and an echoed command off, tables and records
    said as sentences, another register in the game's words -- what the cosine gate compares, so a table is compared
    as the sentences it says; None when `text` has none of these."""
    original = _lines(normalise(text))
    lines, status, body_lines, _, _ = _reading(text)
    body_lines = [
        _plain(line)
        for line in body_lines
        if not _ECHO_LINE_RE.fullmatch(line)  # the command typed, echoed: the gate compares what the game says
    ]
    plain = [*body_lines, lines[-1]] if status is not None else body_lines
    return None if plain == original else "\n".join(plain)


def state_differences(real: str, predicted: str) -> list[str]:
    """Why `predicted` does not report the world state of `real` ([] when it does)."""
    return read_state(real).differences(read_state(predicted))

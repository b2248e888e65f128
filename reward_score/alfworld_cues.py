# ruff: noqa: E501 - the word classes read best one per line
"""The second reading of an ALFWorld prediction: for clauses the grammar cannot read, its names and state words.

People and models write states in forms no closed grammar lists ("Arrived at drawer 10. Closed.", "Now at sofa 1 --
on it: box 3, pillow 1"). `alfworld_state` reads every clause it can with the grammar; when the only thing it
could not read is plain wording (not a negation, hedge, status phrase or contradiction, which stay errors), the
prediction gets this second reading, `read_cues`, and agrees with the real state only if

- every clause the grammar could not read that names something holds a relation word (a verb or preposition of
  the world's sentences, or a state word: a bare list of names says nothing) and none of the words of mood, doubt or denial below (`BLOCKING`: "would",
  "will", "false", "instead", "try" ...),
- the numbered names appear in the same order of first mention as in the real state (so the object moved and the
  place it went cannot swap, and no name is added or left out),
- the same state words are used, by class (`CUE_CLASSES`: open, closed, hot, cool, clean, sliced, switched on or
  off, taken or held, put, empty, refusal, middle of the room, nothing special), names masked first so "microwave 1"
  is a place and not heating,
- every fact the grammar did read agrees with the real state, and the status line is the real one.

The cosine gate still follows. The second reading is coarser than the grammar by design: it cannot tell which of
two receptacles named in one unreadable clause is open; names in order and the classes of state words are what it
binds. `reward_calibration.alfworld_attacks` checks that every attack class still scores 0 with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reward_score.alfworld_words import ENT, ENT_RE, NOTHING_HAPPENS, POSTURE

_MASK = "<e>"
# Classes of state words; a prediction read by cues must use the same classes as the real state.
# fmt: off
CUE_CLASSES: tuple[tuple[str, str], ...] = (
    ("refusal", NOTHING_HAPPENS),
    ("nothing special", r"nothing (?:special|remarkable|unusual|noteworthy|interesting|notable)|(?:just )?(?:a )?normal|ordinary"),
    ("middle of the room", r"(?:middle|centre|center) of (?:a |the )?room"),
    ("switched on", rf"(?:turn|turned|turns|switch|switched|switches|flip|flipped|power|powered|click|clicked)(?: {_MASK})? on|\blit\b|is (?:now )?on(?! {_MASK})"),
    ("switched off", rf"(?:turn|turned|turns|switch|switched|switches|flip|flipped|power|powered|click|clicked)(?: {_MASK})? off|\bunlit\b|is (?:now )?off(?! {_MASK})"),
    ("open", r"open|opened|opens|opening|ajar|unlatched"),
    ("closed", r"closed|shut|shuts|close(?! to)|closes"),
    ("hot", r"hot|warm|warmed|warms|heat|heated|heats|microwaved|cooked"),
    ("cool", r"cool|cooled|cools|cold|chill|chilled|refrigerated"),
    ("clean", r"clean|cleaned|cleans|wash|washed|rinse|rinsed|scrub|scrubbed"),
    ("sliced", r"slice|sliced|slices|cut|chop|chopped"),
    ("taken or held", r"pick|picked|picks|take|took|taken|takes|grab|grabbed|grabs|lift|lifted|retrieve|retrieved|remove|removed|fetch|fetched|pluck|plucked|snatch|snatched|nab|nabbed|seize|seized|snag|snagged|yank|yanked|swipe|swiped|carried|held|inventory|in (?:your )?hands?|carrying|holding|you (?:are |now |are now |still )?(?:hold|carry|have got)"),
    ("put", rf"put|puts|place|placed|places|set down|drop|dropped|deposit|deposited|stow|stowed|lay|laid|transfer|transferred|(?:move|moved|moves|stick|stuck|pop|popped|toss|tossed|slip|slipped) {_MASK}(?! (?:open|shut|closed))|{_MASK} (?:is |was |has been )?moved (?:to|on|in|into|onto)"),
    ("empty", r"nothing|none|empty|no (?:objects?|items?|things?)"),
)
# fmt: on
_CUE_RES = tuple((name, re.compile(rf"(?<!\w)(?:{pattern})(?!\w)")) for name, pattern in CUE_CLASSES)
# Words after which a clause does not state what is: mood, time to come, doubt, denial, attempts, corrections.
BLOCKING = (
    "would|will|shall|should|must|going to|about to|true|false|untrue|wrong|incorrect|lying to|fake|pretend"
    "|imagine|imagined|hypothetical|hypothetically|suppose|supposedly|allegedly|instead|except|try|tries|tried"
    "|trying|attempt|attempts|attempted|almost|nearly|expect|expected|hope|want|wish|did|does|do|rather"
    "|unlikely|improbable|implausible|fiction|fictional|dream|dreamed|dreamt|theory|theoretically|kidding|joking"
    "|joke|made up|rumor|rumour|guess|guessing|speculate|speculation|assume|assuming|assumption|unconfirmed"
    "|unverified|uncertain|unsure|doubt|doubtful|hypothesis|fantasy|invented|fabricated|lie|untruthful|bogus"
)
_BLOCKING_RE = re.compile(rf"(?<!\w)(?:{BLOCKING})(?!\w)")
# A clause that names nothing may still say where a named thing is, by a pronoun: "where it now lies".
_PRONOUN_RE = re.compile(r"(?<!\w)(?:it|them|they|there)(?!\w)")
_POSTURE_RE = re.compile(rf"(?<!\w)(?:{POSTURE})(?!\w)")
# Clauses of conversation that name nothing and claim nothing ("got it", "here you go"): they may stand unread.
_FILLER_RE = re.compile(
    r"(?:(?:okay|ok|alright|all right|sure|certainly|got it|here you go|here it is|done|right|well|so|yes|great"
    r"|very well|of course|understood|noted)[\s,!.]*)+"
)
# A clause read by cues must name a relation of the world (a verb, or a preposition of place), not only names.
_RELATION_RE = re.compile(
    r"(?<!\w)(?:arrive|arrived|arriving|reach|reached|at|on|in|inside|into|onto|atop|upon|within|from|to|with|using"
    r"|by|beside|near|around|see|saw|seen|sees|notice|noticed|spot|spotted|find|found|visible|contains|contain"
    r"|containing|contents|holds|has|there|here|facing|face|carrying|holding|hold|carry|position|positioned|located"
    r"|location|standing|stand)(?!\w)"
)


@dataclass(frozen=True)
class Cues:
    """What the second reading takes from a text: numbered names by first mention, and its state-word classes."""

    names: tuple[str, ...]
    classes: frozenset[str]


def read_cues(body: str) -> Cues:
    """The names and state-word classes of a normalised body (`alfworld_state` cleans it first)."""
    names = tuple(dict.fromkeys(ENT_RE.findall(body)))
    text = re.sub(ENT, _MASK, body)
    classes = set()
    for name, pattern in _CUE_RES:
        if pattern.search(text):
            classes.add(name)
            text = pattern.sub(" ", text)  # "nothing happens" is a refusal, not also an empty list
    return Cues(names, frozenset(classes))


def why_not_cues(clause: str) -> str | None:
    """Why an unreadable clause cannot get the second reading (None when it can)."""
    masked = re.sub(ENT, _MASK, clause)
    if m := _BLOCKING_RE.search(masked):
        return f"{m.group(0)!r} does not state what is: {clause!r}"
    cued = any(p.search(masked) for _, p in _CUE_RES)
    if _MASK in masked and not _RELATION_RE.search(masked) and not cued:
        return f"no relation word, only names: {clause!r}"
    refers = _PRONOUN_RE.search(masked) and (_RELATION_RE.search(masked) or _POSTURE_RE.search(masked))
    if _MASK not in masked and not cued and not refers and not _FILLER_RE.fullmatch(masked):
        # "Unlikely.", "Just kidding.", "A dream.": no name, no state word -- nothing to check, maybe a disclaimer
        return f"names nothing and states nothing: {clause!r}"
    return None


def cue_differences(real: Cues, predicted: Cues) -> list[str]:
    """Where the second reading of a prediction disagrees with the real state's ([] when it agrees)."""
    out = []
    if predicted.names != real.names:
        out.append(f"names {list(predicted.names)} instead of {list(real.names)} (in order of mention)")
    for name in sorted(real.classes - predicted.classes):
        out.append(f"no {name!r} word")
    for name in sorted(predicted.classes - real.classes):
        out.append(f"a {name!r} word the real state has not")
    return out

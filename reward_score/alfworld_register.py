"""Registers other than the game's plain English, said in its words before the grammar reads them.

A world model may narrate in a storybook register ("Unto the sofa 1 you come. Upon it you behold naught."), in the
first person plural ("We arrive at ..."), with a stance adverb ("Sadly, you are not carrying anything."), close a
list as complete ("..., and nothing else."), tag a transcript ("Step 12: ..."), report the game's words ("The game
says that you arrive at ..."), say a name's number as a word ("drawer number ten"), write a run-together name as the
English compound it is ("sink basin 1", "toilet paper hanger 1") or as a code identifier ("drawer_10", "sofa-1",
"box3"), say a binary state as the opposite denied ("no longer closed"), tell a list as the exception to nothing
("apart from a box 3, there is nothing on the sofa 1", "you see nothing but a pen 1"), or follow a clause with what
it implies for the player ("..., so you can't see inside it", "You could take any of them."). None of these changes
the state; `identifier_names` and `plain_register` say each in the game's words, on normalised, case-folded text
with articles still in place. The tables are closed: a word outside them is left as it is (and read, or found
unreadable, by the grammar).
"""

from __future__ import annotations

import re

_E = r"[a-z]+ \d+"
_L = rf"(?:(?:an?|the) )?{_E}(?:(?:,|,? and) (?:(?:an?|the) )?{_E})*"  # a list of names, articles in place
_AT = rf"(?:on|in|inside|next to) (?:the {_E}|{_E}|it)"
_CANNOT = r"(?:can't|cannot|can not)"
# fmt: off
_REGISTER = (
    # storybook English
    (r"\b(?:lo|behold|verily|forsooth),\s*", ""), (r"\byou are come\b", "you come"), (r"\bunto\b", "to"),
    (r"\bbehold(?:est)?\b|\bbeheld\b", "see"), (r"\bnaught\b|\bnought\b", "nothing"), (r"\btherein\b", "in it"),
    (r"\bstandeth\b|\bremaineth\b|\blieth\b|(?<=\d )be\b(?= (?:open|closed|shut)\b)", "is"), (r"\bmidst\b", "middle"),
    (r"\byou do (open|close|take|pick|put|set|carry|heat|cool|clean|slice|turn)\b", r"you \1"),
    (r"\btake up\b|\btook up\b", "pick up"), (rf"\byou set (the {_E}) upon\b", r"you put \1 on"),
    (rf"\byou set (the {_E}) within\b", r"you put \1 in"), (r"\byou bear\b", "you carry"),
    (r"\bin your keeping (?:is|are)\b", "you are carrying"), (r"\bnothing do you carry\b", "you carry nothing"),
    (r"\bnothing comes of it\b", "nothing happens"), (r"\byou stand before\b", "you are facing"),
    (r"\bcasting a swift glance about you\b", "looking quickly around you"), (r"\babout you\b", "around you"),
    (r"\bthou art\b", "you are"), (r"\bthou\b|\bthee\b", "you"), (r"\bthy\b|\bthine\b", "your"),
    # the first person plural narrates what "you" does
    (r"\bwe're\b", "you are"), (r"\bwe've\b", "you have"), (r"\bwe are\b", "you are"), (r"\bwe were\b", "you were"),
    (r"\bwe\b", "you"), (r"\bour\b", "your"), (r"\bus\b", "you"), (r"\bourselves\b", "yourself"),
    # gaze idioms say "you see": "your eyes fall on", "your gaze lands on", "you lay eyes on", "you catch sight of"
    (r"\byour (?:eyes|gaze) (?:fall|falls|land|lands|rest|rests|settle|settles|alight|alights) (?:up)?on\b", "you see"),
    (r"\byour (?:eyes|gaze) (?:find|finds|meet|meets|take in|takes in)\b", "you see"),
    (r"\byou (?:lay|set|cast your) eyes on\b|\byou catch sight of\b|\byou catch a glimpse of\b", "you see"),
    # a stance adverb opening a sentence judges what follows, and states nothing of its own
    (r"(?:^|(?<=[.!?] ))(?:sadly|unfortunately|fortunately|luckily|happily|thankfully|alas|interestingly|curiously"
     r"|conveniently|helpfully|regrettably|oddly),\s*", ""),
    # a list closed as complete: the game's lists are complete already
    (r"(?<=\d),? (?:and )?nothing (?:else|more)(?=[.!?;,]|$)", ""),
    # a transcript's tag before the observation: "step 12:", "[step 11]", "turn 3:", "[t=4]", "[env]", "[env | step 2]"
    (r"(?:^|(?<=[.!?] ))(?:\[(?:step|turn) \d+\]|(?:step|turn) \d+:|\[t ?= ?\d+\]"
     r"|\[env(?:ironment)?(?: ?\| ?step \d+)?\])\s*", ""),
    # the game's words reported: "the game says that ...", "you are told that ...", "it adds that ..."
    (r"(?:^|(?<=[.!?] ))(?:the (?:game|environment|narrator) (?:says|tells you|reports|states|informs you)|you are told"
     r"|it (?:adds|goes on to say|also says|then says)) that ", ""),
    (r", and that (?=the |you |on |in |there )", ". "),
    # a name given after its kind, "the book (book 1)"; a list in semicolons, "a fork 2; a knife 1; and a spatula 1"
    (r"\b([a-z]+) \(\1 (\d+)\)", r"\1 \2"), (r"(?<=\d); (?=(?:and )?an? [a-z]+ \d)", ", "),
    # a name's number with a word before it: "drawer number 10", "drawer no. 10"
    (r"\b(?!(?:at|to|in|on|of|is|no) )([a-z]{2,}) (?:number|no\.) (\d+)\b", r"\1 \2"),
    # a dash between two clauses ends the first: "you are facing the desk 1, and drawer 1 — next to it, you see ..."
    (r"\s*[\u2014\u2013]\s*(?=(?:on|in|inside|next to|there|you|the|it|looking)\b)", ". "),
    # a binary state said as the opposite denied: "no longer closed", "not open anymore" (read as "not closed" is)
    (r"\bno longer (open|opened|closed|shut)\b", r"not \1"),
    (r"\bnot (open|opened|closed|shut) any ?more\b", r"not \1"),
    # a list told as the exception to nothing: "apart from a box 3 and a pen 1, there is nothing on the sofa 1"
    (rf"\b(?:apart from|other than|except for|besides) ({_L}), (?:there is|there's|you see) nothing ({_AT})\b",
     r"\2, you see \1"),
    (rf"\bthere(?: is|'s) nothing ({_AT}) (?:except|but|apart from|other than|besides) ({_L})", r"\1, you see \2"),
    (rf"\b(?:apart from|other than|except for|besides) ({_L}), you (?:carry|are carrying|hold|are holding) nothing\b",
     r"you are carrying \1"),
    (rf"\b(you (?:see|carry|are carrying|hold|are holding)) nothing (?:but|except|other than|apart from|besides)"
     rf" (?=(?:an? |the )?{_E})", r"\1 "),
    # what the clause before implies for the player, said after it: "the drawer 10 is closed, so you can't see inside
    # it", "you see nothing, so there is nothing to take", "you see a box 3. you could take it". It restates the
    # clause it follows, so it is dropped only right after that clause; said anywhere else it is read (or refused).
    (rf"(?:(?<=closed)|(?<=shut))(?:,? so|\.|;) (?:you {_CANNOT} see (?:inside it|into it|what is in it|what's in it)"
     r"(?: without opening it)?|you would (?:have|need) to open it to (?:look|see) inside)(?=[.!]|$)", ""),
    (r"(?<=nothing)(?:,? so|\.) there(?: is|'s) nothing (?:here )?(?:for you )?to (?:take|pick up)(?: here)?(?=[.!]|$)",
     ""),
    (r"(?<=\d)(?:\.|,) (?:it(?: is|'s)|they are(?: all)?|all of them are|each is) within (?:your )?reach(?=[.!]|$)",
     ""),
    (r"(?<=\d)(?:\.|,) you (?:could|can) (?:take|pick up|grab) (?:it|them|any of them|either of them)(?=[.!]|$)", ""),
    (r"(?<=\d)(?:\.|,) you (?:could|can) go to any of them(?: from here)?(?=[.!]|$)", ""),
    (r"(?:(?<=nothing)|(?<=anything)),? so (?:your hands are free|you are free to pick something up)(?=[.!]|$)", ""),
)
# fmt: on
_REGISTER_RES = tuple((re.compile(p), r) for p, r in _REGISTER)

_UNITS = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen"
_UNITS += " eighteen nineteen"
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_NUMBER_WORDS = {w: i + 1 for i, w in enumerate(_UNITS.split())} | _TENS
_NUMBER_WORDS |= {f"{t}-{u}": n + i + 1 for t, n in _TENS.items() for i, u in enumerate(_UNITS.split()[:9])}
# words that come before a number word without naming a thing ("you see one", "the only one", "at least two")
_NOT_NAMES = frozenset(
    "the and see sees saw you are was were has have its for with from into onto than only just any all each every"
    " other another which that this those these there here nothing none some about around over under least most"
    " more less also but not nor number at to in on of is it an no so or as by up be do go if me my".split()
)
_NUMBER_WORD_RE = re.compile(
    r"\b([a-z]{2,}) (?:number |no\. ?)?(" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b(?!-)"
)


def _name_number(m: re.Match[str]) -> str:
    word = m.group(1)
    return m.group(0) if word in _NOT_NAMES else f"{word} {_NUMBER_WORDS[m.group(2)]}"


# The game's run-together names, as the English compounds they are: "sink basin 1", "toilet-paper hanger 1".
_COMPOUNDS = (
    "alarm clock|baseball bat|bath tub|bathtub basin|bath tub basin|butter knife|cell phone|coffee machine|coffee table"
    "|counter top|credit card|desk lamp|dining table|dish sponge|floor lamp|foot stool|garbage can|glass bottle"
    "|hand towel|hand towel holder|house plant|key chain|laundry hamper|laundry hamper lid|light switch|paper towel"
    "|paper towel roll|pepper shaker|remote control|salt shaker|scrub brush|shower door|shower glass|shower curtain"
    "|side table|sink basin|soap bar|soap bottle|spray bottle|stove burner|stove knob|teddy bear|tennis racket"
    "|tissue box|toilet paper|toilet paper hanger|toilet paper roll|towel holder|tv stand|watering can|wine bottle"
    "|news paper|arm chair|base ball bat|basket ball|lap top|sofa bed"
).split("|")
_COMPOUND_RE = re.compile(
    r"\b("
    + "|".join(c.replace(" ", "[ _-]") for c in sorted(_COMPOUNDS, key=len, reverse=True))
    + r")(?=[ _-]?(?:#|no\. ?|number |n° ?)?\d)"
)
# Words in snake case before a bracket, a predicate's name: "is_closed(drawer 10)" says "is closed".
_SNAKE_RE = re.compile(r"(?<![\w-])[a-z]+(?:_[a-z]+)+(?=\()")
# A name written as a code identifier: "drawer_10", "sofa-1", "box3", "sink_basin_1".
_IDENTIFIER_RE = re.compile(r"(?<![\w#=-])([a-z]+(?:[_-][a-z]+)*)(?:[_-]|(?<=[a-z])(?=\d))0*(\d+)(?![\w-])")


def identifier_names(text: str) -> str:
    """`text` (normalised) with each name written as a code identifier said as the game's name ("sink_basin_1" ->
    "sinkbasin 1", "box3" -> "box 3") and a predicate's name in snake case in words ("is_closed(" -> "is closed(");
    before emphasis marks are read, which an identifier's underscores would look like."""
    text = _SNAKE_RE.sub(lambda m: m.group(0).replace("_", " "), text)
    return _IDENTIFIER_RE.sub(lambda m: re.sub(r"[_-]", "", m.group(1)) + " " + m.group(2), text)


def plain_register(text: str) -> str:
    """`text` (normalised, case folded) with the registers above said in the game's words, a name's number said as a
    word ("drawer number ten", "a towel one") as digits."""
    for pattern, repl in _REGISTER_RES:
        text = pattern.sub(repl, text)
    text = _NUMBER_WORD_RE.sub(_name_number, text)
    return _COMPOUND_RE.sub(lambda m: re.sub(r"[ _-]", "", m.group(1)), text)

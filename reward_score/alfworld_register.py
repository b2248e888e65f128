"""Registers other than the game's plain English, said in its words before the grammar reads them.

A world model may narrate in a storybook register ("Unto the sofa 1 you come. Upon it you behold naught."), in the
first person plural ("We arrive at ..."), with a stance adverb ("Sadly, you are not carrying anything."), or close a
list as complete ("..., and nothing else."). None of these changes the state; `plain_register` says each in the
game's words, on normalised, case-folded text with articles still in place. The tables are closed: a word outside
them is left as it is (and read, or found unreadable, by the grammar).
"""

from __future__ import annotations

import re

_E = r"[a-z]+ \d+"
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
)
# fmt: on
_REGISTER_RES = tuple((re.compile(p), r) for p, r in _REGISTER)


def plain_register(text: str) -> str:
    """`text` (normalised, case folded) with the registers above said in the game's words."""
    for pattern, repl in _REGISTER_RES:
        text = pattern.sub(repl, text)
    return text

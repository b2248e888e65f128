"""The words of ALFWorld's world-state grammar: numbered names, lists, and the verbs, prepositions and adjectives of
each clause form, as regex alternatives (`alfworld_grammar` builds its clause forms from them; `alfworld_state`
documents what they read)."""

# ruff: noqa: E501 - word lists read best one per line

from __future__ import annotations

import re

ENT = r"(?<!\w)[a-z]+ \d+(?!\w)"
ENT_RE = re.compile(ENT)
SEP = r"(?:\s*,\s*(?:and\s+)?(?:also\s+)?|\s+(?:and|and also|plus|as well as|along with|together with)\s+)"
LIST = rf"{ENT}(?:{SEP}{ENT})*"
NOTHING = r"nothing(?: at all)?|no objects?|no items?|not anything|none"


def group(name: str, pattern: str) -> str:
    return f"(?P<{name}>{pattern})"


def words(text: str) -> str:
    """A regex alternative of the '|'-separated words, longest first."""
    return alt(*text.split("|"))


def alt(*words: str) -> str:
    return "(?:" + "|".join(sorted(words, key=len, reverse=True)) + ")"


OBJ = group("o", ENT)  # the object acted on
REC = group("r", rf"{ENT}|it|there")  # a receptacle or place; "it"/"there" name the last one mentioned
TOOL = group("u", ENT)  # the appliance or tool used
LST = group("l", rf"{LIST}|{NOTHING}")  # an exhaustive list of objects, or nothing
IN = words("on|in|inside|within|atop|on top of|upon|inside of|in or on|onto|into")
YOU = r"you (?:(?:now|then|just|have|had|also|have now|have just|finally|quickly) )?"
SEE = words(
           "see|notice|find|spot|observe|discover|can see|can spot|are able to see|saw|noticed|found"
           "|spotted|observed|discovered|could see|count|spy"
       )  # fmt: skip
NOW = r"(?:(?:now|still|already|currently|then) )?"
# "do not see anything" says what "see nothing" says; it has no group "l", so it reads as an empty list.
NOT_SEE = (
    r"(?:do not|did not|cannot|could not|can not) (?:see|find|notice|spot|observe) (?:anything|any objects?|any items?)"
)
LATER = r"(?: right now| now| at (?:the )?moment| currently| still| at present)?"
BE = words(
          "is|are|was|were|has been|have been|stands|remains|sits|lies|is left|rests|seems|looks"
          "|appears to be|seems to be"
      )  # fmt: skip
ARRIVE = words(
    "arrive at|arrived at|reach|reached|get to|got to|go to|went to|walk to|walked to"
    "|walk over to|walked over to|head to|headed to|head over to|headed over to|make your way to"
    "|made your way to|move to|moved to|come to|came to|travel to|traveled to|travelled to"
    "|approach|approached|go over to|went over to|step over to|stepped over to|step up to"
    "|stepped up to|return to|returned to|go back to|went back to|proceed to|proceeded to"
    "|navigate to|navigated to|wander over to|wandered over to|arrive by|arrived by"
)
NEAR = words(
            "at|by|looking at|next to|beside|in front of|standing at|standing by|standing next to"
            "|standing in front of|standing beside|right by|right at|over at|now at|back at"
        )  # fmt: skip
OPEN_V = words(
              "open|opened|pull open|pulled open|swing open|swung open|open up|opened up|pry open"
              "|pried open|throw open|threw open|unlatch|unlatched|lift open|lifted open|push open"
              "|pushed open|slide open|slid open|flip open|flipped open|yank open|yanked open|tug open|tugged open"
          )  # fmt: skip
CLOSE_V = words(
               "close|closed|shut|close up|closed up|push shut|pushed shut|slide shut|slid shut|swing shut"
               "|swung shut|pull shut|pulled shut|snap shut|snapped shut|slam shut|slammed shut"
           )  # fmt: skip
MOVE_V = words(
              "pull|pulled|swing|swung|push|pushed|slide|slid|flip|flipped|lift|lifted|pry|pried|snap"
              "|snapped|ease|eased|tug|tugged|yank|yanked|slam|slammed|pop|popped"
          )  # fmt: skip
OPEN_ADJ = words("open|opened|ajar|wide open|open now|now open|opened up")
CLOSED_ADJ = words(
                  "closed|shut|shut tight|tightly shut|firmly closed|closed now|now closed|closed tight"
                  "|firmly shut"
              )  # fmt: skip
TAKE_V = words(
              "pick up|picked up|take|took|taken|grab|grabbed|lift|lifted|retrieve|retrieved|collect"
              "|collected|get|got|remove|removed|take out|took out|pull|pulled|pick|picked|snatch|snatched"
              "|fetch|fetched|pluck|plucked|lift up|lifted up|scoop up|scooped up|snag|snagged|nab|nabbed|seize"
              "|seized|yank|yanked|swipe|swiped"
          )  # fmt: skip
FROM = words(
            "from|off|off of|out of|from inside|from on|from top of|from off|from in|from within"
            "|from atop|from on top of|away from"
        )  # fmt: skip
PUT_V = words(
             "move|moved|put|placed|place|set|drop|dropped|leave|left|deposit|deposited|stow|stowed|lay"
             "|laid|rest|rested|return|returned|position|positioned|transfer|transferred|slide|slid|store"
             "|stored|bring|brought|carry|carried|take|took|tuck|tucked|stick|stuck|pop|popped|slip|slipped|toss"
             "|tossed|plonk|plonked|plop|plopped|pop back|popped back"
         )  # fmt: skip
TO = words(
          "to|on|onto|in|into|inside|on top of|atop|upon|in or on|down on|down in|down onto|back on"
          "|back in|over to|within|inside of|over on"
      )  # fmt: skip
APPLIANCE_VERBS: dict[str, tuple[str, ...]] = {
    "heat": ("heat", "heated", "heat up", "heated up", "warm", "warmed", "warm up", "warmed up", "microwave",
             "microwaved", "cook", "cooked"),
    "cool": ("cool", "cooled", "cool down", "cooled down", "chill", "chilled", "refrigerate", "refrigerated",
             "cool off", "cooled off", "chill down", "chilled down"),
    "clean": ("clean", "cleaned", "wash", "washed", "rinse", "rinsed", "clean off", "cleaned off", "scrub",
              "scrubbed", "wash off", "washed off", "rinse off", "rinsed off", "clean up", "cleaned up"),
}  # fmt: skip
PASSIVE: dict[str, tuple[str, ...]] = {
    "heat": ("heated", "warmed", "heated up", "warmed up", "microwaved", "cooked"),
    "cool": ("cooled", "chilled", "cooled down", "refrigerated", "chilled down", "cooled off"),
    "clean": ("cleaned", "washed", "rinsed", "scrubbed", "cleaned off", "washed off", "rinsed off", "cleaned up"),
}  # fmt: skip
# Property words -> the property keys (not the event keys: "cool <o>" holds the appliance a cooling used).
PROPERTY_WORDS = {"hot": "is hot", "warm": "is hot", "heated": "is hot", "cool": "is cool", "cold": "is cool",
                   "chilled": "is cool", "cooled": "is cool", "clean": "is clean", "cleaned": "is clean",
                   "washed": "is clean", "sliced": "is sliced"}  # fmt: skip
RESULT_WORDS = {"heat": ("hot", "warm", "heated"), "cool": ("cold", "cool", "chilled", "cooled"),
                 "clean": ("clean", "cleaned", "washed")}  # fmt: skip
EVENT_PROPERTY = {"heat": "is hot", "cool": "is cool", "clean": "is clean", "sliced": "is sliced"}
USING = words("using|with|in|by using|inside|at|by means of|with help of|in and with")
SLICE_V = words("slice|sliced|cut|chop|chopped|slice up|sliced up|cut up")
ON_V = words(
            "turn on|turned on|switch on|switched on|flip on|flipped on|power on|powered on|light|lit"
            "|click on|clicked on"
        )  # fmt: skip
OFF_V = words(
             "turn off|turned off|switch off|switched off|flip off|flipped off|power off|powered off"
             "|click off|clicked off"
         )  # fmt: skip
TOGGLE_V = words("turn|turned|switch|switched|flip|flipped|power|powered|click|clicked")
# Adverbs of the present between "you are" and a state ("you are currently not carrying anything"): they add no fact.
STILL = r"(?:(?:currently|presently|now|still|at present|at the moment|at this point) )?"
HAVING = words("carrying|holding|in possession of")
ANY = r"(?:anything|any objects?|any items?|any things?)(?: at all)?"
CARRY = alt(
    rf"are {STILL}{HAVING}",
    *"carrying|holding|carry|hold|have|are carrying|are holding|have got|are now carrying|are now holding|now carry"
    "|now hold|now have|are still carrying|are still holding|still have|still hold".split("|"),
)
EMPTY_HANDED = alt(
    *(
        "you are not carrying anything|you are not holding anything|you carry nothing"
        "|you hold nothing|you are carrying nothing|you are holding nothing|you are empty-handed"
        "|you are empty handed|your hands are empty|you do not have anything|you have nothing"
        "|you have nothing in your hands|you have nothing in your hand|nothing is in your hands"
        "|nothing is in your hand|you carry no objects|you are not carrying any objects"
        "|you are not holding any objects|your inventory is empty|you are carrying no objects"
        "|you do not carry anything|you do not hold anything|you have no objects|your hands are free"
        "|you hold no objects|you are not carrying anything at all|hands empty|hands are empty|hands free|empty-handed"
    ).split("|"),
    rf"you are {STILL}not {HAVING} {ANY}{LATER}",  # "not" right before the verb of having: the empty inventory
)
NOTHING_HAPPENS = words(
    "nothing happens|nothing happened|nothing changes|nothing changed|nothing at all happens"
    "|nothing seems to happen|nothing has happened|nothing has changed|that has no effect"
    "|that had no effect|it has no effect|it had no effect|this has no effect|that does nothing"
    "|that did nothing|it does nothing|it did nothing|nothing happens at all|nothing is changed"
    "|there is no effect|there is no change|nothing occurs|nothing occurred|no effect"
)


SPECIAL = words("special|remarkable|unusual|noteworthy|interesting|out of ordinary|notable|of note|of interest")
ABOUT = words("about|regarding|concerning|as regards|with regard to|in regard to")
PROPS = r"(?:(?:hot|cool|cold|clean|sliced|and)\s*)+"
SWITCH_ADJ_ON = words("on|turned on|switched on|lit|powered on|now on|on now")
SWITCH_ADJ_OFF = words("off|turned off|switched off|powered off|now off|off now|unlit")
# Where a `look` puts what lies by the receptacle faced, and how a passive says something is seen.
BESIDE_IT = r"(?:next to|beside|near|alongside|close to|by) it"
VISIBLE = r"(?:can be seen|is visible|are visible|is seen|are seen)"
# A clause that adds to what was just listed there ("A pen 2 is there as well.", "You also see a mug 1 there.").
_THERE = r"(?:there|here|in there|in it|on it|inside it|inside|on top of it)"
THERE_TOO = rf"(?:also {_THERE}|{_THERE} (?:too|as well|also))"
THERE = r"(?: (?:there|here|in there|on it|in it|inside|on top))?(?: too| as well)?"
# Participle clauses of moving and taking ("Moving the book 1 to the sofa 1, ...", "having put ..."): events by you.
_WHEN = r"(?:after |upon |on |while )?"
PUT_ING = _WHEN + words(
    "moving|putting|placing|setting|dropping|depositing|stowing|laying|resting|returning|positioning|transferring"
    "|sliding|storing|bringing|carrying|taking|tucking|sticking|popping|slipping|tossing"
)
TAKE_ING = _WHEN + words(
    "picking up|taking|grabbing|lifting|retrieving|collecting|getting|removing|taking out|pulling|snatching|fetching"
    "|plucking|scooping up|lifting up|snagging|nabbing|seizing|yanking"
)
# Posture verbs report where something is found, as what is seen there ("A pot 1 sits on the stoveburner 2.").
POSTURE = words(
    "sits|sit|lies|lie|rests|rest|stands|stand|is sitting|are sitting|is lying|are lying|is resting|are resting"
    "|is standing|are standing|is situated|are situated|is located|are located"
)
# Labels of a telegraphic list ("Items: mug 1", "Contents: none", "Nearby: none", "Carrying: nothing").
CONTENTS_LABEL = words("items|contents|objects|things|inside|in there|on top")
AROUND_LABEL = words(
    "looking quickly around you|looking quickly around|looking around you|looking around|around you|nearby"
    "|all around|surroundings"
)
INVENTORY_LABEL = words("your inventory|inventory|carrying|holding|in hand|in hands|in your hand|in your hands")
# Asides that comment on the narration and state nothing ("(as expected)", "unsurprisingly, ..."): dropped.
ASIDE = words(
    "as expected|as you would expect|as you'd expect|as one would expect|as anticipated|unsurprisingly|naturally"
    "|of course|predictably|take note|note|so far so good|no surprises here|no surprise there|no surprise"
    "|for what it is worth|for what it's worth|as usual|sure enough"
)
# A game master's address to the player ("Adventurer, you arrive at ...", "..., my friend."): states nothing.
VOCATIVE = words("adventurer|traveler|traveller|player|friend|my friend|your friend|dear player|hero|explorer")
# ALFWorld's commands (`alfworld/data/alfred.twl2`): a prediction may echo the command before its outcome
# ('> inventory', 'You try "go to toilet 1".'); the echo states nothing and is dropped.
COMMAND = (
    rf"(?:go to|open|close|examine|use|toggle|take|move|put|heat|cool|clean|slice) (?:the )?{ENT}"
    rf"(?: (?:from|to|in|on|in/on|with) (?:the )?{ENT})?|look|inventory|help"
)
# Words before a clause that add no fact: discourse markers and asides ("okay, ..."), labels ("Observation: ..."),
# reporting clauses ("you notice that", "checking your inventory, you find that", "a check of ... shows that").
_CHECK = (
    r"(?:(?:after |upon |on )?checking|having checked|you check|you checked"
    r"|(?:quick )?(?:check|look|glance) (?:of|at))"
)
_REPORT = r"(?:notice|see|find|realise|realize|observe|note|can see|discover|can tell|gather|learn)"
WRAPPER = (
    r"(?:(?:okay|ok|alright|right|well|now|so|then|next|also|and|as a result|after that|at this point|here|finally"
    r"|in short|in summary|summary|to sum up|in sum|in brief|all in all|to summarise|to summarize|in a nutshell|recap"
    rf"|first|{ASIDE}|(?:next |predicted |new |resulting )?(?:observation|result|outcome|feedback)),\s*)+"
    rf"|(?:{_CHECK} your (?:inventory|hands?),?\s*(?:and\s+)?(?:you\s+)?|you\s+){_REPORT} that\s+"
    rf"|{_CHECK} your (?:inventory|hands?) (?:shows|reveals|confirms|indicates|tells you) that\s+"
    r"|it (?:appears|seems) that\s+"
)
CONNECTOR = r"\s*(?:[,;:]\s*)*(?:(?:and|then|where|which|so|also|after that|afterwards|and then|while)\s+(?:[,]\s*)?)*"
# Words that make a clause that is not in the grammar a named problem rather than plain "unreadable".
NEGATION = r"\b(?:not|no|never|nor|neither|none|cannot|unable|fail|fails|failed|without|nobody)\b"
HEDGE = r"\b(?:or|either|maybe|perhaps|possibly|probably|might|may|could|likely|unless|whether|if)\b"
STATUS_WORDS = r"\btask\b|\bcompleted\b"

"""The facts a tau2 state states, and where a prediction's differ: tool responses as JSON data, user replies by
their ids, numbers, names and intent.

The sim-to-real reward's `facts` mode on tau2 (reward_score/rules/tau2_facts_rule.py) scores 1 only when `check`
finds no difference (and, for a user reply, the embedding cosine clears tau); a tool response with one wrong price
scores 0, where the paper's `mixed` rule gives it its ROUGE-L F1, ~0.8. What `check` compares, per
`extra_info.state_kind`:

- task-status line ("Task completed." / "Task is not yet completed.", `answer_format.status_of`): when the real
  state has one, the prediction's must say the same. Status lines are split off before the rest is read.
- tool_response: JSON compared as data (key order, whitespace, number spelling free; each difference names its
  JSON path, "$.items[0].price: 54.04 != 45.04"), plain text equal after normalising: reward_score/tau2_tool_facts.py.
- user_reply (and any other kind): the prediction must state the same facts as the real reply and no others:
  the fact types of `FACT_PATTERNS` (emails, order ids #W1234567, user ids, phone numbers, dates, reservation
  ids, amounts, zip codes, numbers, airports, names after "I am", retail product names), alphanumeric and
  snake-case ids with digits (L1002, credit_card_9513926), and names and places (runs of two or more capitalised
  words, one capitalised word inside a sentence) -- compared as sets of canonical values (lower case; amounts as
  numbers, "$54.00" == "54"; ordinals dropped from dates; plural product names singular). The intent must agree
  too: as many negations ("not", "no", "never", "n't", "cannot", "unable") and the same intent words
  (`INTENT_WORDS`: exchange / return / cancel / keep / upgrade / downgrade / bigger / smaller / cheaper / more /
  less), so "Yes, please go ahead" does not pass as "No, please do not go ahead", nor "exchange" as "return".

What cannot be read as the same facts differs: a reward of 0, never a free 1. Parsing the real state is cached
(`lru_cache`): ground truths repeat across a GRPO group and across steps; a prediction is parsed once per sample.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from reward_score.answer_format import status_and_body
from reward_score.tau2_tool_facts import MAX_DIFFERENCES, ToolResponseFacts, read_tool_response, tool_response_facts

logger = logging.getLogger(__name__)

# -- reasons: one per difference, joined with "; " into the result's `facts` field (tool responses': tau2_tool_facts)
STATUS_DIFFERS = "task status differs"  # both have a task-status line, they disagree
NO_STATUS_LINE = "no task-status line"  # the real state has one, the prediction not
MISSING_FACTS = "missing {values}"  # user reply: facts of the real reply the prediction does not state
INVENTED_FACTS = "invented {values}"  # user reply: facts the prediction states and the real reply does not
NEGATIONS_DIFFER = "negations {real} != {predicted}"  # user reply: another number of negations
INTENT_DIFFERS = "intent {real} != {predicted}"  # user reply: other intent words
MORE_DIFFERENCES = "and more"  # after MAX_DIFFERENCES reasons (the JSON walk stops there: it is not counted)

TOOL_RESPONSE = "tool_response"


@dataclass(frozen=True)
class Verdict:
    """What `check` found: the prediction's differences from the real state ([] when the facts agree), and
    whether the task-status lines agree (None when the real state has none)."""

    differences: list[str]
    status_ok: bool | None


def check(real: str, predicted: str, state_kind: str) -> Verdict:
    """Where `predicted` states other facts than `real` (a tau2 tool response or user reply); see the module doc."""
    if state_kind == TOOL_RESPONSE:
        r: ToolResponseFacts | _Reply = read_tool_response(real)
        p: ToolResponseFacts | _Reply = tool_response_facts(predicted)
    else:
        r, p = read_reply(real), _read_reply(predicted)
    status_ok = None if r.status is None else p.status == r.status
    out = [] if status_ok in (None, True) else [NO_STATUS_LINE if p.status is None else STATUS_DIFFERS]
    out += r.differences(p)  # type: ignore[arg-type]  # same class on both sides
    if len(out) > MAX_DIFFERENCES:
        out = [*out[:MAX_DIFFERENCES], MORE_DIFFERENCES]
    return Verdict(out, status_ok)


# -- user replies ----------------------------------------------------------------------------------------------

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
# Type -> pattern; earlier types win where matches overlap. The tau2 calibration's fact swaps use the same table
# (reward_calibration/tau2_user_replies.py).
FACT_PATTERNS: dict[str, str] = {
    "email": r"\b[\w.+-]+@[\w-]+\.[\w.]+\b",
    "order_id": r"#W\d{7}\b",
    "user_id": r"\b[a-z]+_[a-z]+_\d{3,5}\b",
    "phone": r"\b\d{3}-\d{3}-\d{4}\b",
    "date": rf"\b(?:{_MONTHS}) \d{{1,2}}(?:st|nd|rd|th)?\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b",
    "reservation": r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6}\b",
    "money": r"\$\d[\d,]*(?:\.\d+)?",
    "zip": r"\b\d{5}\b",
    "number": r"\b\d+(?:\.\d+)?\b",
    "airport": r"\b[A-Z]{3}\b",
    "name": r"(?:(?<=I am )|(?<=I'm )|(?<=name is )|(?<=This is ))[A-Z][a-z]+ [A-Z][a-z]+\b",
    "product": "",  # filled from the retail catalogue (`products`)
}
_NOT_AIRPORTS = {"USB", "LED", "USA", "DNA", "SIM", "APN", "MMS", "SMS", "VPN", "GPS", "ETA", "CEO"}
# Negations: the intent turned around ("I do not want", "No, please do not go ahead", "unable").
NEGATION_RE = re.compile(
    r"\b(not|no|never|don't|doesn't|didn't|can't|cannot|won't|isn't|aren't|wasn't|unable)\b|n't\b", re.I
)
# Canonical intent -> its words; "less expensive" is read as "cheaper" before "less" is.
INTENT_WORDS: dict[str, str] = {
    "exchange": r"exchang(?:e|es|ed|ing)",
    "return": r"return(?:s|ed|ing)?",
    "cancel": r"cancel(?:s|led|ed|ling|ing|lation)?",
    "keep": r"keep(?:s|ing)?|kept",
    "upgrade": r"upgrad(?:e|es|ed|ing)",
    "downgrade": r"downgrad(?:e|es|ed|ing)",
    "bigger": r"bigger|larger",
    "smaller": r"smaller",
    "cheaper": r"cheaper|less expensive",
    "more": r"more",
    "less": r"less|fewer",
}
_INTENT_RE = re.compile(r"\b(?:" + "|".join(f"(?P<{k}>{v})" for k, v in INTENT_WORDS.items()) + r")\b", re.I)
# Ids with letters and digits that FACT_PATTERNS leaves out: L1002, B1234321, credit_card_9513926, paypal_3798357.
_EXTRA_ID_RE = re.compile(r"\b(?:[a-z]+(?:_[a-z]+)*_\d+|[A-Z]+\d+[A-Z0-9]*)\b")
# Names and places: two or more capitalised words (words that open a sentence are dropped from their front), or
# one capitalised word inside a sentence ("abroad in France", "a Google Home speaker").
_CAPITALISED_RE = re.compile(
    r"\b[A-Z][a-z]+(?:['-][A-Za-z]+)?(?:[ \t]+[A-Z][a-z]+(?:['-][A-Za-z]+)?)+\b"
    r"|(?<=[a-z0-9,;:] )[A-Z][a-z]+(?:['-][A-Za-z]+)?\b"
)
_NOT_NAME_WORDS = frozenset(
    "hi hello hey dear yes yeah yep no nope ok okay sure thanks thank please sorry great perfect alright well oh "
    "also and but so then just actually my our your the this that these those it its there here what when where "
    "why how who which can could would will should do does did is are was were have has had let got good awesome "
    "hmm um one".split()
)


@functools.cache
def products() -> tuple[str, ...]:
    """Lower-cased product names of the retail catalogue (tau2's retail DB, read without importing tau2), longest
    first; () when the tau2 package is not installed."""
    spec = importlib.util.find_spec("tau2")
    if spec is None or not spec.submodule_search_locations:
        logger.warning("reward: the tau2 package is not installed; tau2 replies are read without product names")
        return ()
    db = Path(next(iter(spec.submodule_search_locations))) / "data" / "tau2" / "domains" / "retail" / "db.json"
    try:
        names = {p["name"].lower() for p in json.loads(db.read_text())["products"].values()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        logger.warning("reward: tau2's retail catalogue %s could not be read (%s); no product names", db, err)
        return ()
    return tuple(sorted(names, key=lambda n: (-len(n), n)))


@functools.cache
def _fact_re() -> re.Pattern[str]:
    pats = dict(FACT_PATTERNS)
    names = products()
    pats["product"] = r"\b(?:" + "|".join(re.escape(p) for p in names) + r")s?\b" if names else r"(?!)"
    return re.compile("|".join(f"(?P<{k}>{v})" for k, v in pats.items()), re.IGNORECASE)


def facts(text: str) -> list[tuple[str, str, int, int]]:
    """(type, value, start, end) of every `FACT_PATTERNS` fact in `text`, left to right."""
    out = []
    for m in _fact_re().finditer(text):
        kind = m.lastgroup or ""
        value = m.group(0)
        if kind == "airport" and (value in _NOT_AIRPORTS or not value.isupper()):
            continue
        if kind in ("reservation", "name") and not value[0].isupper():
            continue
        out.append((kind, value.lower() if kind == "product" else value, m.start(), m.end()))
    return out


def fact_multiset(text: str) -> Counter[tuple[str, str]]:
    """The `facts` of `text` as (type, lower-cased value) counts."""
    return Counter((k, v.lower()) for k, v, _, _ in facts(text))


def _canonical(kind: str, value: str) -> str:
    v = value.lower()
    if kind in ("money", "number"):
        try:
            return format(Decimal(v.lstrip("$").replace(",", "")).normalize(), "f")
        except InvalidOperation:
            return v
    if kind == "date":
        return re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", v)
    if kind == "product" and v.endswith("s") and v[:-1] in products():
        return v[:-1]
    return v


@dataclass(frozen=True)
class _Reply:
    status: bool | None
    values: frozenset[str]  # canonical fact values
    negations: int
    intent: frozenset[str]

    def differences(self, other: _Reply) -> list[str]:
        """What `other` (the prediction) gets wrong against self (the real reply)."""
        out = []
        if missing := self.values - other.values:
            out.append(MISSING_FACTS.format(values=", ".join(sorted(missing))))
        if extra := other.values - self.values:
            out.append(INVENTED_FACTS.format(values=", ".join(sorted(extra))))
        if other.negations != self.negations:
            out.append(NEGATIONS_DIFFER.format(real=self.negations, predicted=other.negations))
        if other.intent != self.intent:
            real, pred = self.intent - other.intent, other.intent - self.intent
            out.append(
                INTENT_DIFFERS.format(
                    real=", ".join(sorted(real)) or "none", predicted=", ".join(sorted(pred)) or "none"
                )
            )
        return out


def reply_values(text: str) -> frozenset[str]:
    """The canonical fact values a reply states (see the module doc)."""
    found = facts(text)
    values = {_canonical(kind, value) for kind, value, _, _ in found}
    taken = [(start, end) for _, _, start, end in found]

    def free(m: re.Match[str]) -> bool:
        return not any(s < m.end() and m.start() < e for s, e in taken)

    values.update(m.group(0).lower() for m in _EXTRA_ID_RE.finditer(text) if free(m))
    for m in _CAPITALISED_RE.finditer(text):
        if not free(m):
            continue
        words = m.group(0).split()
        while words and words[0].lower() in _NOT_NAME_WORDS:
            words.pop(0)
        if len(words) >= 2 or (len(words) == 1 and " " not in m.group(0)):
            values.add(" ".join(words).lower())
    return frozenset(values)


def _read_reply(text: str) -> _Reply:
    status, body = status_and_body(text)
    body = " ".join(unicodedata.normalize("NFKC", body).replace("\u2019", "'").split())
    intent = frozenset(m.lastgroup or "" for m in _INTENT_RE.finditer(body))
    return _Reply(status, reply_values(body), len(NEGATION_RE.findall(body)), intent)


read_reply = functools.lru_cache(maxsize=16384)(_read_reply)

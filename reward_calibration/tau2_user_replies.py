"""tau2 user replies made by rules from the tasks' user scenarios, and the rewrites the tau2 calibration scores.

A reply is what tau2's simulated customer says in one turn, in the first person, built from the task's own
`user_scenario.instructions` (second person: "You want to exchange ...", "You are mei_kovacs_8020 in zipcode
28236."): the reason for the call (`opening`, `details`), who the customer is (`identify`), what they do not know
(`unknown`), and a confirmation of the task's action (`confirm`). Sentences written for the simulator only ("If
the agent asks ...", "Do not ...") are left out. The facts a reply carries -- ids, zips, numbers, names, products,
airports, dates -- are found by `facts`.

Rewrites of a reply (each `None` when no rule applies):
- `paraphrase`: same facts and intent in other words (contractions, synonyms, greetings, sentence order); checked
  to keep every fact and every negation;
- `fact_swap`: one fact replaced by another of the same type from the tau2 data (another task's order id, zip,
  user id, a product of the retail catalogue, ...);
- `opposite`: the intent turned around (yes <-> no, want <-> do not want, exchange <-> return, ...).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from envs.tau2_tasks import get_tau2_task, list_tau2_tasks
from reward_calibration.tau2_task_texts import TaskText
from reward_score.tau2_facts import FACT_PATTERNS, NEGATION_RE, fact_multiset, facts, products

__all__ = [  # the fact readers are re-exported: the tau2 calibration and its tests read them from here
    "FACT_PATTERNS",
    "Reply",
    "fact_multiset",
    "fact_pools",
    "fact_swap",
    "facts",
    "keeps_facts",
    "load_replies",
    "opposite",
    "paraphrase",
    "products",
    "scenario_replies",
]

# -- replies from scenarios -------------------------------------------------------------------------------------

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
# Written for the simulator, never said to the agent.
_SIM_ONLY_RE = re.compile(
    r"^(if|when|whenever|do not|don't|never|always|only|make sure|you should|be |try |insist|ask |"
    r"for example|note|at the end|once |before |after |then |otherwise)|\bthe agent\b|\btool\b|###",
    re.IGNORECASE,
)
_PERSON = [  # second person -> first person, in this order
    (r"\byou are\b", "I am"),
    (r"\byou're\b", "I'm"),
    (r"\byou were\b", "I was"),
    (r"\byou've\b", "I've"),
    (r"\byou'd\b", "I'd"),
    (r"\byou'll\b", "I'll"),
    (r"\byourself\b", "myself"),
    (r"\byours\b", "mine"),
    (r"\byour\b", "my"),
    (r"\b(to|for|with|at|from|about|let|give|help|tell|call|contact|than) you\b", r"\1 me"),
    (r"\byou\b", "I"),
]
_CONFIRM_VERBS = ("exchange", "return", "cancel", "modify", "change", "book", "upgrade", "refund", "update", "add")


def first_person(text: str) -> str:
    """A scenario sentence ("You want to ...") as the customer says it ("I want to ...")."""
    out = text
    for pattern, repl in _PERSON:
        out = re.sub(pattern, lambda m, r=repl: _keep_case(m.group(0), m.expand(r)), out, flags=re.IGNORECASE)
    return re.sub(r"\bI am (\w+)'s\b", r"I am \1's", out)


def _keep_case(src: str, repl: str) -> str:
    return repl[0].upper() + repl[1:] if src[:1].isupper() else repl


def _sentences(text: str | None) -> list[str]:
    if not text:
        return []
    parts = _SENTENCE_RE.split(" ".join(str(text).split()))
    return [s.strip() for s in parts if s.strip() and not _SIM_ONLY_RE.search(s.strip())]


@dataclass(frozen=True)
class Reply(TaskText):
    """One reply of tau2's simulated customer: the turn it answers and its text."""

    turn: str  # opening | details | identify | unknown | confirm
    text: str


def scenario_replies(domain: str, task_id: str, split: str) -> list[Reply]:
    """The customer's replies for one tau2 task, from its user scenario."""
    ins = get_tau2_task(domain, task_id).user_scenario.instructions
    if isinstance(ins, str) or ins is None:
        return []
    reason = [first_person(s) for s in _sentences(ins.reason_for_call)]
    known = [first_person(s) for s in _sentences(ins.known_info)]
    unknown = [first_person(s) for s in _sentences(ins.unknown_info)]
    turns: list[tuple[str, str]] = []
    if reason:
        turns.append(("opening", f"Hi! {reason[0]}"))
    if len(reason) > 1:
        turns.append(("details", " ".join(reason[1:3])))
    if known:
        turns.append(("identify", " ".join(known)))
    if unknown:
        turns.append(("unknown", " ".join(unknown)))
    verb = next((v for v in _CONFIRM_VERBS if re.search(rf"\b{v}\b", " ".join(reason), re.IGNORECASE)), None)
    if verb:
        turns.append(("confirm", f"Yes, please go ahead with the {verb}. Thank you."))
    return [Reply(domain, task_id, split, turn, " ".join(text.split())) for turn, text in turns if len(text) > 8]


def load_replies(domains: tuple[str, ...], split: str) -> list[Reply]:
    """Every rule-made reply of tau2's `split` (train / test) of the `domains`, in task-file order."""
    return [r for d in domains for spec in list_tau2_tasks(d, split) for r in scenario_replies(d, spec.task_id, split)]


# -- facts ------------------------------------------------------------------------------------------------------
# The fact types (FACT_PATTERNS), their reader (`facts`) and the retail catalogue (`products`) are the reward's
# own: reward_score/tau2_facts.py, whose facts mode checks predicted user replies with them.


def fact_pools(replies: list[Reply]) -> dict[str, list[str]]:
    """Values of each fact type found in the replies (and the whole catalogue for products): swap sources."""
    pools: dict[str, set[str]] = {"product": set(products())}
    for r in replies:
        for kind, value, _, _ in facts(r.text):
            pools.setdefault(kind, set()).add(value)
    return {k: sorted(v) for k, v in pools.items()}


# -- rewrites ---------------------------------------------------------------------------------------------------

# (pattern, replacement): wording only, never a fact or a negation.
PARAPHRASE_RULES: list[tuple[str, str]] = [
    (r"\bI want to\b", "I would like to"),
    (r"\bI would like to\b", "I'd like to"),
    (r"\bI want\b", "I'd like"),
    (r"\bI am\b", "I'm"),
    (r"\bI'm\b", "I am"),
    (r"\bI do not\b", "I don't"),
    (r"\bI don't\b", "I do not"),
    (r"\bdo not\b", "don't"),
    (r"\bit is\b", "it's"),
    (r"\bI have\b", "I've got"),
    (r"\bI need to\b", "I have to"),
    (r"\bfigure out\b", "find out"),
    (r"\bremember\b", "recall"),
    (r"\bpretty sure\b", "fairly certain"),
    (r"\ba lot of\b", "lots of"),
    (r"\bupcoming\b", "next"),
    (r"\bbuy\b", "purchase"),
    (r"\bbought\b", "purchased"),
    (r"\bhelp\b", "assist"),
    (r"\bzipcode\b", "zip code"),
    (r"\bzip code\b", "postal code"),
    (r"\buser id\b", "user ID"),
    (r"\bplease go ahead\b", "please proceed"),
    (r"\bThank you\b", "Thanks a lot"),
    (r"\bHi!", "Hello there."),
    (r"\bbigger\b", "larger"),
    (r"\bcheaper\b", "less expensive"),
    (r"\bquickly\b", "fast"),
    (r"\bcurrently\b", "right now"),
    (r"\bjust\b", "only"),
    (r"\bbecause\b", "since"),
    (r"\bhowever\b", "but"),
]
# (pattern, replacement): one of them turns the intent around.
OPPOSITE_RULES: list[tuple[str, str]] = [
    (r"\bYes, please go ahead\b", "No, please do not go ahead"),
    (r"\bunable\b", "able"),
    (r"\bnot able\b", "able"),
    (r"\bI (?:do not|don't) want\b", "I want"),
    (r"\bI want\b", "I do not want"),
    (r"\bI would like\b", "I would not like"),
    (r"\bI (?:do not|don't) (remember|know|have)\b", r"I \1"),
    (r"\bI (remember|know|have)\b", r"I do not \1"),
    (r"\bI am not\b", "I am"),
    (r"\bI am (?=sure|certain|willing|happy|able|okay|ok|fine|satisfied|interested)", "I am not "),
    (r"\b(can|will|should)\b(?! not)", r"\1 not"),
    (r"\b(is|are) not working\b", r"\1 working"),
    (r"\b(is|are) working\b", r"\1 not working"),
    (r"\bexchange\b", "return"),
    (r"\breturn\b", "exchange"),
    (r"\bcancel\b", "keep"),
    (r"\bupgrade\b", "downgrade"),
    (r"\bbigger\b", "smaller"),
    (r"\bmore\b", "less"),
]


def _apply_some(text: str, rules: list[tuple[str, str]], rng: random.Random, want: int) -> tuple[str, int]:
    out, n = text, 0
    for pattern, repl in rng.sample(rules, len(rules)):
        if n >= want:
            break
        new = re.sub(pattern, repl, out, count=1)
        if new != out:
            out, n = new, n + 1
    return out, n


def keeps_facts(original: str, rewrite: str) -> bool:
    """Same facts (type and value) and as many negations: wording changed, meaning not."""
    return fact_multiset(original) == fact_multiset(rewrite) and len(NEGATION_RE.findall(original)) == len(
        NEGATION_RE.findall(rewrite)
    )


def paraphrase(text: str, rng: random.Random) -> str | None:
    """A rewrite with the same facts and intent in other words (>= 2 rule changes or a reordering), or None."""
    out, n = _apply_some(text, PARAPHRASE_RULES, rng, want=3)
    sents = _SENTENCE_RE.split(out)
    if len(sents) > 1 and not sents[0].startswith(("Hi", "Hello", "Yes", "No")):
        sents = sents[1:] + sents[:1]  # another order, same facts
        out, n = " ".join(sents), n + 1
    if n < 2 and not out.startswith(("Hi", "Hello")):
        out, n = f"Hello. {out}", n + 1
    if n < 2 and not out.rstrip().endswith(("Thanks.", "Thank you.")):
        out, n = f"{out.rstrip()} Thanks.", n + 1
    if out == text or not keeps_facts(text, out):
        return None
    return out


def fact_swap(text: str, pools: dict[str, list[str]], rng: random.Random) -> tuple[str, str, str] | None:
    """`text` with one fact replaced by another value of its type: (rewrite, old, new), or None."""
    found = facts(text)
    for kind, value, start, end in rng.sample(found, len(found)):
        others = [v for v in pools.get(kind, []) if v.lower() != value.lower()]
        if not others:
            continue
        new = rng.choice(others)
        if kind == "product" and text[start].isupper():
            new = new.title()
        return text[:start] + new + text[end:], value, new
    return None


def opposite(text: str, rng: random.Random) -> str | None:
    """`text` with its intent turned around by one rule, or None when no rule applies."""
    out, n = _apply_some(text, OPPOSITE_RULES, rng, want=1)
    return out if n else None

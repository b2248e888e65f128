"""Presentation a model wraps around an observation, taken off before the state reader reads the sentences inside.

Chat models hand back a predicted observation in a code fence, in quotation marks, with an emoji before each
sentence, as a markdown table, or as questions answered in turn. None of these says anything about the world, so
`alfworld_state` reads what they wrap (all on normalised, case-folded text):

- `unwrap`: lines of a code fence ("```", "```text") dropped; pictographic symbols (emoji) dropped, except the marks
  of denial ("❌", "✗", "🚫", ...), which read as "not"; a markdown table whose column headers say what each column
  holds, from a closed list (what is seen there; the open/closed state), said row by row as sentences -- a table with
  any other header is left as it is, and so is unreadable;
- `unquote`: quotation marks that open the first line and close the last one dropped (applied to the whole text and
  again to the body above the task-status line); a quote anywhere else stays;
- `answer_questions`: a question followed by its answer said as one statement -- the answer put in the question's
  gap ("what do you see on sofa 1? box 3." -> "on sofa 1, you see box 3."; "is drawer 10 closed? yes." -> "drawer 10
  is closed."; "no" -> "drawer 10 is not closed.", a negation). A question without an answer, or with an answer that
  fits no gap ("maybe"), is left as it is: it states nothing, and the reader finds it unreadable.
"""

from __future__ import annotations

import re
import unicodedata

_DENIAL_MARKS = frozenset("❌✗✘✖❎🚫⛔🙅")
_FENCE_RE = re.compile(r"(?:```|~~~)[a-z0-9_+-]*")
_QUOTES = {'"': '"', "'": "'", "“": "”", "«": "»", "„": "“", "”": "”"}


def _symbols_dropped(line: str) -> str:
    out = []
    for ch in line:
        if ch in _DENIAL_MARKS:
            out.append(" not ")
        elif unicodedata.category(ch) == "So" or "\ufe00" <= ch <= "\ufe0f" or "\U0001f3fb" <= ch <= "\U0001f3ff":
            out.append(" ")
        else:
            out.append(ch)
    return " ".join("".join(out).split())


# -- markdown tables --------------------------------------------------------------------------------------------
_ROW_RE = re.compile(r"\|(.*)\|")
_RULE_RE = re.compile(r"\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?")
_SEEN_HEAD = re.compile(
    r"(?:what )?(?:you see|you can see|is seen|you find|is there|can be seen)|seen|visible(?: objects| items)?"
    r"|contents?|objects?|items?|things?|what is (?:there|on it|in it|inside)"
)
_STATE_HEAD = re.compile(r"state|status|condition|open(?:\s*/\s*|\s+or\s+)closed")
_PLACE = re.compile(r"(?:on|in|inside|on top of|next to|around|near)\b.*")


def _cells(line: str) -> list[str] | None:
    m = _ROW_RE.fullmatch(line)
    return [c.strip() for c in m.group(1).split("|")] if m else None


def _row_sentences(heads: list[str], cells: list[str]) -> list[str] | None:
    """One table row as sentences, the first cell naming the place; None when a header or a cell cannot be said."""
    if len(cells) != len(heads) or not cells[0]:
        return None
    place, out = cells[0], []
    for head, cell in zip(heads[1:], cells[1:], strict=True):
        if not cell:
            return None
        if _SEEN_HEAD.fullmatch(head):
            out.append(f"{place}, you see {cell}." if _PLACE.fullmatch(place) else f"{place} holds {cell}.")
        elif _STATE_HEAD.fullmatch(head):
            out.append(f"{place} is {cell}.")
        else:
            return None
    return out


def _tables_said(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        heads = _cells(lines[i])
        if heads is None or i + 1 >= len(lines) or not _RULE_RE.fullmatch(lines[i + 1]):
            out.append(lines[i])
            i += 1
            continue
        j, said = i + 2, []
        while j < len(lines) and (cells := _cells(lines[j])) is not None:
            if j + 1 < len(lines) and _RULE_RE.fullmatch(lines[j + 1]):  # the header of the next table
                break
            sentences = _row_sentences(heads, cells)
            said.append(" ".join(sentences) if sentences else lines[j])
            j += 1
        if said and all(s != lines[i + 2 + k] for k, s in enumerate(said)):
            out.extend(said)
        else:  # a header that says nothing known, or a row that cannot be said: the table stays as written
            out.extend(lines[i:j])
        i = j
    return out


def unwrap(lines: list[str]) -> list[str]:
    """Lines of normalised text with fences, emoji and markdown tables taken off (see the module docstring)."""
    kept = [s for line in lines if (s := _symbols_dropped(line)) and not _FENCE_RE.fullmatch(s)]
    return _tables_said(kept)


def unquote(lines: list[str]) -> list[str]:
    """`lines` without the quotation marks around all of them (the closing one may come before a final stop)."""
    if not lines:
        return lines
    first, last = lines[0], lines[-1]
    close = _QUOTES.get(first[:1])
    if close is None or len(lines) == 1 and len(first) < 2:
        return lines
    tail = last.rstrip(".")
    if not tail.endswith(close):
        return lines
    if len(lines) == 1:
        inner = first[1:].rstrip(".")[:-1]
        return [inner.strip()] if inner.strip() else []
    inner = [first[1:].strip(), *lines[1:-1], tail[:-1].strip()]
    return [line for line in inner if line]


# -- questions answered in turn ---------------------------------------------------------------------------------
_E = r"[a-z]+ \d+"
_LOC = rf"(?:on|in|inside|on top of|next to|around|near) (?:{_E}|it|you)"
_PREP = r"(?:from|using|with|in|on|to|into|onto|inside|at)"
# (question, the statement its answer {a} completes); the question's groups fill the statement too
_GAPS = tuple(
    (re.compile(rf"{q}\?"), s)
    for q, s in (
        (rf"what (?:is|are|do you see|can you see|do you find) (?P<loc>{_LOC})", "{loc}, you see {a}."),
        (r"what (?:is|are) you (?P<v>carrying|holding|facing)", "you are {v} {a}."),
        (r"what (?:happens|happened|is result)", "{a} happens."),
        (rf"what do you (?P<v>[a-z]+(?: up| down)?) (?P<rest>{_PREP} (?:{_E}|it))", "you {v} {a} {rest}."),
        (rf"where do you (?P<v>[a-z]+(?: up| down)?) (?P<o>{_E})", "you {v} {o} {a}."),
        (r"where are you", "you are {a}."),
        (rf"what (?:state|condition) is (?P<e>{_E}|it) in", "{e} is {a}."),
        (rf"(?:is|are) (?P<e>{_E}|it) (?P<p>[a-z]+)", "{e} is {p}."),
    )
)
_YES_RE = re.compile(r"yes(?:,? (?P<rest>.+))?")
_NO_RE = re.compile(r"no\b.*")
_ITS_STATE_RE = re.compile(r"(?:it|they) (?:is|are) (?P<state>[a-z ]+)")
_CLAUSE_RE = re.compile(rf"(?:there is|there are|it is|you|nothing|{_E}) .+")
_QA_RE = re.compile(r"(?P<q>[^.!?\s][^.!?]*\?)\s+(?P<a>[^.!?]+)(?:[.!]|$)")


def _answered(m: re.Match[str]) -> str:
    q, a = m["q"].strip(), m["a"].strip()
    q = re.sub(r"^what's\b", "what is", q)
    for pattern, statement in _GAPS:
        if not (g := pattern.fullmatch(q)):
            continue
        parts = g.groupdict()
        if "p" in parts:  # a yes-or-no question
            if _NO_RE.fullmatch(a):
                return f"{parts['e']} is not {parts['p']}."
            if not (yes := _YES_RE.fullmatch(a)):
                return m.group(0)
            rest = yes["rest"]
            said = statement.format(**parts)
            return said if rest is None else f"{said} {rest}."
        if "e" in parts and (state := _ITS_STATE_RE.fullmatch(a)):
            a = state["state"]
        return statement.format(a=a, **parts)
    if _CLAUSE_RE.fullmatch(a):  # a whole statement answers: "anything special about x? there is nothing ..."
        named = re.findall(_E, q)
        return re.sub(r"\bit\b", named[0], a) + "." if len(named) == 1 else f"{a}."
    return m.group(0)


def answer_questions(text: str) -> str:
    """`text` (cleaned, case folded) with each question-and-answer pair said as one statement."""
    return _QA_RE.sub(_answered, text) if "?" in text else text

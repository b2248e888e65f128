"""Where a predicted tau2 tool response states other facts than the real one: JSON compared as data, plain text
after normalising (the tool-response half of `tau2_facts.check`; the module doc there says how it is used).

The real response is JSON (tau2 serialises tool results with `json.dumps`) or plain text ("Error: Order not found",
"Transfer successful", a user id, a telecom device readout).
- JSON: both sides are parsed and compared as data -- key order, whitespace, indentation, escapes and number
  spelling (10 vs 10.0 vs 1e1) are free; any other value, a missing or extra key, another array length or order
  differs, each reason naming the JSON path and the values ("$.items[0].price: 54.04 != 45.04", real first).
  Arrays are ordered: tau2 returns them in the database's order (order items, flight segments, payment history,
  search results), so a reordered array states another list. Strings compare after `normalise`; a bool is not a
  number (true != 1). A prediction that does not parse when the real response is JSON differs (`NOT_JSON`).
- Plain text: the texts must be equal after `normalise` (NFKC, format characters removed, whitespace collapsed);
  a prediction written as a JSON string literal ("\\"Transfer successful\\"") is read as its text.
A prediction wrapped in one Markdown code fence (```json ... ```) is read inside it. Task-status lines are split
off first (`answer_format.status_and_body`). Parsing the real response is cached (`read_tool_response`).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from reward_score.answer_format import status_and_body

# -- reasons: one per difference, joined with "; " into the result's `facts` field ------------------------------
NOT_JSON = "not JSON ({error})"  # the real tool response is JSON, the prediction does not parse
TEXT_DIFFERS = "text differs at char {at}: {real} != {predicted}"  # plain-text tool responses
VALUE_DIFFERS = "{path}: {real} != {predicted}"  # a JSON value (or its type) differs
KEY_MISSING = "{path}: missing"  # a key of the real JSON object is not in the prediction
KEY_EXTRA = "{path}: extra key"  # the prediction's object has a key the real one has not
LENGTH_DIFFERS = "{path}: {real} items != {predicted}"  # arrays of other lengths

MAX_DIFFERENCES = 5  # reasons kept per sample; the rest are counted (tau2_facts.check)
_SHOW_CHARS = 40  # longest value shown in a reason

_FENCE_RE = re.compile(r"\A```[\w-]*[ \t]*\n(.*)\n[ \t]*```\Z", re.DOTALL)


def normalise(text: str) -> str:
    """NFKC, Unicode format characters (zero-width spaces, joiners, BOM, soft hyphens) removed, whitespace runs
    collapsed to one space, ends stripped."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return " ".join(text.split())


def _show(text: str) -> str:
    """`text` cut to `_SHOW_CHARS` characters for a reason."""
    return text if len(text) <= _SHOW_CHARS else text[: _SHOW_CHARS - 3] + "..."


_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
JsonPath = tuple[str | int, ...]


def show_path(path: JsonPath) -> str:
    """A JSON path as the reasons name it: $.items[0].price, $["switch type"]."""
    out = ["$"]
    for p in path:
        if isinstance(p, int):
            out.append(f"[{p}]")
        elif _IDENTIFIER_RE.match(p):
            out.append(f".{p}")
        else:
            out.append(f"[{json.dumps(p, ensure_ascii=False)}]")
    return "".join(out)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _shown(v: Any) -> str:
    if isinstance(v, dict):
        return "{...}" if v else "{}"
    if isinstance(v, list):
        return "[...]" if v else "[]"
    return _show(json.dumps(v, ensure_ascii=False))


def json_differences(real: Any, predicted: Any, limit: int = MAX_DIFFERENCES + 1) -> list[str]:
    """Where parsed JSON `predicted` differs from `real` as data (see the module doc), at most `limit` reasons."""
    out: list[str] = []
    _json_diff(real, predicted, (), out, limit)
    return out


def _value_differs(path: JsonPath, real: Any, pred: Any) -> str:
    return VALUE_DIFFERS.format(path=show_path(path), real=_shown(real), predicted=_shown(pred))


def _json_diff(real: Any, pred: Any, path: JsonPath, out: list[str], limit: int) -> None:
    """Appends to `out` where `pred` differs from `real`; paths are rendered only for a difference."""
    if len(out) >= limit:
        return
    if isinstance(real, dict) and isinstance(pred, dict):
        for key, value in real.items():
            if key not in pred:
                out.append(KEY_MISSING.format(path=show_path((*path, key))))
            else:
                _json_diff(value, pred[key], (*path, key), out, limit)
            if len(out) >= limit:
                return
        out.extend(KEY_EXTRA.format(path=show_path((*path, k))) for k in pred if k not in real)
    elif isinstance(real, list) and isinstance(pred, list):
        if len(real) != len(pred):
            out.append(LENGTH_DIFFERS.format(path=show_path(path), real=len(real), predicted=len(pred)))
            return
        for i, (a, b) in enumerate(zip(real, pred, strict=True)):
            _json_diff(a, b, (*path, i), out, limit)
    elif isinstance(real, str) and isinstance(pred, str):
        if real != pred and normalise(real) != normalise(pred):
            out.append(_value_differs(path, real, pred))
    elif _is_number(real) and _is_number(pred):
        if real != pred:
            out.append(_value_differs(path, real, pred))
    elif type(real) is not type(pred) or real != pred:  # bool, null, or another type
        out.append(_value_differs(path, real, pred))


@dataclass(frozen=True)
class ToolResponseFacts:
    status: bool | None
    data: Any  # the parsed JSON (never a str); None when `is_json` is False
    is_json: bool
    text: str  # normalised text: the body, or a JSON string literal's content
    error: str  # why the body is not JSON ("" when it is)

    def differences(self, other: ToolResponseFacts) -> list[str]:
        """What `other` (the prediction) gets wrong against self (the real response)."""
        if self.is_json:
            if not other.is_json:
                return [NOT_JSON.format(error=other.error)]
            return json_differences(self.data, other.data)
        if other.text == self.text:
            return []
        at = next((i for i, (a, b) in enumerate(zip(self.text, other.text, strict=False)) if a != b), None)
        at = min(len(self.text), len(other.text)) if at is None else at
        lo = max(0, at - 10)
        return [TEXT_DIFFERS.format(at=at, real=_show(self.text[lo:]), predicted=_show(other.text[lo:]))]


def tool_response_facts(text: str) -> ToolResponseFacts:
    status, body = status_and_body(text)
    fenced = _FENCE_RE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as err:  # JSONDecodeError is a ValueError; so are over-long integers
        error = (str(err) if isinstance(err, ValueError) else "nested too deep") if body else "empty"
        return ToolResponseFacts(status, None, False, normalise(body), error[:80])
    if isinstance(data, str):
        return ToolResponseFacts(status, None, False, normalise(data), "a JSON string")
    return ToolResponseFacts(status, data, True, "", "")


# Ground truths repeat across a GRPO group and across steps. Parsed JSON takes ~10x its text in memory, so fewer
# entries than the ALFWorld fact cache keeps.
read_tool_response = functools.lru_cache(maxsize=4096)(tool_response_facts)

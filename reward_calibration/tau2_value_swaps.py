"""One fact of a tau2 tool response swapped for a wrong one of its kind (the negatives of the tau2 facts calibration).

`walk` visits every value of a parsed response with its JSON path and key; `leaf_kind` says which fact a scalar
value is -- an id, an amount, a status, a date or text, by its key and its shape; `replace_leaf` makes a wrong
value of that kind (another id of the key from the tau2 data, else one digit changed; digits swapped in a number;
another status the key takes, a bool flipped; a date moved by 1-5 days); `text_fact_change` does the same to one
fact of a plain-text response. Which value of which response to change is reward_calibration/tau2_tool_responses.py's.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import re
from collections.abc import Iterator
from typing import Any

from reward_score.tau2_tool_facts import JsonPath

# Keys whose string values are statuses or categories (a wrong one is `wrong_status`); bools are statuses too.
STATUS_KEYS = frozenset(
    {"status", "transaction_type", "source", "flight_type", "cabin", "insurance", "membership", "type", "gender"}
)
# Keys whose string values (or list elements) are ids, beside any key named id / *_id / *_ids.
ID_KEYS = frozenset({"orders", "reservations", "flight_number", "last_four", "phone_number", "payment_id"})
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")
ID_RE = re.compile(
    r"#W\d{7}|[a-z]+(?:_[a-z]+)*_\d+|[A-Z]+\d+[A-Z0-9]*|\d{6,}|(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6}"
)
# Facts in plain-text responses, left to right: dates, ids, numbers, status words.
_STATUS_WORDS = {
    "ON": "OFF",
    "OFF": "ON",
    "enabled": "disabled",
    "disabled": "enabled",
    "Enabled": "Disabled",
    "Disabled": "Enabled",
    "Excellent": "Poor",
    "Good": "Excellent",
    "Fair": "Good",
    "Poor": "Fair",
    "Active": "Suspended",
    "Suspended": "Active",
    "granted": "removed",
    "removed": "granted",
    "connected": "disconnected",
    "disconnected": "connected",
    "successfully": "unsuccessfully",
    "True": "False",
    "False": "True",
}
TEXT_FACT_RE = re.compile(
    r"(?P<wrong_date>\b\d{4}-\d{2}-\d{2}\b)"
    r"|(?P<wrong_id>#W\d{7}\b|\b[a-z]+(?:_[a-z]+)*_\d+\b|\b[A-Z]+\d+[A-Z0-9]*\b|\b\d{6,}\b)"
    r"|(?P<wrong_amount>\b\d+(?:\.\d+)?\b)"
    r"|(?P<wrong_status>\b(?:" + "|".join(_STATUS_WORDS) + r")\b)"
)


def walk(data: Any, path: JsonPath = (), key: str | None = None) -> Iterator[tuple[JsonPath, str | None, Any]]:
    """(path, key name, value) of every value, containers first; a list's elements carry the list's key."""
    yield path, key, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from walk(v, (*path, k), k)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from walk(v, (*path, i), key)


def get_at(data: Any, path: JsonPath) -> Any:
    for p in path:
        data = data[p]
    return data


def set_at(data: Any, path: JsonPath, value: Any) -> Any:
    """A copy of `data` with the value at `path` replaced."""
    if not path:
        return value
    out = copy.deepcopy(data)
    get_at(out, path[:-1])[path[-1]] = value
    return out


def leaf_kind(key: str | None, value: Any) -> str | None:
    """Which one-fact change a scalar value takes: wrong_id / amount / status / date / text; None for null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "wrong_status"
    if isinstance(value, int | float):
        return "wrong_amount"
    if not isinstance(value, str) or not value:
        return None
    if _DATE_RE.match(value):
        return "wrong_date"
    if key in STATUS_KEYS:
        return "wrong_status"
    if key is not None and (key == "id" or key.endswith(("_id", "_ids")) or key in ID_KEYS):
        return "wrong_id"
    if ID_RE.fullmatch(value):
        return "wrong_id"
    if _NUMBER_RE.fullmatch(value):
        return "wrong_amount"
    return "wrong_text"


def _other_number(x: float | int, rng: random.Random) -> float | int:
    """Another number of the same type and about the same size: two digits swapped or one digit changed."""
    text = str(x)
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    options = set()
    for a, b in zip(digits, digits[1:], strict=False):
        if text[a] != text[b] and b == a + 1:
            options.add(text[:a] + text[b] + text[a] + text[b + 1 :])
    i = rng.choice(digits)
    options.add(text[:i] + rng.choice([d for d in "0123456789" if d != text[i]]) + text[i + 1 :])
    choice = rng.choice(sorted(options))
    value = type(x)(float(choice)) if isinstance(x, float) else int(choice)
    return value if value != x else x + 1


def other_id(value: str, rng: random.Random) -> str:
    digits = [i for i, c in enumerate(value) if c.isdigit()]
    if digits:
        i = rng.choice(digits)
        return value[:i] + rng.choice([d for d in "0123456789" if d != value[i]]) + value[i + 1 :]
    letters = [i for i, c in enumerate(value) if c.isalpha()]
    if not letters:
        return value + "1"
    i = rng.choice(letters)
    c = value[i]
    new = rng.choice([x for x in "ABCDEFGHJKLMNPQRSTUVWXYZ" if x != c.upper()])
    return value[:i] + (new if c.isupper() else new.lower()) + value[i + 1 :]


def _other_date(value: str, rng: random.Random) -> str:
    day = dt.date.fromisoformat(value[:10]) + dt.timedelta(days=rng.choice([-5, -3, -2, -1, 1, 2, 3, 5]))
    return day.isoformat() + value[10:]


def _from_pool(pool: list[str], old: Any, rng: random.Random) -> Any | None:
    """Another value of the pool (stored as JSON) than `old`, of the same type, or None."""
    others = [json.loads(v) for v in pool]
    others = [v for v in others if v != old and type(v) is type(old)]
    return rng.choice(others) if others else None


def replace_leaf(kind: str, key: str | None, old: Any, pools: dict[str, list[Any]], rng: random.Random) -> Any:
    pooled = _from_pool(pools.get(f"value:{key}", []), old, rng)
    if kind == "wrong_status":
        return (not old) if isinstance(old, bool) else pooled
    if kind == "wrong_amount":
        if isinstance(old, str):
            return str(_other_number(float(old) if "." in old else int(old), rng))
        return _other_number(old, rng)
    if kind == "wrong_date":
        return _other_date(old, rng)
    if kind == "wrong_id":
        return pooled if pooled is not None and rng.random() < 0.5 else other_id(old, rng)
    return pooled  # wrong_text


def text_fact_change(text: str, kind: str, pools: dict[str, list[Any]], rng: random.Random) -> tuple[str, str] | None:
    found = [m for m in TEXT_FACT_RE.finditer(text) if m.lastgroup == kind]
    for m in rng.sample(found, len(found)):
        old = m.group(0)
        if kind == "wrong_status":
            new = _STATUS_WORDS[old]
        elif kind == "wrong_date":
            new = _other_date(old, rng)
        elif kind == "wrong_amount":
            new = str(_other_number(float(old) if "." in old else int(old), rng))
        else:
            others = [v for v in pools.get("text:wrong_id", []) if v != old and _same_shape(v, old)]
            new = rng.choice(others) if others and rng.random() < 0.5 else other_id(old, rng)
        if new != old:
            return text[: m.start()] + new + text[m.end() :], f"{old!r} -> {new!r}"
    return None


def _same_shape(a: str, b: str) -> bool:
    """Ids of one kind: the same letters / digits / underscores pattern (mei_kovacs_8020 ~ yusuf_rossi_9620)."""

    def shape(v: str) -> str:
        return re.sub(r"[A-Za-z]+", "a", re.sub(r"\d+", "0", v))

    return shape(a) == shape(b)

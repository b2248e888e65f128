"""tau2 tool responses made offline by tau2's own environments, and the rewrites the tau2 facts calibration scores.

Responses. For every task of a tau2 split (retail, airline, telecom) a fresh domain environment
(`registry.get_env_constructor(domain)()`) is put in the task's initial state and replays the task's gold tool
calls (`evaluation_criteria.actions`: the agent's tools and, in telecom, the customer's device tools) in order;
each call's `ToolMessage.content` is one response -- what the world-model dataset holds as the ground truth of a
tool-call step (data_prep.wm_triplets keeps tool responses as they are): JSON records (orders, users,
reservations, products, flight searches), plain numbers ("8276.23"), plain text ("Transfer successful",
"mei_kovacs_8020", telecom device readouts) and tau2's errors ("Error: Order not found"). No network, no LLM.

Rewrites of a response, each None where no rule applies:
- positives, the same data: `exact`; JSON re-serialised -- `sorted_keys`, `indented` (indent 2), `compact`
  (no spaces), `shuffled` (random key order at every level, another indentation, non-ASCII unescaped),
  `number_format` (integers written as floats, 166 -> 166.0); plain text `respaced` (other whitespace runs and
  line breaks, a zero-width space). A re-serialisation equal to the response's own text is left out;
- negatives, one fact changed (`one_fact_change`): `wrong_id` (an id value or id-named key: another id of that
  key from the tau2 data, else one digit changed), `wrong_amount` (a number: digits swapped or one changed),
  `wrong_status` (a status, cabin, source, ... value: another value that key takes in the data; a bool flipped;
  ON <-> OFF in text), `wrong_date` (moved by 1-5 days), `wrong_text` (a name, address, option: another value of
  that key), `item_dropped` / `item_added` (an array loses one element / gains one from the same key elsewhere,
  or a copy), `key_dropped` (an object loses one key); and `other_call` -- another response of the same domain,
  of the same tool where there is one.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import random
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from reward_score.tau2_facts import JsonPath, show_path

POSITIVE_KINDS = ("exact", "sorted_keys", "indented", "compact", "shuffled", "number_format", "respaced")
FACT_KINDS = (
    "wrong_id",
    "wrong_amount",
    "wrong_status",
    "wrong_date",
    "wrong_text",
    "item_dropped",
    "item_added",
    "key_dropped",
)
NEGATIVE_KINDS = (*FACT_KINDS, "other_call")
KINDS = (*POSITIVE_KINDS, *NEGATIVE_KINDS)

# Keys whose string values are statuses or categories (a wrong one is `wrong_status`); bools are statuses too.
STATUS_KEYS = frozenset(
    {"status", "transaction_type", "source", "flight_type", "cabin", "insurance", "membership", "type", "gender"}
)
# Keys whose string values (or list elements) are ids, beside any key named id / *_id / *_ids.
ID_KEYS = frozenset({"orders", "reservations", "flight_number", "last_four", "phone_number", "payment_id"})
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")
_ID_RE = re.compile(
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
_TEXT_FACT_RE = re.compile(
    r"(?P<wrong_date>\b\d{4}-\d{2}-\d{2}\b)"
    r"|(?P<wrong_id>#W\d{7}\b|\b[a-z]+(?:_[a-z]+)*_\d+\b|\b[A-Z]+\d+[A-Z0-9]*\b|\b\d{6,}\b)"
    r"|(?P<wrong_amount>\b\d+(?:\.\d+)?\b)"
    r"|(?P<wrong_status>\b(?:" + "|".join(_STATUS_WORDS) + r")\b)"
)


@dataclass(frozen=True)
class ToolResponse:
    domain: str
    task_id: str
    split: str  # tau2's split of the task: train or test
    call: int  # index of the gold call in the task
    tool: str
    text: str

    @property
    def key(self) -> str:
        return f"{self.domain}/{self.task_id}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def task_responses(domain: str, task_id: str, split: str) -> list[ToolResponse]:
    """The responses of one tau2 task's gold tool calls, replayed in order on the task's initial state."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before tau2 imports litellm
    from loguru import logger
    from tau2.data_model.message import ToolCall
    from tau2.registry import registry

    from envs.tau2_tasks import get_tau2_task

    logger.disable("tau2")  # tau2 logs every tool response at DEBUG
    task = get_tau2_task(domain, task_id)
    env = registry.get_env_constructor(domain)()
    initial = task.initial_state
    env.set_state(
        initialization_data=initial.initialization_data if initial else None,
        initialization_actions=initial.initialization_actions if initial else None,
        message_history=[],
    )
    out = []
    actions = task.evaluation_criteria.actions if task.evaluation_criteria else None
    for i, act in enumerate(actions or []):
        call = ToolCall(id=f"call_{i}", name=act.name, arguments=dict(act.arguments), requestor=act.requestor)
        out.append(ToolResponse(domain, task_id, split, i, act.name, env.get_response(call).content or ""))
    return out


def load_responses(domains: tuple[str, ...], split: str) -> list[ToolResponse]:
    """Every gold-call response of tau2's `split` (train / test) of the `domains`, in task-file order."""
    from envs.tau2_tasks import list_tau2_tasks

    return [r for d in domains for spec in list_tau2_tasks(d, split) for r in task_responses(d, spec.task_id, split)]


def unique_responses(responses: list[ToolResponse], exclude: set[str] = frozenset()) -> list[ToolResponse]:
    """First response of each text, without the texts in `exclude`."""
    seen, out = set(exclude), []
    for r in responses:
        if r.text not in seen:
            seen.add(r.text)
            out.append(r)
    return out


# -- JSON walking ----------------------------------------------------------------------------------------------


def parse_json(text: str) -> tuple[bool, Any]:
    """(True, data) for a JSON response that is not a bare string; (False, text) otherwise (a JSON string literal
    gives its content)."""
    try:
        data = json.loads(text)
    except ValueError:
        return False, text
    return (False, data) if isinstance(data, str) else (True, data)


def walk(data: Any, path: JsonPath = (), key: str | None = None) -> Iterator[tuple[JsonPath, str | None, Any]]:
    """(path, key name, value) of every value, containers first; a list's elements carry the list's key."""
    yield path, key, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from walk(v, (*path, k), k)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from walk(v, (*path, i), key)


def _get(data: Any, path: JsonPath) -> Any:
    for p in path:
        data = data[p]
    return data


def _set(data: Any, path: JsonPath, value: Any) -> Any:
    """A copy of `data` with the value at `path` replaced."""
    if not path:
        return value
    out = copy.deepcopy(data)
    _get(out, path[:-1])[path[-1]] = value
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
    if _ID_RE.fullmatch(value):
        return "wrong_id"
    if _NUMBER_RE.fullmatch(value):
        return "wrong_amount"
    return "wrong_text"


def value_pools(responses: list[ToolResponse]) -> dict[str, list[Any]]:
    """Swap sources from all responses: "value:<key>" -> scalar values seen at that key, "items:<key>" -> list
    elements (as JSON) seen under that key, "text:<kind>" -> facts of that kind in plain-text responses."""
    pools: dict[str, set[Any]] = {}
    for r in responses:
        is_json, data = parse_json(r.text)
        if not is_json:
            for m in _TEXT_FACT_RE.finditer(data):
                pools.setdefault(f"text:{m.lastgroup}", set()).add(m.group(0))
            continue
        for _, key, value in walk(data):
            if isinstance(value, list):
                for item in value:
                    pools.setdefault(f"items:{key}", set()).add(json.dumps(item, sort_keys=True))
            elif not isinstance(value, dict) and value is not None and key is not None:
                pools.setdefault(f"value:{key}", set()).add(json.dumps(value))
            if isinstance(value, dict):
                for k in value:
                    if _ID_RE.fullmatch(k):
                        pools.setdefault(f"idkey:{key}", set()).add(k)
    return {k: sorted(v) for k, v in pools.items()}


# -- positives -------------------------------------------------------------------------------------------------


def _shuffle(data: Any, rng: random.Random) -> Any:
    if isinstance(data, dict):
        keys = list(data)
        rng.shuffle(keys)
        return {k: _shuffle(data[k], rng) for k in keys}
    if isinstance(data, list):
        return [_shuffle(v, rng) for v in data]
    return data


def _ints_as_floats(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _ints_as_floats(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_ints_as_floats(v) for v in data]
    return float(data) if isinstance(data, int) and not isinstance(data, bool) else data


def _respaced(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    out = words[0]
    for w in words[1:]:
        out += rng.choice([" ", " ", "  ", "\n", " \t"]) + w
    cut = rng.randrange(len(out) + 1)
    return f"{out[:cut]}\u200b{out[cut:]}\n"


def positives(text: str, rng: random.Random) -> dict[str, str]:
    """The same response written otherwise (see the module doc); re-serialisations equal to `text` left out."""
    is_json, data = parse_json(text)
    out = {"exact": text}
    if is_json:
        made = {
            "sorted_keys": json.dumps(data, sort_keys=True),
            "indented": json.dumps(data, indent=2),
            "compact": json.dumps(data, separators=(",", ":")),
            "shuffled": json.dumps(
                _shuffle(data, rng), indent=rng.choice([None, 1, 4, "\t"]), ensure_ascii=False, separators=None
            ),
            "number_format": json.dumps(_ints_as_floats(data)),
        }
        out.update({k: v for k, v in made.items() if v != text})
    else:
        out["respaced"] = _respaced(text, rng)
    return out


# -- negatives -------------------------------------------------------------------------------------------------


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


def _other_id(value: str, rng: random.Random) -> str:
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


def _replace_leaf(kind: str, key: str | None, old: Any, pools: dict[str, list[Any]], rng: random.Random) -> Any:
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
        return pooled if pooled is not None and rng.random() < 0.5 else _other_id(old, rng)
    return pooled  # wrong_text


def one_fact_change(text: str, kind: str, pools: dict[str, list[Any]], rng: random.Random) -> tuple[str, str] | None:
    """`text` with one fact of `kind` changed: (rewrite, what changed), or None when `text` has no such fact."""
    is_json, data = parse_json(text)
    if not is_json:
        return _text_change(data, kind, pools, rng)
    nodes = list(walk(data))
    if kind in ("item_dropped", "item_added", "key_dropped"):
        return _structure_change(data, kind, nodes, pools, rng)
    leaves = [(p, k, v) for p, k, v in nodes if not isinstance(v, dict | list) and leaf_kind(k, v) == kind]
    id_keys = [(p, k) for p, _, v in nodes if isinstance(v, dict) for k in v if _ID_RE.fullmatch(k)]
    targets: list[Any] = [("leaf", x) for x in leaves]
    if kind == "wrong_id":
        targets += [("key", x) for x in id_keys]
    for what, target in rng.sample(targets, len(targets)):
        if what == "key":
            path, old_key = target
            parent = _get(data, path)
            new_key = _other_id(old_key, rng)
            if new_key in parent:
                continue
            renamed = {new_key if k == old_key else k: v for k, v in parent.items()}
            return json.dumps(_set(data, path, renamed)), f"{show_path((*path, old_key))} key -> {new_key}"
        path, key, old = target
        new = _replace_leaf(kind, key, old, pools, rng)
        if new is None or new == old or (type(new) is not type(old) and not isinstance(old, bool)):
            continue
        return json.dumps(_set(data, path, new)), f"{show_path(path)}: {json.dumps(old)} -> {json.dumps(new)}"
    return None


def _structure_change(
    data: Any, kind: str, nodes: list[tuple[JsonPath, str | None, Any]], pools: dict[str, list[Any]], rng: random.Random
) -> tuple[str, str] | None:
    if kind == "key_dropped":
        objects = [(p, v) for p, _, v in nodes if isinstance(v, dict) and v]
        if not objects:
            return None
        path, obj = rng.choice(objects)
        key = rng.choice(list(obj))
        return json.dumps(_set(data, path, {k: v for k, v in obj.items() if k != key})), show_path((*path, key))
    lists = [(p, k, v) for p, k, v in nodes if isinstance(v, list)]
    if kind == "item_dropped":
        lists = [x for x in lists if x[2]]
        if not lists:
            return None
        path, _, items = rng.choice(lists)
        i = rng.randrange(len(items))
        return json.dumps(_set(data, path, items[:i] + items[i + 1 :])), f"{show_path((*path, i))} dropped"
    for path, key, items in rng.sample(lists, len(lists)):
        present = {json.dumps(x, sort_keys=True) for x in items}
        new = [json.loads(x) for x in pools.get(f"items:{key}", []) if x not in present]
        if not new and not items:
            continue
        item = rng.choice(new) if new else copy.deepcopy(rng.choice(items))
        i = rng.randrange(len(items) + 1)
        return json.dumps(_set(data, path, [*items[:i], item, *items[i:]])), f"{show_path((*path, i))} added"
    return None


def _text_change(text: str, kind: str, pools: dict[str, list[Any]], rng: random.Random) -> tuple[str, str] | None:
    found = [m for m in _TEXT_FACT_RE.finditer(text) if m.lastgroup == kind]
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
            new = rng.choice(others) if others and rng.random() < 0.5 else _other_id(old, rng)
        if new != old:
            return text[: m.start()] + new + text[m.end() :], f"{old!r} -> {new!r}"
    return None


def _same_shape(a: str, b: str) -> bool:
    """Ids of one kind: the same letters / digits / underscores pattern (mei_kovacs_8020 ~ yusuf_rossi_9620)."""

    def shape(v: str) -> str:
        return re.sub(r"[A-Za-z]+", "a", re.sub(r"\d+", "0", v))

    return shape(a) == shape(b)


def other_call(r: ToolResponse, responses: list[ToolResponse], rng: random.Random) -> ToolResponse | None:
    """Another response of the same domain -- of the same tool where there is one -- whose data differs."""
    real = parse_json(r.text)

    def differs(o: ToolResponse) -> bool:
        return o.text != r.text and parse_json(o.text) != real

    same_tool = [o for o in responses if o.domain == r.domain and o.tool == r.tool and differs(o)]
    pool = same_tool or [o for o in responses if o.domain == r.domain and differs(o)]
    return rng.choice(pool) if pool else None

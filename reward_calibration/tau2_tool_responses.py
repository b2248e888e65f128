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
- negatives, one fact changed (`one_fact_change`; the wrong values are made by reward_calibration/tau2_value_swaps.py):
  `wrong_id` (an id value or id-named key: another id of that key from the tau2 data, else one digit changed),
  `wrong_amount` (a number: digits swapped or one changed), `wrong_status` (a status, cabin, source, ... value:
  another value that key takes in the data; a bool flipped; ON <-> OFF in text), `wrong_date` (moved by 1-5 days),
  `wrong_text` (a name, address, option: another value of that key), `item_dropped` / `item_added` (an array loses
  one element / gains one from the same key elsewhere, or a copy), `key_dropped` (an object loses one key); and
  `other_call` -- another response of the same domain, of the same tool where there is one.
"""

from __future__ import annotations

import copy
import json
import os
import random
from dataclasses import dataclass
from typing import Any

from reward_calibration.tau2_task_texts import TaskText, first_of_each_text
from reward_calibration.tau2_value_swaps import (
    ID_RE,
    TEXT_FACT_RE,
    get_at,
    leaf_kind,
    other_id,
    replace_leaf,
    set_at,
    text_fact_change,
    walk,
)
from reward_score.tau2_tool_facts import JsonPath, show_path

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


@dataclass(frozen=True)
class ToolResponse(TaskText):
    """One gold tool call's response: the call's index in its task, the tool, and the response text."""

    call: int  # index of the gold call in the task
    tool: str
    text: str


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


# the first response of each text, without the texts in `exclude`
unique_responses = first_of_each_text


def parse_json(text: str) -> tuple[bool, Any]:
    """(True, data) for a JSON response that is not a bare string; (False, text) otherwise (a JSON string literal
    gives its content)."""
    try:
        data = json.loads(text)
    except ValueError:
        return False, text
    return (False, data) if isinstance(data, str) else (True, data)


def value_pools(responses: list[ToolResponse]) -> dict[str, list[Any]]:
    """Swap sources from all responses: "value:<key>" -> scalar values seen at that key, "items:<key>" -> list
    elements (as JSON) seen under that key, "text:<kind>" -> facts of that kind in plain-text responses."""
    pools: dict[str, set[Any]] = {}
    for r in responses:
        is_json, data = parse_json(r.text)
        if not is_json:
            for m in TEXT_FACT_RE.finditer(data):
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
                    if ID_RE.fullmatch(k):
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


def one_fact_change(text: str, kind: str, pools: dict[str, list[Any]], rng: random.Random) -> tuple[str, str] | None:
    """`text` with one fact of `kind` changed: (rewrite, what changed), or None when `text` has no such fact."""
    is_json, data = parse_json(text)
    if not is_json:
        return text_fact_change(data, kind, pools, rng)
    nodes = list(walk(data))
    if kind in ("item_dropped", "item_added", "key_dropped"):
        return _structure_change(data, kind, nodes, pools, rng)
    leaves = [(p, k, v) for p, k, v in nodes if not isinstance(v, dict | list) and leaf_kind(k, v) == kind]
    id_keys = [(p, k) for p, _, v in nodes if isinstance(v, dict) for k in v if ID_RE.fullmatch(k)]
    targets: list[Any] = [("leaf", x) for x in leaves]
    if kind == "wrong_id":
        targets += [("key", x) for x in id_keys]
    for what, target in rng.sample(targets, len(targets)):
        if what == "key":
            path, old_key = target
            parent = get_at(data, path)
            new_key = other_id(old_key, rng)
            if new_key in parent:
                continue
            renamed = {new_key if k == old_key else k: v for k, v in parent.items()}
            return json.dumps(set_at(data, path, renamed)), f"{show_path((*path, old_key))} key -> {new_key}"
        path, key, old = target
        new = replace_leaf(kind, key, old, pools, rng)
        if new is None or new == old or (type(new) is not type(old) and not isinstance(old, bool)):
            continue
        return json.dumps(set_at(data, path, new)), f"{show_path(path)}: {json.dumps(old)} -> {json.dumps(new)}"
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
        return json.dumps(set_at(data, path, {k: v for k, v in obj.items() if k != key})), show_path((*path, key))
    lists = [(p, k, v) for p, k, v in nodes if isinstance(v, list)]
    if kind == "item_dropped":
        lists = [x for x in lists if x[2]]
        if not lists:
            return None
        path, _, items = rng.choice(lists)
        i = rng.randrange(len(items))
        return json.dumps(set_at(data, path, items[:i] + items[i + 1 :])), f"{show_path((*path, i))} dropped"
    for path, key, items in rng.sample(lists, len(lists)):
        present = {json.dumps(x, sort_keys=True) for x in items}
        new = [json.loads(x) for x in pools.get(f"items:{key}", []) if x not in present]
        if not new and not items:
            continue
        item = rng.choice(new) if new else copy.deepcopy(rng.choice(items))
        i = rng.randrange(len(items) + 1)
        return json.dumps(set_at(data, path, [*items[:i], item, *items[i:]])), f"{show_path((*path, i))} added"
    return None


def other_call(r: ToolResponse, responses: list[ToolResponse], rng: random.Random) -> ToolResponse | None:
    """Another response of the same domain -- of the same tool where there is one -- whose data differs."""
    real = parse_json(r.text)

    def differs(o: ToolResponse) -> bool:
        return o.text != r.text and parse_json(o.text) != real

    same_tool = [o for o in responses if o.domain == r.domain and o.tool == r.tool and differs(o)]
    pool = same_tool or [o for o in responses if o.domain == r.domain and differs(o)]
    return rng.choice(pool) if pool else None

"""The episode record parser (`Episode.from_dict`, via `iter_records`): defaults for the fields a record leaves out."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from data_prep.wm_episodes import env_transitions, iter_records
from envs.episode import FORMAT_ERROR_KIND, Episode, StepRecord


def _step(action: str | None, next_observation: str, **more: object) -> dict[str, object]:
    kind = "observation" if action is not None else FORMAT_ERROR_KIND
    return {"action": action, "next_observation": next_observation, "state_kind": kind, "done": False, **more}


def test_left_out_fields_take_the_defaults_the_builders_assumed(tmp_path: Path) -> None:
    record = {
        "episode_id": "alfworld/train/game/0",
        "env": "alfworld",
        "task_id": 7,
        "task": None,
        "initial_observation": "You are in a room.",
        "steps": [
            _step("look", "You see a shelf.", extra_key=1),
            _step(None, "Please answer with an action."),
            _step("go to shelf 1", "You arrive at shelf 1.", reward=None, info=None, valid=None),
        ],
        "unknown_key": {"x": 1},
    }
    path = tmp_path / "episodes.jsonl"
    path.write_text(json.dumps(record) + "\n")
    [(_, lineno, ep)] = list(iter_records([path]))
    assert lineno == 1 and isinstance(ep, Episode) and all(isinstance(s, StepRecord) for s in ep.steps)
    defaults = {"task_id": "7", "task": "", "info": {}, "split": "", "episode_index": 0, "policy": {}, "success": False}
    assert {k: getattr(ep, k) for k in defaults} == defaults
    assert [s.t for s in ep.steps] == [0, 1, 2]  # a step without `t`: its index in the record
    # a step without an observation: the state it was taken in (after a format error, the reminder shown)
    assert [s.observation for s in ep.steps] == [
        "You are in a room.",
        "You see a shelf.",
        "Please answer with an action.",
    ]
    assert [(s.raw_output, s.reward, s.info) for s in ep.steps] == [("", 0.0, {})] * 3
    assert [s.valid for s in ep.steps] == [True, True, False]  # absent: valid; null: not marked valid
    dropped: Counter = Counter()
    kept = env_transitions(ep, dropped)
    assert [s.t for s in kept.steps] == [0, 2] and dropped == Counter({f"alfworld:{FORMAT_ERROR_KIND}": 1})
    assert len(ep.steps) == 3  # the parsed episode itself is left as it was


def test_a_null_t_stays_null_and_a_full_record_round_trips() -> None:
    assert Episode.from_dict({**_minimal(), "steps": [_step("look", "ok", t=None)]}).steps[0].t is None
    full = Episode.from_dict(_minimal()).to_dict()
    assert Episode.from_dict(full).to_dict() == full and full["num_steps"] == 1


def _minimal() -> dict[str, object]:
    return {
        "episode_id": "e",
        "env": "alfworld",
        "task_id": "g",
        "initial_observation": "o",
        "steps": [_step("a", "b")],
    }

"""The dev paraphrase families (reward_calibration.alfworld_families_dev) on real valid_seen transitions: each
applies, keeps every numbered object and the status line (last, verbatim), differs from the real text, and is
deterministic."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from reward_calibration.alfworld_families import generate, transitions_from_pairs
from reward_calibration.alfworld_families_dev import FAMILIES
from reward_calibration.alfworld_pairs import play, read_pairs
from reward_calibration.alfworld_rewrites import OBJECT_RE
from reward_calibration.family_framework import Transition
from reward_score.answer_format import with_status


@pytest.fixture(scope="module")
def transitions(shared_alfworld) -> list[Transition]:
    """Every step of the expert (20% random actions) on two valid_seen games: one reset per game, so it is fast."""
    from envs.registry import list_tasks, make_env

    tasks = list_tasks("alfworld", "valid_seen", data_root=shared_alfworld)
    random.Random(0).shuffle(tasks)
    env = make_env("alfworld")
    out = []
    try:
        for task in tasks[:2]:
            _, steps = play(env, task, 12, 0.2, random.Random(f"0:{task.task_id}"))
            for t, (_, _, action, result) in enumerate(steps):
                out.append(Transition(task.task_id, t, action, with_status(result.observation, result.success)))
    finally:
        env.close()
    return out


def test_at_least_eight_dev_families():
    assert len(FAMILIES) >= 8


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_keeps_objects_and_status(name, transitions):
    fam = FAMILIES[name]
    outputs = [(tr, fam(tr)) for tr in transitions]
    applied = [(tr, para) for tr, para in outputs if para is not None]
    assert applied, f"{name} applies to none of {len(transitions)} real transitions"
    for tr, para in applied:
        assert para != tr.real
        assert para.splitlines()[-1] == tr.real.splitlines()[-1], (tr.real, para)
        assert para.splitlines()[-1] in ("Task completed.", "Task is not yet completed.")
        missing = set(OBJECT_RE.findall(tr.real)) - set(OBJECT_RE.findall(para))
        assert not missing, (name, tr.real, para)


def test_deterministic_for_a_seed(transitions):
    first = generate(transitions, FAMILIES)
    again = generate(transitions, FAMILIES)
    assert first == again
    reseeded = [Transition(tr.game, tr.t, tr.action, tr.real, tr.source, seed=1) for tr in transitions]
    assert generate(reseeded, FAMILIES) != first  # the seed is what draws the wording


_PAIRS_CACHE = (
    Path(__file__).resolve().parents[1] / "reward_calibration" / "results" / "alfworld_families_pairs_valid_seen.jsonl"
)


@pytest.fixture(scope="module")
def cached_transitions() -> list[Transition]:
    """The cached valid_seen branch pairs' transitions (no environment: fast)."""
    if not _PAIRS_CACHE.is_file():
        pytest.skip(f"no pairs cache at {_PAIRS_CACHE}")
    return transitions_from_pairs(read_pairs(_PAIRS_CACHE))


def assert_each_applies_and_keeps_the_state(cached_transitions, families) -> None:
    """Each family applies to >= 60 cached transitions, changes the text, keeps every numbered object (case aside:
    some families capitalise names) and the status line last and verbatim; generation is deterministic."""
    items = generate(cached_transitions, families)
    counts = {name: sum(it.family == name for it in items) for name in families}
    assert all(n >= 60 for n in counts.values()), counts
    for it in items:
        assert it.paraphrase != it.real
        assert it.paraphrase.splitlines()[-1] == it.real.splitlines()[-1], (it.family, it.real, it.paraphrase)
        assert it.paraphrase.splitlines()[-1] in ("Task completed.", "Task is not yet completed.")
        missing = set(OBJECT_RE.findall(it.real)) - set(OBJECT_RE.findall(it.paraphrase.lower()))
        assert not missing, (it.family, it.real, it.paraphrase)
    assert generate(cached_transitions, families) == items


def test_heldout2_families_apply_and_keep_objects_and_status(cached_transitions):
    """The second held-out set: at least five families, each applying to >= 60 cached transitions, keeping every
    numbered object (case aside: one family capitalises names) and the status line last and verbatim."""
    from reward_calibration.alfworld_families_heldout2 import FAMILIES as HELDOUT2

    assert len(HELDOUT2) >= 5
    assert not set(HELDOUT2) & set(FAMILIES)
    assert_each_applies_and_keeps_the_state(cached_transitions, HELDOUT2)


def test_heldout3_families_apply_and_keep_objects_and_status(cached_transitions):
    """The third held-out set: at least six families of kinds in no other set, each applying to >= 60 cached
    transitions, keeping every numbered object (case aside) and the status line last and verbatim."""
    from reward_calibration.alfworld_families_heldout import FAMILIES as HELDOUT
    from reward_calibration.alfworld_families_heldout2 import FAMILIES as HELDOUT2
    from reward_calibration.alfworld_families_heldout3 import FAMILIES as HELDOUT3

    assert len(HELDOUT3) >= 6
    assert not set(HELDOUT3) & (set(FAMILIES) | set(HELDOUT) | set(HELDOUT2))
    assert_each_applies_and_keeps_the_state(cached_transitions, HELDOUT3)


def test_heldout4_families_apply_and_keep_objects_and_status(cached_transitions):
    """The fourth held-out set: at least eight families, none named as in another set, each applying to >= 60
    cached transitions, keeping every numbered object and the status line last and verbatim."""
    from reward_calibration.alfworld_families_heldout import FAMILIES as HELDOUT
    from reward_calibration.alfworld_families_heldout2 import FAMILIES as HELDOUT2
    from reward_calibration.alfworld_families_heldout3 import FAMILIES as HELDOUT3
    from reward_calibration.alfworld_families_heldout4 import FAMILIES as HELDOUT4

    assert len(HELDOUT4) >= 8
    assert not set(HELDOUT4) & (set(FAMILIES) | set(HELDOUT) | set(HELDOUT2) | set(HELDOUT3))
    assert_each_applies_and_keeps_the_state(cached_transitions, HELDOUT4)


def test_heldout5_families_apply_and_keep_objects_and_status(cached_transitions):
    """The fifth held-out set: at least nine families, none named as in another set, each applying to >= 60 cached
    transitions, keeping every numbered object and the status line last and verbatim."""
    from reward_calibration.alfworld_families_heldout import FAMILIES as HELDOUT
    from reward_calibration.alfworld_families_heldout2 import FAMILIES as HELDOUT2
    from reward_calibration.alfworld_families_heldout3 import FAMILIES as HELDOUT3
    from reward_calibration.alfworld_families_heldout4 import FAMILIES as HELDOUT4
    from reward_calibration.alfworld_families_heldout5 import FAMILIES as HELDOUT5

    assert len(HELDOUT5) >= 9
    assert not set(HELDOUT5) & (set(FAMILIES) | set(HELDOUT) | set(HELDOUT2) | set(HELDOUT3) | set(HELDOUT4))
    assert_each_applies_and_keeps_the_state(cached_transitions, HELDOUT5)


def test_heldout6_families_apply_and_keep_objects_and_status(cached_transitions):
    """The sixth held-out set: at least nine families, none named as in another set (heldout5 included), each
    applying to >= 60 cached transitions, keeping every numbered object and the status line last and verbatim."""
    from reward_calibration.alfworld_families_heldout import FAMILIES as HELDOUT
    from reward_calibration.alfworld_families_heldout2 import FAMILIES as HELDOUT2
    from reward_calibration.alfworld_families_heldout3 import FAMILIES as HELDOUT3
    from reward_calibration.alfworld_families_heldout4 import FAMILIES as HELDOUT4
    from reward_calibration.alfworld_families_heldout5 import FAMILIES as HELDOUT5
    from reward_calibration.alfworld_families_heldout6 import FAMILIES as HELDOUT6

    assert len(HELDOUT6) >= 9
    others = set(FAMILIES) | set(HELDOUT) | set(HELDOUT2) | set(HELDOUT3) | set(HELDOUT4) | set(HELDOUT5)
    assert not set(HELDOUT6) & others
    assert_each_applies_and_keeps_the_state(cached_transitions, HELDOUT6)


def test_heldout7_families_apply_and_keep_objects_and_status(cached_transitions):
    """The seventh held-out set: ten families, none named as in another set, each applying to >= 60 cached
    transitions, keeping every numbered object (case aside: one family writes capitals) and the status line last
    and verbatim."""
    from reward_calibration.alfworld_families_heldout import FAMILIES as HELDOUT
    from reward_calibration.alfworld_families_heldout2 import FAMILIES as HELDOUT2
    from reward_calibration.alfworld_families_heldout3 import FAMILIES as HELDOUT3
    from reward_calibration.alfworld_families_heldout4 import FAMILIES as HELDOUT4
    from reward_calibration.alfworld_families_heldout5 import FAMILIES as HELDOUT5
    from reward_calibration.alfworld_families_heldout6 import FAMILIES as HELDOUT6
    from reward_calibration.alfworld_families_heldout7 import FAMILIES as HELDOUT7

    assert len(HELDOUT7) == 10
    others = set(FAMILIES) | set(HELDOUT) | set(HELDOUT2) | set(HELDOUT3) | set(HELDOUT4) | set(HELDOUT5)
    assert not set(HELDOUT7) & (others | set(HELDOUT6))
    assert_each_applies_and_keeps_the_state(cached_transitions, HELDOUT7)


def test_heldout8_families_apply_and_keep_objects_and_status(cached_transitions):
    """The eighth held-out set: ten families, none named as in another set (heldout7 included), each applying to >=
    60 cached transitions, keeping every numbered object and the status line last and verbatim."""
    from reward_calibration.alfworld_families_heldout import FAMILIES as HELDOUT
    from reward_calibration.alfworld_families_heldout2 import FAMILIES as HELDOUT2
    from reward_calibration.alfworld_families_heldout3 import FAMILIES as HELDOUT3
    from reward_calibration.alfworld_families_heldout4 import FAMILIES as HELDOUT4
    from reward_calibration.alfworld_families_heldout5 import FAMILIES as HELDOUT5
    from reward_calibration.alfworld_families_heldout6 import FAMILIES as HELDOUT6
    from reward_calibration.alfworld_families_heldout7 import FAMILIES as HELDOUT7
    from reward_calibration.alfworld_families_heldout8 import FAMILIES as HELDOUT8

    assert len(HELDOUT8) == 10
    others = set(FAMILIES) | set(HELDOUT) | set(HELDOUT2) | set(HELDOUT3) | set(HELDOUT4) | set(HELDOUT5)
    assert not set(HELDOUT8) & (others | set(HELDOUT6) | set(HELDOUT7))
    assert_each_applies_and_keeps_the_state(cached_transitions, HELDOUT8)

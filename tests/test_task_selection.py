"""`--max-tasks N` (collection, evaluation, policy rows): N tasks spread over task types, seeded, in a stable order."""

from __future__ import annotations

from collections import Counter

import pytest

from envs.base import EnvError, TaskSpec
from envs.registry import spread_tasks, task_group


def alfworld_like(types: dict[str, int]) -> list[TaskSpec]:
    """Tasks in sorted order, as list_tasks gives them: every game of one type before the next type."""
    return [
        TaskSpec(env="alfworld", task_id=f"{t}-{i:03d}", split="valid_seen", kwargs={"task_type": t})
        for t, n in sorted(types.items())
        for i in range(n)
    ]


def test_small_n_covers_every_task_type_instead_of_the_first_one() -> None:
    tasks = alfworld_like({"look_at_obj_in_light": 20, "pick_and_place_simple": 30, "pick_clean_then_place": 25,
                           "pick_heat_then_place": 15, "pick_two_obj": 10, "pick_cool_then_place": 12})  # fmt: skip
    assert len({task_group(t) for t in tasks[:6]}) == 1  # what `tasks[:N]` used to give
    chosen = spread_tasks(tasks, 6, seed=0)
    assert len(chosen) == 6 and len({task_group(t) for t in chosen}) == 6
    counts = Counter(task_group(t) for t in spread_tasks(tasks, 20, seed=0))
    assert max(counts.values()) - min(counts.values()) <= 1  # shares as even as the types allow


def test_selection_is_seeded_stable_and_in_list_order() -> None:
    tasks = alfworld_like({"a": 10, "b": 10, "c": 3})
    assert spread_tasks(tasks, 7, seed=1) == spread_tasks(tasks, 7, seed=1)
    assert spread_tasks(tasks, 7, seed=1) != spread_tasks(tasks, 7, seed=2)
    chosen = spread_tasks(tasks, 7, seed=1)
    assert chosen == sorted(chosen, key=tasks.index)
    assert spread_tasks(tasks, None) == tasks and spread_tasks(tasks, 100) == tasks
    # a small type runs out and the others fill the rest
    assert Counter(task_group(t) for t in spread_tasks(tasks, 20, seed=0))["c"] == 3


@pytest.mark.parametrize("n", [0, -2])
def test_non_positive_max_tasks_is_an_error(n: int) -> None:
    with pytest.raises(EnvError, match="--max-tasks must be >= 1"):
        spread_tasks(alfworld_like({"a": 5}), n)


def test_collection_spreads_the_bundled_games_over_their_types(tmp_path) -> None:
    from data_prep.collect_trajectories import main as collect

    out = tmp_path / "eps.jsonl"
    rc = collect(["--env", "alfworld", "--data-root", "bundled", "--split", "train", "--policy", "random",
                  "--max-tasks", "2", "--max-steps", "2", "--workers", "0", "--out", str(out)])  # fmt: skip
    assert rc == 0
    import json

    types = {json.loads(line)["info"]["task_type"] for line in out.read_text().splitlines()}
    assert len(types) == 2

"""The train/val split of the world-model datasets: which tasks go where, and the parquet files each split fills.

The split is by task, stratified by group (the environment, and the tau2 domain): a game or tau2 task lands
wholly in train or in val; with >= 2 tasks in a group both splits get one. Both files are written whole or not
at all (data_prep.atomic_file).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from data_prep.atomic_file import atomic_path
from data_prep.wm_episodes import BuildError

SPLITS = ("train", "val")


def _shuffled_by_group(tasks: set[tuple[str, str]], salt: str) -> list[tuple[str, list[str]]]:
    """(group, its task names in a seeded order) for every group, groups sorted; `salt` seeds each group's shuffle."""
    by_group: dict[str, list[str]] = defaultdict(list)
    for group, task in tasks:
        by_group[group].append(task)
    out = []
    for group in sorted(by_group):
        names = sorted(by_group[group])
        random.Random(f"{salt}:{group}").shuffle(names)
        out.append((group, names))
    return out


def assign_val_tasks(tasks: set[tuple[str, str]], val_fraction: float, seed: int) -> set[tuple[str, str]]:
    """The tasks that go to val: a seeded `val_fraction` of each group; with >= 2 tasks, at least 1 and not all."""
    if not 0.0 <= val_fraction < 1.0:
        raise BuildError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    val: set[tuple[str, str]] = set()
    for group, names in _shuffled_by_group(tasks, f"{seed}"):
        n = len(names)
        n_val = round(val_fraction * n)
        if val_fraction > 0 and n >= 2:
            n_val = min(max(n_val, 1), n - 1)
        val.update((group, t) for t in names[:n_val])
    return val


def subset_train_tasks(tasks: set[tuple[str, str]], fraction: float, seed: int) -> set[tuple[str, str]]:
    """A seeded `fraction` of each group's tasks (at least one per group): the SFT subset of the train tasks."""
    if not 0.0 < fraction <= 1.0:
        raise BuildError(f"--train-task-fraction must be in (0, 1], got {fraction}")
    keep: set[tuple[str, str]] = set()
    for group, names in _shuffled_by_group(tasks, f"{seed}:subset"):
        keep.update((group, t) for t in names[: max(1, round(fraction * len(names)))])
    return keep


def split_paths(out_dir: str | Path) -> dict[str, Path]:
    """OUT_DIR/train.parquet and OUT_DIR/val.parquet."""
    return {split: Path(out_dir) / f"{split}.parquet" for split in SPLITS}


@contextmanager
def split_writers(out_dir: str | Path, schema: pa.Schema) -> Iterator[dict[str, pq.ParquetWriter]]:
    """A parquet writer per split, each into a temporary file beside its target.

    When the block ends the files replace OUT_DIR/train.parquet and val.parquet; when it raises they are removed.
    """
    with ExitStack() as stack:
        writers = {}
        for split, path in split_paths(out_dir).items():
            tmp = stack.enter_context(atomic_path(path))
            writers[split] = stack.enter_context(pq.ParquetWriter(tmp, schema))
        yield writers

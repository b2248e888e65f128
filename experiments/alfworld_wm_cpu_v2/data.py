"""The experiment's triplets: collection with stale commands, the world-model and SFT builds, the RWML training
pool, the sweep triplets, and the held-out set stratified by kind, de-duplicated against training by hash.

Collection and the builds are the project's CLIs (through the first experiment's `collect`/`build`); this module
only selects rows. Every selection is seeded and written once (parquet, atomically) with a done marker.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from data_prep.atomic_file import atomic_path, write_json_atomic
from experiments.alfworld_wm_cpu.run import build, collect
from experiments.alfworld_wm_cpu.workdir import Run, done, mark
from experiments.alfworld_wm_cpu_v2.kinds import row_kind, scene_of


def triplet_hash(row: dict[str, Any]) -> str:
    """The triplet's content: its prompt messages and real next state (what a duplicate shares)."""
    payload = json.dumps([row["prompt"], row["reward_model"]["ground_truth"]], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def read_rows(*files: Path) -> list[dict[str, Any]]:
    """Rows of world-model parquet files, each with its kind, scene and content hash added to extra_info."""
    rows = [r for f in files for r in pq.read_table(f).to_pylist()]
    for r in rows:
        r["extra_info"] |= {"kind": row_kind(r), "scene": scene_of(r), "hash": triplet_hash(r)}
    return rows


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pylist(rows), tmp)
    mark(path)
    return path


def seeded_sample(rows: list[dict[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """`n` rows (all when fewer), chosen by a seeded permutation, kept in their original order."""
    pick = np.random.default_rng(seed).permutation(len(rows))[:n]
    return [rows[i] for i in sorted(pick)]


def prepare(run: Run) -> dict[str, Path]:
    """Collect the three game sets with stale commands and build their parquets (each stage resumable)."""
    d, most = run.cfg.data, run.cfg.get("max_games")  # max_games: the smoke's few games; null: every game
    train_eps = collect(run, "train", d.alfworld_root, [d.train_split], d.episodes_per_game, most, d.invalid)
    eval_eps = collect(run, "eval", d.alfworld_root, [d.eval_split], d.eval_episodes_per_game, most, d.invalid)
    warm_eps = collect(run, "warmup", d.warmup_root, list(d.warmup_splits), d.warmup_episodes_per_game, None, d.invalid)
    return {
        "wm_train": build(run, "build_wm_dataset", train_eps, "wm_train", 0.1),
        "sft_train": build(run, "build_sft_dataset", train_eps, "sft_train", 0.1),
        "sft_warmup": build(run, "build_sft_dataset", warm_eps, "sft_warmup", 0.25),
        "wm_eval": build(run, "build_wm_dataset", eval_eps, "wm_eval", 0.5),
    }


def training_pool(run: Run, wm_train: Path) -> Path:
    """`data.pool` seeded triplets of the training games' train split: what every RWML arm trains on (the filter
    arm on the rows the filter keeps)."""
    out = run.path("data", "pool.parquet")
    if not done(out):
        rows = pq.read_table(wm_train / "train.parquet").to_pylist()
        write_rows(out, seeded_sample(rows, run.cfg.data.pool, run.cfg.seed))
    return out


def sweep_rows(run: Run, wm_train: Path) -> list[dict[str, Any]]:
    """The lr sweep's triplets: primary kinds from the training games' val split (games no arm trains on, and not
    the held-out games)."""
    primary = set(run.cfg.preregistration.primary_kinds)
    rows = [r for r in read_rows(wm_train / "val.parquet") if r["extra_info"]["kind"] in primary]
    return seeded_sample(rows, run.cfg.sweep.val_samples, run.cfg.seed)


def heldout_candidates(run: Run, wm_eval: Path, wm_train: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every held-out triplet once, none whose content also occurs among the training triplets; with the counts."""
    train = read_rows(wm_train / "train.parquet", wm_train / "val.parquet")
    train_hashes = {r["extra_info"]["hash"] for r in train}
    train_scenes = {r["extra_info"]["scene"] for r in train}
    seen: set[str] = set()
    rows, dropped_train, dropped_dup = [], 0, 0
    for r in read_rows(wm_eval / "train.parquet", wm_eval / "val.parquet"):
        h = r["extra_info"]["hash"]
        if h in train_hashes:
            dropped_train += 1
        elif h in seen:
            dropped_dup += 1
        else:
            seen.add(h)
            r["extra_info"]["scene_disjoint"] = r["extra_info"]["scene"] not in train_scenes
            rows.append(r)
    counts = {
        "candidates": len(rows),
        "dropped_also_in_training": dropped_train,
        "dropped_duplicate": dropped_dup,
        "by_kind": dict(Counter(r["extra_info"]["kind"] for r in rows)),
        "scene_disjoint": sum(r["extra_info"]["scene_disjoint"] for r in rows),
        "heldout_scenes": len({r["extra_info"]["scene"] for r in rows}),
        "heldout_scenes_not_in_training": len({r["extra_info"]["scene"] for r in rows} - train_scenes),
    }
    return rows, counts


def heldout(run: Run, wm_eval: Path, wm_train: Path, per_kind: dict[str, int]) -> tuple[Path, dict[str, Any]]:
    """The held-out set: `per_kind[k]` seeded triplets of each kind k (all there are when fewer), de-duplicated."""
    out = run.path("data", "heldout.parquet")
    info_file = run.path("data", "heldout.json")
    if not done(out):
        rows, counts = heldout_candidates(run, wm_eval, wm_train)
        chosen = []
        for i, (kind, n) in enumerate(per_kind.items()):
            of_kind = [r for r in rows if r["extra_info"]["kind"] == kind]
            chosen += seeded_sample(of_kind, n, run.cfg.seed + i)
        counts["chosen"] = dict(Counter(r["extra_info"]["kind"] for r in chosen))
        counts["chosen_scene_disjoint"] = dict(
            Counter(r["extra_info"]["kind"] for r in chosen if r["extra_info"]["scene_disjoint"])
        )
        info_file.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(info_file, counts)
        write_rows(out, chosen)
    return out, json.loads(info_file.read_text())

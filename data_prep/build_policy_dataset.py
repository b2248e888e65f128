"""Tasks -> the stage-2 policy-RL parquet: one row per ALFWorld game or tau2-bench task, train and val.

Rows come from `policy_row` (agent_name `rwml_env_agent`, the task as a TaskSpec in
`extra_info.task`), so the agent loop plays that game or task. Splits follow the benchmark's own:

    ALFWorld   --train-split train -> train.parquet, --val-split valid_seen -> val.parquet (valid_unseen: the
               out-of-distribution games; several splits may be named)
    tau2       per domain (--domain retail airline ...): tau2's train split -> train, test -> val

An ALFWorld row names its game file by absolute path. The agent loop on the training machine must find it there:
build on that machine, or pass `--stored-data-root` with the data root as the trainer sees it, and the paths are
rewritten to lie under it.

    python -m data_prep.build_policy_dataset --env alfworld --data-root ../shared/alfworld \\
        --train-split valid_train --val-split valid_seen --out-dir data/policy_alfworld
    python -m data_prep.build_policy_dataset --env tau2 --domain retail airline --out-dir data/policy_tau2
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from data_prep.atomic_file import atomic_path
from data_prep.cli_errors import ArgumentParser, UsageError, run_cli
from envs.base import EnvError, TaskSpec
from envs.registry import list_tasks, spread_tasks

# The agent loop every row asks for: stage 2 registers `recipe.rwml.agent_loop.RWMLEnvAgentLoop` under this name
# (recipe/rwml/config/agent_loop.yaml) and reads it from here.
AGENT_NAME = "rwml_env_agent"

DEFAULT_SPLITS = {"alfworld": (["train"], ["valid_seen"]), "tau2": (["train"], ["test"])}


def _relocate(task: TaskSpec, data_root: Path, stored_root: str) -> TaskSpec:
    game = Path(task.kwargs["game_file"]).resolve()
    try:
        rel = game.relative_to(data_root)
    except ValueError as err:
        raise EnvError(f"game file {game} is not under the data root {data_root}") from err
    kwargs = dict(task.kwargs, game_file=str(Path(stored_root) / rel))
    return TaskSpec(env=task.env, task_id=task.task_id, split=task.split, kwargs=kwargs)


def collect_tasks(
    env: str,
    splits: list[str],
    *,
    data_root: str | None = None,
    domains: list[str] | None = None,
    max_tasks: int | None = None,
    stored_data_root: str | None = None,
) -> list[TaskSpec]:
    """The tasks of `splits` (per domain for tau2), at most `max_tasks` per split and domain."""
    tasks: list[TaskSpec] = []
    if env == "alfworld":
        from envs.alfworld_env import resolve_data_root

        root = resolve_data_root(data_root).resolve()
        for split in splits:
            found = spread_tasks(list_tasks("alfworld", split, data_root=root), max_tasks)
            for t in found:
                t.kwargs["game_file"] = str(Path(t.kwargs["game_file"]).resolve())
            if stored_data_root:
                found = [_relocate(t, root, stored_data_root) for t in found]
            tasks.extend(found)
    elif env == "tau2":
        if not domains:
            raise EnvError("tau2 needs --domain (airline, retail, telecom; several allowed)")
        for domain in domains:
            for split in splits:
                tasks.extend(spread_tasks(list_tasks("tau2", split, domain=domain), max_tasks))
    else:
        raise EnvError(f"unknown environment {env!r}; expected alfworld or tau2")
    return tasks


def policy_row(
    task: TaskSpec, index: int, *, data_source: str | None = None, goal: str | None = None
) -> dict[str, Any]:
    """One stage-2 dataset row (verl RLHFDataset layout) that makes the agent loop play `task`.

    The `prompt` column only describes the task (the loop builds its own prompts from the env); `data_source`
    groups validation metrics (default: `alfworld`, or `tau2_<domain>` when the task names its domain). The task
    is stored as JSON text: parquet cannot hold an empty struct, and would merge the kwargs of ALFWorld and tau2
    rows into one schema. `env_kwargs` (JSON text too) overrides the env's constructor settings for this row.
    """
    if data_source is None:
        domain = task.kwargs.get("domain")
        data_source = f"{task.env}_{domain}" if domain else task.env
    return {
        "data_source": data_source,
        "prompt": [{"role": "user", "content": goal or f"{task.env} task {task.task_id} ({task.split})"}],
        "ability": "agent",
        "reward_model": {"style": "env", "ground_truth": task.task_id},
        "extra_info": {"index": index, "task": json.dumps(task.to_dict()), "split": task.split},
        "agent_name": AGENT_NAME,
    }


def policy_rows(tasks: list[TaskSpec]) -> list[dict[str, Any]]:
    return [policy_row(t, i) for i, t in enumerate(tasks)]


def task_identity(row: dict[str, Any]) -> tuple[str, str, str]:
    """(env, domain, task id) of a policy row: the same task listed under two split names is one task."""
    task = TaskSpec.from_dict(json.loads(row["extra_info"]["task"]))
    return task.env, str(task.kwargs.get("domain") or ""), task.task_id


def write_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    """All rows in one file, written to a temporary file and renamed."""
    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pylist(rows), tmp)


def build_parser() -> argparse.ArgumentParser:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", choices=sorted(DEFAULT_SPLITS), required=True)
    p.add_argument("--out-dir", required=True, help="writes OUT_DIR/train.parquet and val.parquet")
    p.add_argument("--data-root", default=None, help="ALFWorld data root (default: $ALFWORLD_DATA, else bundled)")
    p.add_argument("--stored-data-root", default=None, help="ALFWorld: the data root as the training machine sees it")
    p.add_argument("--domain", nargs="+", default=None, help="tau2 domain(s): airline, retail, telecom")
    p.add_argument("--train-split", nargs="+", default=None, help="default: train")
    p.add_argument("--val-split", nargs="+", default=None, help="default: valid_seen (ALFWorld), test (tau2)")
    p.add_argument(
        "--max-tasks", type=int, default=None, help="at most N tasks per split (and domain), spread over task types"
    )
    return p


def build_command(argv: list[str] | None = None) -> int:
    """Write the train and val parquet the flags ask for; raises UsageError / EnvError when it cannot."""
    args = build_parser().parse_args(argv)
    train_splits = args.train_split or DEFAULT_SPLITS[args.env][0]
    val_splits = args.val_split or DEFAULT_SPLITS[args.env][1]
    if args.max_tasks is not None and args.max_tasks < 1:
        raise UsageError(f"--max-tasks must be >= 1, got {args.max_tasks}", "--max-tasks", "give a positive number")
    out = Path(args.out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file, not a folder", "--out-dir", "name a folder (it is created if missing)")
    counts = {}
    by_split = {}
    for name, splits in (("train", train_splits), ("val", val_splits)):
        tasks = collect_tasks(
            args.env,
            splits,
            data_root=args.data_root,
            domains=args.domain,
            max_tasks=args.max_tasks,
            stored_data_root=args.stored_data_root,
        )
        if not tasks:
            raise UsageError(f"no {args.env} tasks in split(s) {splits}", f"--{name}-split", "name a split with tasks")
        by_split[name] = policy_rows(tasks)
    overlap = set(map(task_identity, by_split["train"])) & set(map(task_identity, by_split["val"]))
    if overlap:
        raise UsageError(
            f"{len(overlap)} task(s) are in both train and val (splits {train_splits} / {val_splits})",
            "--train-split / --val-split",
            "give splits that do not share tasks",
        )
    for name, rows in by_split.items():
        write_parquet(rows, out / f"{name}.parquet")
        counts[name] = len(rows)
    print(
        f"{counts['train']} train rows ({', '.join(train_splits)}), {counts['val']} val rows ({', '.join(val_splits)})"
    )
    print(f"-> {out / 'train.parquet'}, {out / 'val.parquet'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command; 0 on success, 2 with one `error: ...` line on stderr when it cannot build the dataset."""
    return run_cli(build_command, argv, known=(EnvError, OSError))


if __name__ == "__main__":
    sys.exit(main())

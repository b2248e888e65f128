"""Episodes JSONL -> the stage-1 world-model parquet (verl RLHFDataset layout): train.parquet and val.parquet.

Every environment step of every episode is a triplet (recent history, action, real next state). Its row:

    data_source   "rwml_alfworld" | "rwml_tau2_<domain>" (the reward reads the env from extra_info.env, from
                  this only in rows without it; a row whose two disagree scores 0, env_mismatch)
    prompt        [system, user] chat messages from data_prep.wm_prompts (history, action, format instruction)
    ability       "world_model"
    reward_model  {"style": "sim_to_real", "ground_truth": <real next state>}
    extra_info    {index, split, env, domain, task_id, episode_id, step, action, state_kind, observation, task,
                   valid, done, history}

Ground truths: ALFWorld `with_status(next observation, won at this step)`; tau2 user replies
`with_status(reply, conversation over)`; tau2 tool responses as they are. Format-error steps (a policy output with
no action, never sent to the env) are removed before anything else: no triplet, and not in any history. tau2 steps
whose next state is neither a tool response nor a user reply (the "end" of an agent stop, an offline start) are
dropped. Exact duplicate triplets (same source, prompt and ground truth) are kept once.
`--tokenizer/--max-prompt-tokens` drops prompts longer than N tokens after the tokenizer's chat template. The split
is by task, stratified by environment and domain: a game or tau2 task lands wholly in train or in val; with >= 2
tasks in a group both splits get one.

The pieces: data_prep.wm_episodes reads and validates episodes, data_prep.wm_triplets makes the triplets,
data_prep.wm_prompts writes their prompts, data_prep.wm_splits splits tasks and writes the parquet files; this
module streams episodes through them and holds the CLI (shared with data_prep.build_sft_dataset).

Streaming: a first pass over the input only collects task ids; the second writes row groups as it goes, so memory
stays flat as the input grows (only a 64-bit hash per kept triplet is held, for de-duplication). Outputs are written
to temporary files beside the targets and renamed at the end: an interrupted build leaves no partial parquet.
DIR/stats.json records the counts.

    python -m data_prep.build_wm_dataset --input alf.jsonl tau2.jsonl --out-dir data/wm
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from data_prep.atomic_file import DiskFullError, write_json_atomic
from data_prep.cli_errors import ArgumentParser, UsageError
from data_prep.cli_errors import run_cli as run_command
from data_prep.history_windows import HISTORY_WINDOW
from data_prep.wm_episodes import BadRecord, BuildError, iter_records, task_key
from data_prep.wm_splits import SPLITS, assign_val_tasks, split_paths, split_writers, subset_train_tasks
from data_prep.wm_triplets import WM_SCHEMA, Triplet, episode_triplets, triplet_hash, wm_row

ROWS_PER_GROUP = 1024

RowMaker = Callable[[Triplet, str, int], dict[str, Any]]


class LengthFilter:
    """Drops prompts longer than `max_tokens` tokens after the tokenizer's chat template (with generation prompt)."""

    def __init__(self, tokenizer_path: str, max_tokens: int) -> None:
        from transformers import AutoTokenizer

        if max_tokens < 1:
            raise BuildError(f"--max-prompt-tokens must be >= 1, got {max_tokens}")
        self.tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
        self.max_tokens = max_tokens

    def keep(self, chats: list[list[dict[str, str]]]) -> list[bool]:
        texts = [self.tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in chats]
        ids = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
        return [len(x) <= self.max_tokens for x in ids]


def build(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    make_row: RowMaker = wm_row,
    schema: pa.Schema = WM_SCHEMA,
    history: int | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
    tokenizer: str | None = None,
    max_prompt_tokens: int | None = None,
    skip_bad: bool = False,
    rows_per_group: int = ROWS_PER_GROUP,
    train_task_fraction: float = 1.0,
    desc: str = "world-model triplets",
) -> dict[str, Any]:
    """Stream `inputs` into OUT_DIR/train.parquet and val.parquet (rows from `make_row`); return the stats.

    `train_task_fraction` < 1 keeps only a seeded fraction of the train tasks (val is unchanged): the small SFT
    world model of the easy-sample filter learns from those, and filter_easy leaves them out of the RL data.
    """
    if history is not None and history < 0:
        raise BuildError(f"--history must be >= 0, got {history}")
    if (tokenizer is None) != (max_prompt_tokens is None):
        raise BuildError("--tokenizer and --max-prompt-tokens go together")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise BuildError(f"--out-dir {out} is a file, not a folder")
    length_filter = LengthFilter(tokenizer, max_prompt_tokens) if tokenizer else None

    # Pass 1: the tasks (the split unit) and the episode count; a malformed line fails here, before any writing.
    tasks: set[tuple[str, str]] = set()
    n_episodes = 0
    for _, _, ep in tqdm(iter_records(inputs, skip_bad=skip_bad), desc="scanning episodes", unit="ep", leave=False):
        tasks.add(task_key(ep))
        n_episodes += 1
    if not tasks:
        raise BuildError(f"no episodes in {', '.join(map(str, inputs))}")
    val_tasks = assign_val_tasks(tasks, val_fraction, seed)
    train_subset = None
    if train_task_fraction != 1.0:
        train_subset = subset_train_tasks(tasks - val_tasks, train_task_fraction, seed)

    stats: Counter = Counter()
    dropped: Counter = Counter()
    bad_lines: list[str] = []
    seen: set[int] = set()
    buffers: dict[str, list[Triplet]] = {s: [] for s in SPLITS}
    written = dict.fromkeys(SPLITS, 0)
    split_tasks: dict[str, set[tuple[str, str]]] = {s: set() for s in SPLITS}

    def flush(split: str, writers: dict[str, pq.ParquetWriter]) -> None:
        batch = buffers[split]
        if length_filter is not None and batch:
            keep = length_filter.keep([t.messages() for t in batch])
            stats["too_long"] += keep.count(False)
            batch = [t for t, k in zip(batch, keep, strict=True) if k]
        rows = []
        for t in batch:
            rows.append(make_row(t, split, written[split]))
            written[split] += 1
            stats[f"{split}:{t.data_source}:{t.state_kind}"] += 1
        if rows:
            writers[split].write_table(pa.Table.from_pylist(rows, schema=schema))
        buffers[split] = []

    with split_writers(out, schema) as writers:
        with tqdm(total=n_episodes, desc=desc, unit="ep") as bar:  # closed before an error line is printed
            for path, lineno, ep in iter_records(inputs, skip_bad=skip_bad, on_bad=lambda e: bad_lines.append(str(e))):
                key = task_key(ep)
                split = "val" if key in val_tasks else "train"
                if split == "train" and train_subset is not None and key not in train_subset:
                    stats["episodes_outside_subset"] += 1
                    bar.update(1)
                    continue
                ep_dropped: Counter = Counter()
                try:  # the whole episode or none of it: a record that fails here is a bad record like any other
                    triplets = list(episode_triplets(ep, history, ep_dropped))
                except (ValueError, TypeError, KeyError, AttributeError) as err:
                    bad = BadRecord(path, lineno, f"{type(err).__name__}: {err}")
                    if not skip_bad:
                        raise bad from err
                    bad_lines.append(str(bad))
                    stats["episodes_failed"] += 1
                    bar.update(1)
                    continue
                dropped.update(ep_dropped)
                split_tasks[split].add(key)
                for t in triplets:
                    stats["triplets"] += 1
                    h = triplet_hash(t)
                    if h in seen:
                        stats["duplicates"] += 1
                        continue
                    seen.add(h)
                    buffers[split].append(t)
                    if len(buffers[split]) >= rows_per_group:
                        flush(split, writers)
                bar.update(1)
        for split in SPLITS:
            flush(split, writers)
        if not sum(written.values()):
            raise BuildError("no triplets left to write (every step was dropped or filtered)")

    result = {
        "inputs": [str(p) for p in inputs],
        "episodes": n_episodes - stats["episodes_failed"],
        "bad_lines_skipped": len(bad_lines),
        "bad_lines": bad_lines[:20],
        "triplets": stats["triplets"],
        "duplicates_removed": stats["duplicates"],
        "too_long_removed": stats["too_long"],
        "steps_dropped_by_state_kind": dict(dropped),
        "rows": dict(written),
        "tasks": {s: len(v) for s, v in split_tasks.items()},
        "train_task_fraction": train_task_fraction,
        "episodes_outside_train_subset": stats["episodes_outside_subset"],
        "rows_by_source_and_kind": {k: v for k, v in sorted(stats.items()) if k.count(":") == 2},
        "history": history if history is not None else dict(HISTORY_WINDOW),
        "val_fraction": val_fraction,
        "seed": seed,
        "max_prompt_tokens": max_prompt_tokens,
        "files": {s: str(p) for s, p in split_paths(out).items()},
    }
    write_json_atomic(out / "stats.json", result)
    return result


# ----------------------------------------------------------------------------------------------- CLI


def add_build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", nargs="+", required=True, help="episode JSONL file(s) (collect_trajectories)")
    p.add_argument("--out-dir", required=True, help="writes OUT_DIR/train.parquet, val.parquet, stats.json")
    windows = f"{HISTORY_WINDOW['alfworld']} ALFWorld, {HISTORY_WINDOW['tau2']} tau2"
    p.add_argument("--history", type=int, default=None, help=f"past steps in each prompt (default: {windows})")
    p.add_argument("--val-fraction", type=float, default=0.1, help="fraction of tasks (games) held out for val")
    p.add_argument("--seed", type=int, default=0, help="seed of the task split")
    p.add_argument("--tokenizer", default=None, help="tokenizer (HF path) for --max-prompt-tokens")
    p.add_argument("--max-prompt-tokens", type=int, default=None, help="drop prompts longer than this (chat template)")
    p.add_argument("--skip-bad", action="store_true", help="count and skip malformed lines instead of failing")
    p.add_argument("--rows-per-group", type=int, default=ROWS_PER_GROUP, help="parquet row-group size")


def build_cli(
    argv: list[str] | None,
    description: str,
    make_row: RowMaker,
    schema: pa.Schema,
    desc: str,
    *,
    train_subset_flag: bool = False,
) -> int:
    p = ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_build_args(p)
    if train_subset_flag:
        p.add_argument(
            "--train-task-fraction",
            type=float,
            default=1.0,
            help="keep only this seeded fraction of the train tasks (e.g. 0.1 for the easy filter's SFT model)",
        )
    args = p.parse_args(argv)
    try:
        stats = build(
            args.input,
            args.out_dir,
            make_row=make_row,
            schema=schema,
            history=args.history,
            val_fraction=args.val_fraction,
            seed=args.seed,
            tokenizer=args.tokenizer,
            max_prompt_tokens=args.max_prompt_tokens,
            skip_bad=args.skip_bad,
            rows_per_group=args.rows_per_group,
            train_task_fraction=getattr(args, "train_task_fraction", 1.0),
            desc=desc,
        )
    except BadRecord as err:
        fix = "fix or remove that line, or rerun with --skip-bad to skip (and count) the bad lines"
        raise UsageError(err.problem, f"{err.path}:{err.lineno}", fix) from err
    except BuildError as err:
        raise UsageError(str(err), None, "check the flags and the --input files") from err
    except DiskFullError:
        raise
    except OSError as err:
        fix = "check the path and its permissions" if err.errno != errno.ENOSPC else "free space there and rerun"
        raise UsageError(err.strerror or str(err), err.filename and str(err.filename), fix) from err
    print(
        f"{stats['rows']['train']} train rows ({stats['tasks']['train']} tasks), {stats['rows']['val']} val rows "
        f"({stats['tasks']['val']} tasks) from {stats['episodes']} episodes -> {args.out_dir}; "
        f"{stats['duplicates_removed']} duplicates, {stats['too_long_removed']} too long, "
        f"{stats['bad_lines_skipped']} bad lines skipped"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command (`python -m data_prep.build_wm_dataset`); its exit status (2 with one error line on bad input)."""
    return run_command(lambda args: build_cli(args, __doc__, wm_row, WM_SCHEMA, "world-model triplets"), argv)


if __name__ == "__main__":
    sys.exit(main())

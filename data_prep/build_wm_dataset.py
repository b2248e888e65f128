"""Episodes JSONL -> the stage-1 world-model parquet (verl RLHFDataset layout): train.parquet and val.parquet.

Every step of every episode is a triplet (recent history, action, real next state). Its row:

    data_source   "rwml_alfworld" | "rwml_tau2_<domain>" (the reward reads the env from it)
    prompt        [system, user] chat messages from data_prep.wm_prompts (history, action, format instruction)
    ability       "world_model"
    reward_model  {"style": "sim_to_real", "ground_truth": <real next state>}
    extra_info    {index, split, env, domain, task_id, episode_id, step, action, state_kind, observation, task,
                   valid, done, history}

Ground truths: ALFWorld `with_status(next observation, won at this step)`; tau2 user replies
`with_status(reply, conversation over)`; tau2 tool responses as they are. tau2 steps whose next state is neither a
tool response nor a user reply (the "end" of an agent stop, an offline start) are dropped. Exact duplicate
triplets (same source, prompt and ground truth) are kept once. `--tokenizer/--max-prompt-tokens` drops prompts
longer than N tokens after the tokenizer's chat template. The split is by task, stratified by environment and
domain: a game or tau2 task lands wholly in train or in val; with >= 2 tasks in a group both splits get one.

Streaming: a first pass over the input only collects task ids; the second writes row groups as it goes, so memory
stays flat as the input grows (only a 64-bit hash per kept triplet is held, for de-duplication). Outputs are written
to temporary files beside the targets and renamed at the end: an interrupted build leaves no partial parquet.
DIR/stats.json records the counts.

    python -m data_prep.build_wm_dataset --input alf.jsonl tau2.jsonl --out-dir data/wm
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from data_prep import wm_prompts
from data_prep.atomic_file import temp_beside
from data_prep.episode_store import EpisodeFileError, iter_episode_dicts
from reward_score.parse import with_status

SPLITS = ("train", "val")
KEEP_KINDS = {"alfworld": frozenset({"observation"}), "tau2": frozenset({"tool_response", "user_reply"})}
EPISODE_FIELDS = ("env", "task_id", "initial_observation", "steps")
STEP_FIELDS = ("action", "next_observation", "state_kind", "done")
ROWS_PER_GROUP = 1024

MESSAGES_TYPE = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
EXTRA_INFO_TYPE = pa.struct(
    [
        ("index", pa.int64()),
        ("split", pa.string()),
        ("env", pa.string()),
        ("domain", pa.string()),
        ("task_id", pa.string()),
        ("episode_id", pa.string()),
        ("step", pa.int64()),
        ("action", pa.string()),
        ("state_kind", pa.string()),
        ("observation", pa.string()),
        ("task", pa.string()),
        ("valid", pa.bool_()),
        ("done", pa.bool_()),
        ("history", pa.int64()),
    ]
)
WM_SCHEMA = pa.schema(
    [
        ("data_source", pa.string()),
        ("prompt", MESSAGES_TYPE),
        ("ability", pa.string()),
        ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
        ("extra_info", EXTRA_INFO_TYPE),
    ]
)


def make_temp(path: Path) -> str:
    """An empty temporary file beside `path` (same folder, so the final rename is atomic), with ordinary permissions."""
    return temp_beside(path)


class BuildError(RuntimeError):
    """The input cannot be turned into a dataset (no triplets, bad arguments)."""


@dataclass
class Triplet:
    """One (history, action, next state) sample with what the rows need."""

    env: str
    domain: str
    data_source: str
    task_id: str
    episode_id: str
    step: int
    action: str
    observation: str  # the state the action was taken in
    state_kind: str
    ground_truth: str
    system: str
    user: str
    task: str
    valid: bool
    done: bool
    history: int

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]

    def extra_info(self, split: str, index: int) -> dict[str, Any]:
        return {
            "index": index,
            "split": split,
            "env": self.env,
            "domain": self.domain,
            "task_id": self.task_id,
            "episode_id": self.episode_id,
            "step": self.step,
            "action": self.action,
            "state_kind": self.state_kind,
            "observation": self.observation,
            "task": self.task,
            "valid": self.valid,
            "done": self.done,
            "history": self.history,
        }


# ----------------------------------------------------------------------------------------------- reading


def _domain(ep: dict[str, Any]) -> str:
    return str((ep.get("info") or {}).get("domain") or "") if ep.get("env") == "tau2" else ""


def task_key(ep: dict[str, Any]) -> tuple[str, str]:
    """(group, task): the split unit. The group is the env (and tau2 domain) the split is stratified by."""
    group = f"{ep['env']}/{_domain(ep)}" if ep["env"] == "tau2" else ep["env"]
    return group, str(ep["task_id"])


def _check_episode(ep: dict[str, Any]) -> None:
    for key in EPISODE_FIELDS:
        if key not in ep:
            raise ValueError(f"episode {ep.get('episode_id')!r} has no field {key!r}")
    if ep["env"] not in KEEP_KINDS:
        raise ValueError(f"field 'env': unknown environment {ep['env']!r}; expected one of {sorted(KEEP_KINDS)}")
    if ep["env"] == "tau2" and not _domain(ep):
        raise ValueError("tau2 episode has no field 'info.domain'")
    if not isinstance(ep["steps"], list):
        raise ValueError("field 'steps' is not a list")
    for i, step in enumerate(ep["steps"]):
        if not isinstance(step, dict):
            raise ValueError(f"field 'steps[{i}]' is not an object")
        for key in STEP_FIELDS:
            if key not in step:
                raise ValueError(f"field 'steps[{i}].{key}' is missing")


def iter_episodes(
    paths: Sequence[str | Path], *, skip_bad: bool = False, on_bad: Callable[[EpisodeFileError], None] | None = None
) -> Iterator[dict[str, Any]]:
    """Episode dicts from JSONL files; a malformed line or episode raises naming file and line unless `skip_bad`."""
    for path in paths:
        if not Path(path).is_file():
            raise BuildError(f"input file {path} does not exist")
        for lineno, ep in iter_episode_dicts(path, skip_bad=skip_bad, on_bad=on_bad):
            try:
                _check_episode(ep)
            except ValueError as err:
                bad = EpisodeFileError(f"{path}:{lineno}: {err}")
                if not skip_bad:
                    raise bad from err
                if on_bad is not None:
                    on_bad(bad)
                continue
            yield ep


def ground_truth(env: str, step: dict[str, Any]) -> str:
    """The real next state as the reward compares it (with the task-status line where the env has one)."""
    obs = str(step["next_observation"])
    if env == "alfworld":
        info = step.get("info") or {}
        won = info.get("won")
        if won is None:  # records without the flag: a win is the positive reward ALFWorld gives at the goal
            won = bool(step["done"]) and float(step.get("reward") or 0.0) > 0
        return with_status(obs, bool(won))
    if step["state_kind"] == "user_reply":
        return with_status(obs, bool(step["done"]))
    return obs


def episode_triplets(ep: dict[str, Any], history: int | None, dropped: Counter | None = None) -> Iterator[Triplet]:
    """The triplets of one episode; steps whose next state the world model does not predict count in `dropped`."""
    env = ep["env"]
    h = wm_prompts.DEFAULT_HISTORY[env] if history is None else history
    domain = _domain(ep)
    source = wm_prompts.data_source(env, domain or None)
    steps = ep["steps"]
    for i, step in enumerate(steps):
        if step["state_kind"] not in KEEP_KINDS[env]:
            if dropped is not None:
                dropped[f"{env}:{step['state_kind']}"] += 1
            continue
        system, user = wm_prompts.episode_step_prompt(ep, i, h)
        yield Triplet(
            env=env,
            domain=domain,
            data_source=source,
            task_id=str(ep["task_id"]),
            episode_id=str(ep.get("episode_id", "")),
            step=int(step.get("t", i)),
            action=str(step["action"]),
            observation=str(steps[i - 1]["next_observation"] if i else ep["initial_observation"]),
            state_kind=str(step["state_kind"]),
            ground_truth=ground_truth(env, step),
            system=system,
            user=user,
            task=str(ep.get("task") or ""),
            valid=bool(step.get("valid", True)),
            done=bool(step["done"]),
            history=h,
        )


def triplet_hash(t: Triplet) -> int:
    """A 64-bit key of the triplet's content (source, prompt, ground truth) for exact de-duplication."""
    h = hashlib.blake2b(digest_size=8)
    for part in (t.data_source, t.user, t.ground_truth):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return int.from_bytes(h.digest(), "little")


# ----------------------------------------------------------------------------------------------- splitting


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


# ----------------------------------------------------------------------------------------------- writing


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


class SplitWriter:
    """Parquet writers for the splits, into temporary files that `commit` renames and `abort` removes."""

    def __init__(self, out_dir: Path, schema: pa.Schema, rows_per_group: int = ROWS_PER_GROUP) -> None:
        self.out_dir = out_dir
        self.schema = schema
        self.rows_per_group = rows_per_group
        self.tmp: dict[str, str] = {}
        self.writers: dict[str, pq.ParquetWriter] = {}
        out_dir.mkdir(parents=True, exist_ok=True)
        for split in SPLITS:
            tmp = make_temp(out_dir / f"{split}.parquet")
            self.tmp[split] = tmp
            self.writers[split] = pq.ParquetWriter(tmp, schema)

    def write(self, split: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.writers[split].write_table(pa.Table.from_pylist(rows, schema=self.schema))

    def commit(self) -> dict[str, Path]:
        for w in self.writers.values():
            w.close()
        final = {}
        for split, tmp in self.tmp.items():
            final[split] = self.out_dir / f"{split}.parquet"
            os.replace(tmp, final[split])
        self.tmp.clear()
        return final

    def abort(self) -> None:
        for w in self.writers.values():
            try:
                w.close()
            except Exception:  # noqa: BLE001 - best effort while an error is already propagating
                pass
        for tmp in self.tmp.values():
            Path(tmp).unlink(missing_ok=True)
        self.tmp.clear()


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = make_temp(path)
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


RowMaker = Callable[[Triplet, str, int], dict[str, Any]]


def wm_row(t: Triplet, split: str, index: int) -> dict[str, Any]:
    """One world-model RL row (verl RLHFDataset layout)."""
    return {
        "data_source": t.data_source,
        "prompt": t.messages(),
        "ability": "world_model",
        "reward_model": {"style": "sim_to_real", "ground_truth": t.ground_truth},
        "extra_info": t.extra_info(split, index),
    }


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
    length_filter = LengthFilter(tokenizer, max_prompt_tokens) if tokenizer else None

    # Pass 1: the tasks (the split unit) and the episode count; a malformed line fails here, before any writing.
    tasks: set[tuple[str, str]] = set()
    n_episodes = 0
    for ep in tqdm(iter_episodes(inputs, skip_bad=skip_bad), desc="scanning episodes", unit="ep", leave=False):
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

    def flush(split: str, writer: SplitWriter) -> None:
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
        writer.write(split, rows)
        buffers[split] = []

    writer = SplitWriter(out, schema, rows_per_group)
    try:
        bar = tqdm(total=n_episodes, desc=desc, unit="ep")
        for ep in iter_episodes(inputs, skip_bad=skip_bad, on_bad=lambda err: bad_lines.append(str(err))):
            key = task_key(ep)
            split = "val" if key in val_tasks else "train"
            if split == "train" and train_subset is not None and key not in train_subset:
                stats["episodes_outside_subset"] += 1
                bar.update(1)
                continue
            split_tasks[split].add(key)
            for t in episode_triplets(ep, history, dropped):
                stats["triplets"] += 1
                h = triplet_hash(t)
                if h in seen:
                    stats["duplicates"] += 1
                    continue
                seen.add(h)
                buffers[split].append(t)
                if len(buffers[split]) >= rows_per_group:
                    flush(split, writer)
            bar.update(1)
        bar.close()
        for split in SPLITS:
            flush(split, writer)
        if not sum(written.values()):
            raise BuildError("no triplets left to write (every step was dropped or filtered)")
        paths = writer.commit()
    except BaseException:
        writer.abort()
        raise

    result = {
        "inputs": [str(p) for p in inputs],
        "episodes": n_episodes,
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
        "history": history if history is not None else dict(wm_prompts.DEFAULT_HISTORY),
        "val_fraction": val_fraction,
        "seed": seed,
        "max_prompt_tokens": max_prompt_tokens,
        "files": {s: str(p) for s, p in paths.items()},
    }
    write_json_atomic(out / "stats.json", result)
    return result


# ----------------------------------------------------------------------------------------------- CLI


def add_build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", nargs="+", required=True, help="episode JSONL file(s) (collect_trajectories)")
    p.add_argument("--out-dir", required=True, help="writes OUT_DIR/train.parquet, val.parquet, stats.json")
    p.add_argument("--history", type=int, default=None, help="past steps in each prompt (default: 2 ALFWorld, 5 tau2)")
    p.add_argument("--val-fraction", type=float, default=0.1, help="fraction of tasks (games) held out for val")
    p.add_argument("--seed", type=int, default=0, help="seed of the task split")
    p.add_argument("--tokenizer", default=None, help="tokenizer (HF path) for --max-prompt-tokens")
    p.add_argument("--max-prompt-tokens", type=int, default=None, help="drop prompts longer than this (chat template)")
    p.add_argument("--skip-bad", action="store_true", help="count and skip malformed lines instead of failing")
    p.add_argument("--rows-per-group", type=int, default=ROWS_PER_GROUP, help="parquet row-group size")


def run_cli(
    argv: list[str] | None,
    description: str,
    make_row: RowMaker,
    schema: pa.Schema,
    desc: str,
    *,
    train_subset_flag: bool = False,
) -> int:
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    except (BuildError, EpisodeFileError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(
        f"{stats['rows']['train']} train rows ({stats['tasks']['train']} tasks), {stats['rows']['val']} val rows "
        f"({stats['tasks']['val']} tasks) from {stats['episodes']} episodes -> {args.out_dir}; "
        f"{stats['duplicates_removed']} duplicates, {stats['too_long_removed']} too long, "
        f"{stats['bad_lines_skipped']} bad lines skipped"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_cli(argv, __doc__, wm_row, WM_SCHEMA, "world-model triplets")


if __name__ == "__main__":
    sys.exit(main())

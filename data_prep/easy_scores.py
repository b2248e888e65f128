"""Scoring for the easy-sample filter: K predictions per sample from a served world model, each scored with the reward.

`score_all` asks an OpenAI-compatible endpoint (`Sampler`) for K answers per world-model row and scores them with
`reward_score.compute_score_batch`; each sample's rewards go to a `ScoreCache` as soon as they are scored, so a
rerun scores only what is missing. Samples are keyed by content (`sample_key`), and every random choice is a
hash of the seed and that key (`unit_hash`).

Zeros from a broken reward backend are never cached: a backend that fails raises (`EmbeddingBackendError`), a
chunk whose every reward is `bad_input` stops the run before it is written, and a cache whose every sample scored
`bad_input` (each entry counts them) is refused. Caches of version 1, which could hold such zeros, are refused.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from tqdm import tqdm

from data_prep.atomic_file import write_atomic
from reward_score.scoring import BAD_INPUT  # the reason of a sample the reward could not read

CACHE_VERSION = 3  # 2: entries count their bad_input rewards; 3: ALFWorld's world-state reader, tau2 facts


class FilterError(RuntimeError):
    """The filter cannot go on: endpoint unreachable, server error, cache from other settings, bad input."""


def sample_key(row: dict[str, Any]) -> str:
    """A key of the sample's content: source, prompt, ground truth and state kind."""
    extra = row.get("extra_info") or {}
    payload = json.dumps(
        [row["data_source"], row["prompt"], row["reward_model"]["ground_truth"], extra.get("state_kind")],
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def unit_hash(seed: int, key: str, salt: str) -> float:
    """A uniform number in [0, 1) from the seed and the sample key."""
    digest = hashlib.sha256(f"{seed}:{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") / 2**64


def task_of(row: dict[str, Any]) -> tuple[str, str]:
    """(data_source, task id) of a world-model row."""
    return str(row["data_source"]), str((row.get("extra_info") or {}).get("task_id", ""))


def iter_rows(path: Path, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(batch_size=batch_size):
        yield batch.to_pylist()


class ScoreCache:
    """JSONL of {"key", "rewards", "mean", "bad_input"} lines after one {"meta": settings} line; append-only,
    fsync'ed."""

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path = path
        self.means: dict[str, float] = {}
        data = path.read_bytes() if path.exists() else b""
        torn = not data.endswith(b"\n")  # a torn last line from a killed run: cut it
        data = data[: data.rfind(b"\n") + 1]
        if data:
            if torn:
                write_atomic(self.path, data)
            self._load(data, meta)
        else:  # new, or killed before its first line was whole
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, (json.dumps({"meta": meta}, sort_keys=True) + "\n").encode())

    def _load(self, data: bytes, meta: dict[str, Any]) -> None:
        try:
            lines = data.decode("utf-8").splitlines()
            head = json.loads(lines[0])["meta"]
            if not isinstance(head, dict):
                raise TypeError(f"its meta is a {type(head).__name__}")
        except (ValueError, KeyError, TypeError, IndexError) as err:
            raise FilterError(f"{self.path}:1: not a filter_easy score cache ({err})") from err
        if head.get("version") != meta.get("version"):
            raise FilterError(
                f"score cache of version {head.get('version')} (this filter_easy writes {meta.get('version')}; "
                f"version 1 could hold zeros of a broken reward backend, version 2 the scores of the replaced ALFWorld "
                f"fact reader), {self.path}:1, delete it or pass another "
                "--cache to score again"
            )
        if head != json.loads(json.dumps(meta)):
            diff = sorted(k for k in set(head) | set(meta) if head.get(k) != meta.get(k))
            raise FilterError(
                f"{self.path} holds scores made with other settings (differs in {diff}); "
                "pass another --cache or delete it"
            )
        broken = 0
        for lineno, line in enumerate(lines[1:], start=2):
            try:
                d = json.loads(line)
                self.means[d["key"]] = float(d["mean"])
                broken += int(d["bad_input"]) == len(d["rewards"])
            except (ValueError, KeyError, TypeError) as err:
                raise FilterError(f"{self.path}:{lineno}: bad cache line ({err})") from err
        if self.means and broken == len(lines) - 1:
            raise FilterError(
                f"every one of the {broken} cached samples scored {BAD_INPUT} (written while the reward backend was "
                f"broken), {self.path}, delete it and rerun once the embedder loads"
            )

    def add(self, entries: list[dict[str, Any]]) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            for e in entries:
                f.write(json.dumps(e) + "\n")
                self.means[e["key"]] = e["mean"]
            f.flush()
            os.fsync(f.fileno())


class Sampler:
    """K completions per prompt from an OpenAI-compatible endpoint: n=K per request, topped up when fewer come."""

    def __init__(
        self, base_url: str, model: str, api_key: str, k: int, temperature: float, max_tokens: int, timeout: float
    ) -> None:
        import openai

        self.openai = openai
        self.client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=2)
        self.base_url, self.model, self.k = base_url, model, k
        self.temperature, self.max_tokens = temperature, max_tokens
        self.use_n = True

    def _fail(self, err: Exception) -> FilterError:
        return FilterError(f"world-model endpoint {self.base_url} (model {self.model!r}) failed: {err}")

    def check(self) -> None:
        """The endpoint answers and serves the model."""
        try:
            served = [m.id for m in self.client.models.list().data]
        except self.openai.OpenAIError as err:
            raise self._fail(err) from err
        if self.model not in served:
            raise FilterError(f"world-model endpoint {self.base_url} does not serve {self.model!r}; it serves {served}")

    def sample(self, messages: list[dict[str, str]], seed: int) -> list[str]:
        texts: list[str] = []
        attempt = 0
        while len(texts) < self.k:
            want = self.k - len(texts) if self.use_n else 1
            try:
                resp = self.client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    n=want,
                    temperature=self.temperature,
                    max_tokens=self.max_tokens,
                    seed=(seed + attempt) % 2**31,
                )
            except self.openai.BadRequestError as err:
                if want > 1:  # a server that refuses n > 1: one choice per request from now on
                    self.use_n = False
                    continue
                raise self._fail(err) from err
            except self.openai.OpenAIError as err:
                raise self._fail(err) from err
            if not resp.choices:
                raise self._fail(ValueError("the response has no choices"))
            texts.extend((c.message.content or "") for c in resp.choices[:want])
            attempt += 1
        return texts


def score_all(
    args: argparse.Namespace,
    src: Path,
    total: int,
    cache: ScoreCache,
    reward_kwargs: dict,
    excluded: set[tuple[str, str]],
) -> None:
    """Sample and score every sample missing from the cache, a chunk at a time."""
    from reward_score import compute_score_batch

    sampler = Sampler(args.base_url, args.model, args.api_key, args.k, args.temperature, args.max_tokens, args.timeout)
    sampler.check()
    chunk = max(4 * args.concurrency, 32)
    bar = tqdm(total=total, desc="scoring samples", unit="sample")
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        for rows in iter_rows(src, chunk):
            todo: dict[str, dict[str, Any]] = {}
            for row in rows:
                key = sample_key(row)
                if key not in cache.means and task_of(row) not in excluded:
                    todo.setdefault(key, row)
            bar.update(len(rows) - len(todo))
            if not todo:
                continue
            keys = list(todo)
            seeds = [int(unit_hash(args.seed, key, "sampling") * 2**31) for key in keys]
            outs = list(pool.map(sampler.sample, [todo[k]["prompt"] for k in keys], seeds))
            flat_rows = [todo[key] for key, texts in zip(keys, outs, strict=True) for _ in texts]
            results = compute_score_batch(
                [r["data_source"] for r in flat_rows],
                [t for texts in outs for t in texts],
                [r["reward_model"]["ground_truth"] for r in flat_rows],
                [r.get("extra_info") for r in flat_rows],
                **reward_kwargs,
            )
            if results and all(r["reason"] == BAD_INPUT for r in results):
                raise FilterError(
                    f"every one of the {len(results)} predictions of {len(keys)} samples scored {BAD_INPUT} (the "
                    "reward could not read them: see the warnings above), reward settings --reward-kwargs, fix the "
                    "reward backend and rerun (nothing of this chunk was cached)"
                )
            entries, i = [], 0
            for key, texts in zip(keys, outs, strict=True):
                scored = results[i : i + len(texts)]
                rewards = [float(r["score"]) for r in scored]
                bad = sum(r["reason"] == BAD_INPUT for r in scored)
                i += len(texts)
                entries.append({"key": key, "rewards": rewards, "mean": sum(rewards) / len(rewards), "bad_input": bad})
            cache.add(entries)
            bar.update(len(todo))
    bar.close()

"""The paper's LLM-as-a-judge reward (its ablation, reward mode `judge`): a chat model says 1 or 0 per prediction.

`Judge(settings).judge_batch(pairs)` takes (real next state, predicted next state) pairs and returns one `Verdict`
per pair: score 1.0 when the judge answers that the prediction holds all the important information of the real
state and its task-completion status, else 0.0 -- the binary judge of the paper (the authors' prompt V4,
`judge_prompt.JUDGE_PROMPTS`).
The judge is any OpenAI-compatible chat endpoint (`judge_base_url`, `judge_model`, `judge_api_key` or the
JUDGE_API_KEY environment variable); requests run `judge_concurrency` at a time on a thread pool, and each
distinct (real, predicted, context) is asked once per Judge (an LRU of `cache_size` verdicts; pairs asked
while the same pair is in flight wait for its answer).

What the judge is shown, each data text sealed against the prediction it judges (in RL the policy is an adversary
that writes whatever earns a 1), is reward_score/judge_prompt.py; how its answer is read -- one verdict, and never a
1 for a prediction that writes a score itself -- reward_score/judge_verdict.py.

Failing loud, as the embedder: an endpoint down, an HTTP error or a timeout after the client's `max_retries`
raises `JudgeBackendError` (an `EmbeddingBackendError`) naming the endpoint. An answer that holds no verdict (as
above) is the judge model's fault, not the backend's: it scores 0 with reason `judge_unparsable`.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from cachetools import LRUCache

from reward_score.embedders import EmbeddingBackendError
from reward_score.judge_prompt import JudgeContext, judge_prompt
from reward_score.judge_verdict import parse_verdict, writes_a_score
from reward_score.settings import RewardSettings

API_KEY_ENV = "JUDGE_API_KEY"

# Reasons a judged sample scored what it did.
JUDGE_MATCH = "judge_match"  # the judge answered 1
JUDGE_MISMATCH = "judge_mismatch"  # the judge answered 0
JUDGE_UNPARSABLE = "judge_unparsable"  # the answer holds no single well-formed verdict of 0 or 1 (parse_verdict)


class JudgeBackendError(EmbeddingBackendError):
    """The judge endpoint did not answer (down, HTTP error, timeout after retries); the message names it."""


@dataclass(frozen=True)
class Verdict:
    """One judged prediction: score 1.0 / 0.0, why (`JUDGE_*`), and the judge's answer as it came."""

    score: float
    reason: str
    answer: str


_Key = tuple[str, str, JudgeContext | None]


class Judge:
    """Asks an OpenAI-compatible chat model whether predicted next states match real ones (see the module doc)."""

    def __init__(self, settings: RewardSettings) -> None:
        import openai

        s = settings
        if not s.judge_base_url or not s.judge_model:
            raise ValueError(
                "reward mode judge needs reward.reward_kwargs.judge_base_url and judge_model (an OpenAI-compatible "
                f"chat endpoint and the model it serves); got judge_base_url={s.judge_base_url!r}, "
                f"judge_model={s.judge_model!r}"
            )
        if s.judge_concurrency < 1 or s.judge_max_tokens < 1:
            raise ValueError("reward settings judge_concurrency and judge_max_tokens must be >= 1")
        self.settings = s
        self.description = f"judge endpoint {s.judge_base_url} (model {s.judge_model!r})"
        api_key = s.judge_api_key or os.environ.get(API_KEY_ENV) or "EMPTY"
        self.client = openai.OpenAI(
            base_url=s.judge_base_url, api_key=api_key, timeout=s.timeout_s, max_retries=s.max_retries
        )
        self.cache: LRUCache[_Key, Verdict] = LRUCache(maxsize=max(1, s.cache_size))
        self._inflight: dict[_Key, Future[Verdict]] = {}
        self._lock = threading.RLock()  # a future done before its callback is added settles under the lock
        self._pool = ThreadPoolExecutor(max_workers=s.judge_concurrency, thread_name_prefix="judge")
        self.requests = 0  # chat requests sent (cache misses)
        self.cache_hits = 0

    def judge_batch(
        self, pairs: Sequence[tuple[str, str]], contexts: Sequence[JudgeContext | None] | None = None
    ) -> list[Verdict]:
        """One verdict per (real, predicted) pair, in order; `judge_concurrency` requests in flight at most."""
        if contexts is not None and len(contexts) != len(pairs):
            raise ValueError(f"judge_batch: {len(pairs)} pairs but {len(contexts)} contexts")
        ctxs = contexts if contexts is not None else [None] * len(pairs)
        futures = [self._submit((real, predicted, ctx)) for (real, predicted), ctx in zip(pairs, ctxs, strict=True)]
        return [future.result() for future in futures]

    async def judge_async(self, real: str, predicted: str, context: JudgeContext | None = None) -> Verdict:
        """One verdict, awaited without blocking the event loop (the request runs on the judge's thread pool)."""
        return await asyncio.wrap_future(self._submit((real, predicted, context)))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def _submit(self, key: _Key) -> Future[Verdict]:
        with self._lock:
            verdict = self.cache.get(key)
            if verdict is not None:
                self.cache_hits += 1
                done: Future[Verdict] = Future()
                done.set_result(verdict)
                return done
            future = self._inflight.get(key)
            if future is None:
                future = self._inflight[key] = self._pool.submit(self._ask, key)
                future.add_done_callback(lambda f, key=key: self._settle(key, f))
            else:
                self.cache_hits += 1
            return future

    def _settle(self, key: _Key, future: Future[Verdict]) -> None:
        with self._lock:
            self._inflight.pop(key, None)
            if not future.cancelled() and future.exception() is None:
                self.cache[key] = future.result()

    def _ask(self, key: _Key) -> Verdict:
        import openai

        real, predicted, context = key
        s = self.settings
        with self._lock:
            self.requests += 1
        try:
            response = self.client.chat.completions.create(
                model=s.judge_model,
                messages=[{"role": "user", "content": judge_prompt(real, predicted, context)}],
                max_tokens=s.judge_max_tokens,
                temperature=s.judge_temperature,
            )
        except openai.OpenAIError as e:
            raise JudgeBackendError(
                f"{self.description} failed after {s.max_retries} retries: {type(e).__name__}: {e}; check that the "
                f"server is up and serves {s.judge_model!r} (reward.reward_kwargs.judge_base_url / judge_model)"
            ) from e
        answer = (response.choices[0].message.content if response.choices else None) or ""
        score = parse_verdict(answer)
        if score is None or (score == 1.0 and writes_a_score(predicted)):
            return Verdict(0.0, JUDGE_UNPARSABLE, answer)
        return Verdict(score, JUDGE_MATCH if score == 1.0 else JUDGE_MISMATCH, answer)

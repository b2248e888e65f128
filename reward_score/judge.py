"""The paper's LLM-as-a-judge reward (its ablation, reward mode `judge`): a chat model says 1 or 0 per prediction.

`Judge(settings).judge_batch(pairs)` takes (real next state, predicted next state) pairs and returns one `Verdict`
per pair: score 1.0 when the judge answers that the prediction holds all the important information of the real
state and its task-completion status, else 0.0 -- the binary judge of the paper (the authors' prompt V4, below).
The judge is any OpenAI-compatible chat endpoint (`judge_base_url`, `judge_model`, `judge_api_key` or the
JUDGE_API_KEY environment variable); requests run `judge_concurrency` at a time on a thread pool, and each
distinct (real, predicted, context) is asked once per Judge (an LRU of `cache_size` verdicts; pairs asked
while the same pair is in flight wait for its answer).

Failing loud, as the embedder: an endpoint down, an HTTP error or a timeout after the client's `max_retries`
raises `JudgeBackendError` (an `EmbeddingBackendError`) naming the endpoint. An answer that holds no 0/1 score
is the judge model's fault, not the backend's: it scores 0 with reason `judge_unparsable`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from reward_score.embedders import EmbeddingBackendError
from reward_score.settings import RewardSettings, env_of

API_KEY_ENV = "JUDGE_API_KEY"

# Reasons a judged sample scored what it did.
JUDGE_MATCH = "judge_match"  # the judge answered 1
JUDGE_MISMATCH = "judge_mismatch"  # the judge answered 0
JUDGE_UNPARSABLE = "judge_unparsable"  # the answer holds no score of 0 or 1

# The judge prompts, verbatim from the authors' code (github.com/jasonyux/unsupervised_rl): WM_JUDGE_PROMPT_V4, the
# binary judge, of unsupervised_rl/rewards/judge_next_state.py (ALFWorld) and of
# unsupervised_rl/rewards/judge_next_state_tau2bench.py (tau2, which opens with a role line and has no observation).
_V4_BODY = """# Action proposed by an AI agent
{action_text}

# Predicted Next observation
After executing the above action, another AI agent predicted the next observation as follows:
{next_obs_desc}

# Actual Next observation
The actual next observation from the environment is as follows:
{actual_next_obs_text}

# Evaluate the predicted next observation
Now, your task is to evaluate how well the predicted next observation matches the actual next observation.
Specifically, you need to judge whether the prediction demonstrates a *genuine* understanding of the environment dynamics relevant to the task, using the actual next observation as reference.
- If all important task-related information in the actual next observation is PRESENT in the predicted next observation AND the task completion status matches the reference in the actual next observation, assign a score of 1.0.
- Otherwise, assign a score of 0.0.

# Your output format
Your task is to output a JSON object in the following format:
<json>
{{
    "analysis": "which important task related content is present/missing in the predicted next observation, and whether the task completion status is correctly predicted.",  # no more than 200 words
    "score": 0.0 or 1.0
}}
</json>
Directly output the JSON object. DO NOT generate anything else."""  # noqa: E501 - the authors' lines, kept whole

JUDGE_PROMPTS: dict[str, str] = {
    "alfworld": "{obs_text}\n\n" + _V4_BODY,
    "tau2": "You are a helpful judge AI agent. Your task is to evaluate the quality of a predicted next observation "
    "in a customer service environment.\n\n" + _V4_BODY,
}
JUDGE_PROMPTS["default"] = JUDGE_PROMPTS["alfworld"]
NO_ACTION = "(not recorded)"

# `"score": N` closed by `,` `}` `#` or the line's end, so the template's own `"score": 0.0 or 1.0` is no verdict
_SCORE = re.compile(r"""["']?score["']?\s*:\s*["']?\s*(-?\d+(?:\.\d+)?)\s*["']?\s*(?=[,}#]|$)""", re.I | re.M)
_WRAPPERS = ("<json>", "</json>", "```json", "```")


class JudgeBackendError(EmbeddingBackendError):
    """The judge endpoint did not answer (down, HTTP error, timeout after retries); the message names it."""


@dataclass(frozen=True)
class Verdict:
    """One judged prediction: score 1.0 / 0.0, why (`JUDGE_*`), and the judge's answer as it came."""

    score: float
    reason: str
    answer: str


@dataclass(frozen=True)
class JudgeContext:
    """What the judge sees besides the two states: the environment, the task, the observation and the action."""

    env: str = "default"
    task: str = ""
    observation: str = ""
    action: str = ""

    @classmethod
    def from_sample(cls, data_source: Any, extra_info: Any) -> JudgeContext:
        """The context of a world-model dataset row (`extra_info` as data_prep/wm_triplets.py writes it)."""
        info = extra_info if isinstance(extra_info, Mapping) else {}

        def text(key: str) -> str:
            value = info.get(key)
            if value is None:
                return ""
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)

        return cls(env_of(data_source), text("task"), text("observation"), text("action"))


def judge_prompt(real: str, predicted: str, context: JudgeContext | None = None) -> str:
    """The authors' binary judge prompt for one pair; ALFWorld's opens with the task and the observation."""
    ctx = context or JudgeContext()
    # obs_text, our wording: the authors' rows carried it ready-made
    obs = [
        f"# Task\n{ctx.task}" if ctx.task else "",
        f"# Current observation\n{ctx.observation}" if ctx.observation else "",
    ]
    return (
        JUDGE_PROMPTS.get(ctx.env, JUDGE_PROMPTS["default"])
        .format(
            obs_text="\n\n".join(part for part in obs if part),
            action_text=ctx.action or NO_ACTION,
            next_obs_desc=predicted,
            actual_next_obs_text=real,
        )
        .strip()
    )


def parse_verdict(answer: str | None) -> float | None:
    """The 0/1 score in a judge's answer, or None when it holds none.

    Read as the authors do (JSON with its `<json>` / code-fence wrappers removed, after any `<think>` block), and
    where the JSON does not load (a model copies the template's `# comments`), from its last `"score": N`.
    A score other than 0 or 1 is not a binary verdict: None.
    """
    text = (answer or "").rsplit("</think>", 1)[-1]
    for wrapper in _WRAPPERS:
        text = text.replace(wrapper, "")
    raw: Any = None
    start, end = text.find("{"), text.rfind("}")
    try:
        parsed = json.loads(text[start : end + 1]) if 0 <= start < end else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "score" in parsed:
        raw = parsed["score"]
    else:
        found = _SCORE.findall(text)
        raw = found[-1] if found else None
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if value in (0.0, 1.0) else None


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
        if score is None:
            return Verdict(0.0, JUDGE_UNPARSABLE, answer)
        return Verdict(score, JUDGE_MATCH if score == 1.0 else JUDGE_MISMATCH, answer)

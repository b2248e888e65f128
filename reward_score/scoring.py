"""The sim-to-real reward: compare a predicted next state with the real one, for whole batches of samples.

Per sample (`Scorer.prepare`): read the environment (`settings.env_of_sample`: extra_info.env, else the
data_source), the state kind and the real state; read the prediction out of the response
(`answer_format.parse_response`) and cut it to the token budget (`token_budget`); then the rule `RULES` names for
the sample's mode and environment (reward_score/rules/, one module each) decides it or leaves it waiting for the
embeddings (`embedders`, each distinct text embedded once per batch, `batcher`) or for the judge. Modes (per
environment, see settings): facts (ALFWorld's and tau2's default), binary, cosine, mixed, judge.

Bad input never raises: it scores 0 with a reason (reward_score/results.py). Every result has the same keys (verl
stacks them per key). An embedding backend failure does raise (`EmbeddingBackendError`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from reward_score.answer_format import REPLACEMENT_CHAR, as_text, parse_response
from reward_score.batcher import EmbeddingCache, MicroBatcher
from reward_score.embedders import Embedder, get_embedder
from reward_score.judge import Judge
from reward_score.results import (
    BAD_GROUND_TRUTH,
    BAD_INPUT,
    EMPTY_PREDICTION,
    ENV_MISMATCH,
    INVALID_UTF8,
    NO_PREDICTION,
    Prepared,
    empty_result,
    warn_once,
)
from reward_score.rules import Rule, Sample, alfworld_facts, embedding, judge_rule, mixed, tau2_facts_rule
from reward_score.settings import ENVS, EnvMismatchError, RewardSettings, env_of_sample
from reward_score.token_budget import TokenCounter, counter_for

logger = logging.getLogger(__name__)

ANY_ENV = "*"
# The rule of each (mode, environment); (mode, ANY_ENV) serves the environments not named for that mode.
RULES: dict[tuple[str, str], Rule] = {
    ("facts", "alfworld"): alfworld_facts.prepare,
    ("facts", "tau2"): tau2_facts_rule.prepare,
    ("facts", ANY_ENV): embedding.prepare_unread_facts,
    ("binary", ANY_ENV): embedding.prepare,
    ("cosine", ANY_ENV): embedding.prepare,
    ("mixed", ANY_ENV): mixed.prepare,
    ("judge", ANY_ENV): judge_rule.prepare,
}


def rule_for(mode: str, env: str) -> Rule:
    """The rule that scores samples of environment `env` in mode `mode`."""
    return RULES.get((mode, env)) or RULES[(mode, ANY_ENV)]


STATE_KINDS = ("observation", "tool_response", "user_reply")


def _state_kind(extra_info: Any) -> str:
    if isinstance(extra_info, dict):
        return str(extra_info.get("state_kind") or "observation")
    return "observation"


class Scorer:
    """Scores predictions against real states with one embedder; sync batches or async single samples."""

    def __init__(
        self,
        settings: RewardSettings | None = None,
        tokenizer: Any = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.settings = settings or RewardSettings()
        self._embedder = embedder
        self._counter = TokenCounter(tokenizer) if tokenizer is not None else None
        self.cache = EmbeddingCache(self.settings.cache_size)
        self._batchers: dict[asyncio.AbstractEventLoop, MicroBatcher] = {}
        self._batchers_lock = threading.Lock()
        self._rouge = None
        self._judge: Judge | None = None

    # -- lazily built pieces -------------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.settings.embedder_spec())
        return self._embedder

    @property
    def judge(self) -> Judge:
        if self._judge is None:
            self._judge = Judge(self.settings)
        return self._judge

    @property
    def uses_embedder(self) -> bool:
        """False only when every environment is scored by the LLM judge."""
        return any(self.settings.mode_for(env) != "judge" for env in (*ENVS, "default"))

    def load_backends(self) -> None:
        """Load the token counter and (unless only the judge scores) the embedder now, so a model that cannot load
        raises `EmbeddingBackendError` naming it instead of scoring every sample 0 inside the per-sample guard."""
        self.counter  # noqa: B018
        if self.uses_embedder:
            self.embedder  # noqa: B018

    @property
    def counter(self) -> TokenCounter:
        """Budget tokens are the policy's tokens where a tokenizer was given, else the local embedder's
        (MiniLM's for an endpoint)."""
        if self._counter is None:
            self._counter = counter_for(None if self.settings.base_url else self.settings.model)
        return self._counter

    def rouge_l(self, prediction: str, truth: str) -> float:
        """ROUGE-L F1 of `prediction` against `truth` (mode mixed, tool responses)."""
        if self._rouge is None:
            from rouge_score import rouge_scorer

            self._rouge = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
        return float(self._rouge.score(truth, prediction)["rougeL"].fmeasure)

    # -- the steps -------------------------------------------------------------------------------------------
    def prepare(self, data_source: Any, solution: str | bytes | None, ground_truth: Any, extra_info: Any) -> Prepared:
        """Read one sample and run its rule; input that breaks reading scores 0, never raises."""
        env = "default"
        try:
            env = env_of_sample(data_source, extra_info)
            return self._prepare(env, data_source, solution, ground_truth, extra_info)
        except EnvMismatchError as e:
            warn_once(f"env {data_source!r} {extra_info.get('env')!r}", str(e))
            r = empty_result(self.settings.mode_for(env_of_sample(None, extra_info)), _state_kind(extra_info))
            r["reason"] = ENV_MISMATCH
            return Prepared(r)
        except Exception as e:  # noqa: BLE001 - a malformed sample must not stop a training step
            logger.warning("reward: sample scored 0 after %s: %s", type(e).__name__, e)
            r = empty_result(self.settings.mode_for(env), _state_kind(extra_info))
            r["reason"] = BAD_INPUT
            return Prepared(r)

    def _prepare(
        self, env: str, data_source: Any, solution: str | bytes | None, ground_truth: Any, extra_info: Any
    ) -> Prepared:
        s = self.settings
        mode = s.mode_for(env)
        kind = _state_kind(extra_info)
        r = empty_result(mode, kind)
        truth = ground_truth.get("ground_truth") if isinstance(ground_truth, dict) else ground_truth
        truth = as_text(truth).strip() if isinstance(truth, str | bytes) else ""
        if not truth:
            r["reason"] = BAD_GROUND_TRUTH
            return Prepared(r)
        if kind not in STATE_KINDS:
            warn_once(f"state_kind {kind!r}", f"unknown extra_info.state_kind {kind!r} (known: {STATE_KINDS})")
            r["reason"] = BAD_INPUT
            return Prepared(r)
        if env == "default":
            warn_once(f"env of {data_source!r}", f"the sample of data_source {data_source!r} is neither alfworld nor "
                      "tau2 (extra_info.env, else data_source): scored with the 'default' settings")  # fmt: skip
        parsed = parse_response(solution)
        # A real state longer than any prediction may be is cut too: tokenizing megabytes stalls a whole step.
        whole_truth = truth
        truth, r["truth_tokens"] = self.counter.cut(truth, s.max_truth_tokens)
        if parsed.prediction is None:
            r["reason"] = NO_PREDICTION
            return Prepared(r)
        r["parsed"] = True
        r["pred_chars"] = len(parsed.prediction)
        if not parsed.prediction:
            r["reason"] = EMPTY_PREDICTION
            return Prepared(r)
        if parsed.invalid_utf8 and REPLACEMENT_CHAR not in truth:
            r["reason"] = INVALID_UTF8
            return Prepared(r)
        # Never cut below the real state's own length, so an exact prediction is never cut.
        budget = max(s.budget_for(env), r["truth_tokens"])
        pred, r["pred_tokens"] = self.counter.cut(parsed.prediction, budget)
        r["cut"] = len(pred) < len(parsed.prediction)
        sample = Sample(
            env=env,
            kind=kind,
            truth=truth,
            whole_truth=whole_truth,
            prediction=parsed.prediction,
            pred=pred,
            reasoning=parsed.reasoning,
            extra_info=extra_info,
            result=r,
        )
        return rule_for(mode, env)(sample, self)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """One row per text: each distinct text embedded once, and kept in the LRU for later batches and steps.

        Predictions are cached as well as ground truths: the samples of a GRPO group often predict the very same
        state, and a micro-batch boundary must not make the model embed a text twice.
        """
        rows: dict[str, np.ndarray] = {}
        todo: dict[str, None] = {}  # insertion-ordered set
        for text in texts:
            if text in rows or text in todo:
                continue
            hit = self.cache.get(text)
            if hit is not None:
                rows[text] = hit
            else:
                todo[text] = None
        if todo:
            for text, row in zip(todo, self.embedder.embed(list(todo)), strict=True):
                rows[text] = row
                self.cache.put(text, row)
        return np.stack([rows[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)

    # -- entry points ----------------------------------------------------------------------------------------
    def score_batch(
        self,
        data_sources: list[Any],
        solutions: list[str | bytes | None],
        ground_truths: list[Any],
        extra_infos: list[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Score many samples with one embedding call."""
        n = len(solutions)
        if not (len(data_sources) == len(ground_truths) == n) or (extra_infos is not None and len(extra_infos) != n):
            raise ValueError("score_batch: data_sources, solutions, ground_truths, extra_infos differ in length")
        infos = extra_infos if extra_infos is not None else [None] * n
        rows = zip(data_sources, solutions, ground_truths, infos, strict=True)
        self.load_backends()
        preps = [self.prepare(d, s, g, e) for d, s, g, e in rows]
        judged = [p for p in preps if p.judge is not None]
        if judged:
            verdicts = self.judge.judge_batch([p.judge[:2] for p in judged], [p.judge[2] for p in judged])
            for p, v in zip(judged, verdicts, strict=True):
                p.result["reason"] = v.reason
                p.finish(v.score)
        need = [p for p in preps if p.query is not None]
        texts = [t for p in need for t in (p.query, p.doc)]
        vecs = self.embed_texts(texts)
        for i, p in enumerate(need):
            embedding.complete(p, vecs[2 * i], vecs[2 * i + 1])
        return [p.result for p in preps]

    def _batcher(self) -> MicroBatcher[PendingSample, dict[str, Any]]:
        loop = asyncio.get_running_loop()
        with self._batchers_lock:
            b = self._batchers.get(loop)
            if b is None:
                for old in [lp for lp in self._batchers if lp.is_closed()]:
                    self._batchers.pop(old).close()
                s = self.settings
                b = MicroBatcher(
                    self.score_pending,
                    s.batch_size,
                    s.max_wait_ms / 1000.0,
                    s.max_concurrent_batches,
                    weight=lambda _: TEXTS_PER_SAMPLE,
                )
                self._batchers[loop] = b
            return b

    def score_pending(self, samples: list[PendingSample]) -> list[dict[str, Any]]:
        """Score queued samples together: decode the token-id responses (one `batch_decode` per tokenizer), then
        `score_batch` (parse, cut, one embedding call). Runs on the batcher's worker thread, off the event loop."""
        solutions = decode_responses(samples)
        results = self.score_batch(
            [s.data_source for s in samples],
            [None if sol is _UNDECODABLE else sol for sol in solutions],
            [s.ground_truth for s in samples],
            [s.extra_info for s in samples],
        )
        for r, sol in zip(results, solutions, strict=True):
            if sol is _UNDECODABLE:
                r.update(score=0.0, reason=BAD_INPUT)
        return results

    async def score_tokens_async(
        self, tokenizer: Any, response_ids: Any, data_source: Any, ground_truth: Any, extra_info: Any = None
    ) -> dict[str, Any]:
        """Score one response given as token ids (special tokens skipped, as verl's managers decode); the ids
        are only queued here, and decoded with the rest of their batch on the worker thread."""
        sample = PendingSample(data_source, ground_truth, extra_info, token_ids=response_ids, tokenizer=tokenizer)
        return await self._batcher().submit(sample)


# A sample may embed two texts (the real state as query, the prediction): the batcher counts it as two toward
# `batch_size`, the most texts per embedding call.
TEXTS_PER_SAMPLE = 2
_UNDECODABLE = object()  # decode_responses: these token ids could not be decoded (scored 0, bad_input)


@dataclass
class PendingSample:
    """A sample waiting in the micro-batcher: its response as text, or as token ids and the tokenizer to decode
    them with."""

    data_source: Any
    ground_truth: Any
    extra_info: Any = None
    solution: str | bytes | None = None
    token_ids: Any = None
    tokenizer: Any = None


def decode_responses(samples: list[PendingSample]) -> list[Any]:
    """Each sample's response text: `solution` as given, or its token ids decoded -- one `batch_decode` call per
    tokenizer for the whole batch; ids that cannot be decoded (a negative id) give `_UNDECODABLE`."""
    out: list[Any] = [s.solution for s in samples]
    groups: dict[int, list[int]] = {}
    for i, s in enumerate(samples):
        if s.tokenizer is not None:
            groups.setdefault(id(s.tokenizer), []).append(i)
    for idx in groups.values():
        tok = samples[idx[0]].tokenizer
        try:
            texts = tok.batch_decode([samples[i].token_ids for i in idx], skip_special_tokens=True)
        except Exception:  # noqa: BLE001 - find the sample(s) at fault; the others still score
            texts = []
            for i in idx:
                try:
                    texts.append(tok.decode(samples[i].token_ids, skip_special_tokens=True))
                except Exception as e:  # noqa: BLE001 - one bad sample scores 0, it must not stop the step
                    logger.warning("reward: response ids could not be decoded (%s: %s)", type(e).__name__, e)
                    texts.append(_UNDECODABLE)
        for i, text in zip(idx, texts, strict=True):
            out[i] = text
    return out

"""The sim-to-real reward: compare a predicted next state with the real one.

The rule, per sample (`Scorer.prepare`, then `Scorer.complete`): read the prediction out of the response
(`answer_format.parse_response`), cut it to the token budget (`token_budget`), embed it and the real state
(`embedders`), and score `1.0 if cos >= tau else 0.0` -- tau from `settings.documented_tau` unless set.

Modes (per environment, see settings):
- facts (ALFWorld's default): 1 if the prediction reports the real world state -- read by `alfworld_state` into
  where the agent is, what is open, in or on what, held, hot/cool/clean/sliced/on, refusal, and the status of the
  last line; a negation of a sighting, a hedge or a contradiction is unreadable; plain wording outside its grammar
  gets the stricter second reading of `alfworld_cues` (names in order, state-word classes; `facts` says so) --
  and cos(E(prediction), E(real)) >= tau, else 0. An embedder alone cannot tell "You take the mug 3" (same fact)
  from "You take the mug 1" (wrong object): reward_score/calibration/ shows no cosine threshold does both;
- facts on tau2 (tau2's default; `tau2_facts`): a tool response scores 1 if it is the real one as JSON data
  (key order, whitespace, number spelling free; plain-text responses equal after normalisation), a user reply 1
  if it states the same ids, numbers, names and intent as the real one and cos >= tau; a real task-status line
  must be matched; else 0, the differences in `facts` ("$.items[0].price: 54.04 != 45.04"). The paper's mixed
  rule gives that wrong price ~0.8 (reward_score/calibration/all-MiniLM-L6-v2_tau2_facts.md);
- binary: 1 if cos(E(prediction), E(real)) >= tau else 0 (the paper's reward; its pure-embedding form);
- cosine: the cosine itself;
- mixed (tau2, the paper's rule; an ablation): a tool response scores its ROUGE-L F1 rounded to `rouge_bin`
  steps, a user reply the binary embedding reward; then -think_penalty when the reasoning has <= think_min_tokens
  tokens and -status_penalty when the predicted task-status line differs from the real one.

Bad input never raises: it scores 0 with a reason. Every result has the same keys (verl stacks them per key).
An embedding backend failure does raise (`EmbeddingBackendError`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from reward_score import tau2_facts
from reward_score.alfworld_state import read_state, state_differences
from reward_score.answer_format import REPLACEMENT_CHAR, as_text, parse_response, status_of
from reward_score.batcher import EmbeddingCache, MicroBatcher
from reward_score.embedders import Embedder, get_embedder
from reward_score.judge import Judge, JudgeContext
from reward_score.settings import ENVS, RewardSettings, env_of
from reward_score.token_budget import TokenCounter, counter_for

logger = logging.getLogger(__name__)

# Reasons a sample scored what it did.
NO_PREDICTION = "no_prediction"  # no complete <next_state>...</next_state> pair
EMPTY_PREDICTION = "empty_prediction"  # the pair holds only whitespace
INVALID_UTF8 = "invalid_utf8"  # the prediction holds bytes that were not UTF-8 text
BAD_GROUND_TRUTH = "bad_ground_truth"  # the dataset row has no usable ground truth
BAD_INPUT = "bad_input"  # anything else about the sample that could not be read (logged)
MATCH = "match"  # binary: cosine >= tau; facts: the facts agree and cosine >= tau (tau2 tool responses: no cosine)
SECOND_READING = "agree by the second reading (alfworld_cues)"  # `facts` of a match some clause of which needed it
FACTS_DIFFER = "facts_differ"  # facts: the prediction names other objects, events or facts (see `facts`)
BELOW_TAU = "below_tau"  # binary: cosine < tau
COSINE = "cosine"  # cosine mode
ROUGE = "rouge"  # mixed mode, tool response

RESULT_KEYS = (
    "score",
    "reason",
    "parsed",
    "mode",
    "state_kind",
    "cosine",
    "tau",
    "rouge_l",
    "penalty",
    "status_ok",
    "think_tokens",
    "pred_chars",
    "pred_tokens",
    "truth_tokens",
    "cut",
    "facts",
)


@dataclass
class _Prepared:
    """A sample after parsing and cutting; `query`/`doc` are set when it still needs embeddings."""

    result: dict[str, Any]
    query: str | None = None
    doc: str | None = None
    reasoning_penalty: float = 0.0
    status_penalty: float = 0.0
    judge: tuple[str, str, JudgeContext] | None = None  # mode judge: (real, predicted, context) to ask the judge


def _empty_result(mode: str, state_kind: str) -> dict[str, Any]:
    r: dict[str, Any] = dict.fromkeys(RESULT_KEYS)
    r.update(score=0.0, parsed=False, mode=mode, state_kind=state_kind, penalty=0.0, cut=False)
    r.update(think_tokens=0, pred_chars=0, pred_tokens=0, truth_tokens=0)
    return r


STATE_KINDS = ("observation", "tool_response", "user_reply")
_WARNED: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    if key not in _WARNED:
        _WARNED.add(key)
        logger.warning("reward: %s", message)


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

    def _rouge_l(self, prediction: str, truth: str) -> float:
        if self._rouge is None:
            from rouge_score import rouge_scorer

            self._rouge = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
        return float(self._rouge.score(truth, prediction)["rougeL"].fmeasure)

    # -- the steps -------------------------------------------------------------------------------------------
    def prepare(self, data_source: Any, solution: str | bytes | None, ground_truth: Any, extra_info: Any) -> _Prepared:
        """Parse, cut and (for ROUGE) score one sample; input that breaks parsing scores 0, never raises."""
        try:
            return self._prepare(data_source, solution, ground_truth, extra_info)
        except Exception as e:  # noqa: BLE001 - a malformed sample must not stop a training step
            logger.warning("reward: sample scored 0 after %s: %s", type(e).__name__, e)
            r = _empty_result(self.settings.mode_for(env_of(data_source)), _state_kind(extra_info))
            r["reason"] = BAD_INPUT
            return _Prepared(r)

    def _prepare(self, data_source: Any, solution: str | bytes | None, ground_truth: Any, extra_info: Any) -> _Prepared:
        s = self.settings
        env = env_of(data_source)
        mode = s.mode_for(env)
        kind = _state_kind(extra_info)
        r = _empty_result(mode, kind)
        truth = ground_truth.get("ground_truth") if isinstance(ground_truth, dict) else ground_truth
        truth = as_text(truth).strip() if isinstance(truth, str | bytes) else ""
        if not truth:
            r["reason"] = BAD_GROUND_TRUTH
            return _Prepared(r)
        if kind not in STATE_KINDS:
            _warn_once(f"state_kind {kind!r}", f"unknown extra_info.state_kind {kind!r} (known: {STATE_KINDS})")
            r["reason"] = BAD_INPUT
            return _Prepared(r)
        if env == "default":
            _warn_once(f"data_source {data_source!r}", f"data_source {data_source!r} names neither alfworld nor tau2: "
                       "scored with the 'default' settings")  # fmt: skip
        parsed = parse_response(solution)
        # A real state longer than any prediction may be is cut too: tokenizing megabytes stalls a whole step.
        truth, truth_tokens = self.counter.cut(truth, s.max_truth_tokens)
        r["truth_tokens"] = truth_tokens
        if parsed.prediction is None:
            r["reason"] = NO_PREDICTION
            return _Prepared(r)
        r["parsed"] = True
        r["pred_chars"] = len(parsed.prediction)
        if not parsed.prediction:
            r["reason"] = EMPTY_PREDICTION
            return _Prepared(r)
        if parsed.invalid_utf8 and REPLACEMENT_CHAR not in truth:
            r["reason"] = INVALID_UTF8
            return _Prepared(r)
        # Never cut below the real state's own length, so an exact prediction is never cut.
        budget = max(s.budget_for(env), truth_tokens)
        pred, r["pred_tokens"] = self.counter.cut(parsed.prediction, budget)
        r["cut"] = len(pred) < len(parsed.prediction)
        prep = _Prepared(r)
        if mode == "judge":
            prep.judge = (truth, pred, JudgeContext.from_sample(data_source, extra_info))
            return prep
        if mode == "mixed":
            r["think_tokens"] = self.counter.count(parsed.reasoning) if parsed.reasoning.strip() else 0
            if r["think_tokens"] <= s.think_min_tokens:
                prep.reasoning_penalty = s.think_penalty
            real_status = status_of(truth)
            if real_status is not None:
                r["status_ok"] = status_of(parsed.prediction) == real_status
                if not r["status_ok"]:
                    prep.status_penalty = s.status_penalty
        if mode == "mixed" and kind == "tool_response":
            r["rouge_l"] = f1 = self._rouge_l(pred, truth)
            r["reason"] = ROUGE
            self._finish(prep, round(round(f1 / s.rouge_bin) * s.rouge_bin, 6))
            return prep
        r["tau"] = s.tau_for(env)
        if mode == "facts" and env == "tau2":
            if self._tau2_facts(prep, ground_truth, truth, parsed.prediction, kind):
                return prep
        elif mode == "facts" and env == "default":
            _warn_once(f"facts {env}", f"mode facts reads ALFWorld and tau2 states; {env} samples are scored as binary")
        elif mode == "facts":
            # The whole prediction is read, not the cut one: text past the budget (a second status line) counts.
            differences = state_differences(truth, parsed.prediction)
            if differences:
                r["facts"], r["reason"] = "; ".join(differences), FACTS_DIFFER
                return prep
            if read_state(parsed.prediction).unread:
                r["facts"] = SECOND_READING
        prep.query, prep.doc = s.query_text(truth), pred
        return prep

    def _tau2_facts(self, prep: _Prepared, ground_truth: Any, truth: str, prediction: str, kind: str) -> bool:
        """Facts mode on tau2 (`tau2_facts.check` on the whole prediction): True when that decides the sample --
        the facts differ (0), or a tool response's facts agree (1); a user reply whose facts agree goes on to the
        cosine gate (False)."""
        r = prep.result
        if kind == "tool_response":
            r["tau"] = None  # decided by the facts alone, no cosine
        if r["truth_tokens"] > self.settings.max_truth_tokens:  # a cut JSON response would no longer parse
            truth = ground_truth.get("ground_truth") if isinstance(ground_truth, dict) else ground_truth
            truth = as_text(truth).strip()
        verdict = tau2_facts.check(truth, prediction, kind)
        r["status_ok"] = verdict.status_ok
        if verdict.differences:
            r["facts"], r["reason"] = "; ".join(verdict.differences), FACTS_DIFFER
            return True
        if kind == "tool_response":
            r["reason"] = MATCH
            self._finish(prep, 1.0)
            return True
        return False

    def _finish(self, prep: _Prepared, base: float) -> None:
        penalty = prep.reasoning_penalty + prep.status_penalty
        prep.result["penalty"] = -penalty if penalty else 0.0
        prep.result["score"] = round(float(base - penalty), 6)

    def complete(self, prep: _Prepared, query_row: np.ndarray, doc_row: np.ndarray) -> dict[str, Any]:
        r = prep.result
        cos = float(np.clip(np.dot(query_row, doc_row), -1.0, 1.0))
        r["cosine"] = cos
        if r["mode"] == "cosine":
            r["reason"] = COSINE
            self._finish(prep, cos)
        else:
            ok = cos >= r["tau"]
            r["reason"] = MATCH if ok else BELOW_TAU
            self._finish(prep, 1.0 if ok else 0.0)
        return r

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
                self._finish(p, v.score)
        need = [p for p in preps if p.query is not None]
        texts = [t for p in need for t in (p.query, p.doc)]
        vecs = self.embed_texts(texts)
        for i, p in enumerate(need):
            self.complete(p, vecs[2 * i], vecs[2 * i + 1])
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

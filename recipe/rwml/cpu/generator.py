"""Batched token-in/token-out sampling with an HF transformers causal LM: the engine behind the CPU rollout server.

Requests that arrive while a batch runs wait for the next one; each batch is left-padded and decoded step by step
with the model's KV cache, a prompt asked several times (a group of samples) prefilled once. Every request keeps
its own sampling settings (temperature, top-p, top-k, seed, stop tokens, max tokens). Log-probs are those of the
sampled token under softmax(logits / temperature), which is what verl's actor recomputes, so `rollout_probs_diff`
measures only numerics, not a different distribution.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch

logger = logging.getLogger(__name__)

# verl and vLLM sampling keys this engine honours; other keys are errors, keys set to their no-op value are fine.
_NOOP_VALUES = {"repetition_penalty": 1.0, "min_p": 0.0, "presence_penalty": 0.0, "frequency_penalty": 0.0}
_IGNORED_KEYS = {"detokenize", "skip_special_tokens", "spaces_between_special_tokens", "include_stop_str_in_output"}


@dataclass
class SamplingSpec:
    """What one request asks for; `from_params` reads verl's sampling-params dict."""

    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = -1
    stop_token_ids: list[int] = field(default_factory=list)
    ignore_eos: bool = False
    seed: int | None = None

    @classmethod
    def from_params(cls, params: dict[str, Any], default_max_tokens: int) -> SamplingSpec:
        params = dict(params)
        max_tokens = params.pop("max_tokens", None) or params.pop("max_new_tokens", None) or default_max_tokens
        spec = cls(max_tokens=int(max_tokens))
        do_sample = params.pop("do_sample", True)
        for key in ("temperature", "top_p", "top_k", "stop_token_ids", "ignore_eos", "seed"):
            if key in params and params[key] is not None:
                setattr(spec, key, params.pop(key))
            params.pop(key, None)
        if not do_sample:
            spec.temperature = 0.0
        params.pop("logprobs", None)  # always returned
        if params.get("n", 1) == 1:
            params.pop("n", None)
        for key in list(params):
            if key in _IGNORED_KEYS or (key in _NOOP_VALUES and params[key] in (None, _NOOP_VALUES[key])):
                params.pop(key)
        if params:
            raise ValueError(f"the HF CPU rollout does not support sampling settings {sorted(params)}")
        spec.stop_token_ids = [int(t) for t in spec.stop_token_ids or []]
        spec.validate()
        return spec

    def validate(self) -> None:
        """Types and ranges, so that no row can fail inside a batch: a finite temperature >= 0 (below
        `GREEDY_BELOW`: greedy, as vLLM), 0 < top_p <= 1, top_k an integer (<= 0: off), max_tokens >= 1."""
        self.max_tokens = _integer("max_tokens", self.max_tokens)
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {self.max_tokens}")
        self.temperature = _number("temperature", self.temperature)
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.temperature < GREEDY_BELOW:
            self.temperature = 0.0  # logits / 1e-300 overflow to inf and sample NaN
        self.top_p = _number("top_p", self.top_p)
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        self.top_k = _integer("top_k", self.top_k)
        if self.seed is not None:
            self.seed = _integer("seed", self.seed)


GREEDY_BELOW = 1e-5  # vLLM's _SAMPLING_EPS: a smaller temperature samples greedily


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


@dataclass
class Generation:
    token_ids: list[int]
    log_probs: list[float]
    finish_reason: str  # "stop" (EOS or a stop token, included in token_ids) | "length"


@dataclass
class _Request:
    prompt_ids: list[int]
    spec: SamplingSpec
    future: asyncio.Future


def _filter_logits(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    """One row of logits with everything outside top-k / the top-p nucleus set to -inf."""
    if 0 < top_k < logits.numel():
        kth = torch.topk(logits, top_k).values[-1]
        logits = logits.masked_fill(logits < kth, -math.inf)
    if 0.0 < top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True)
        cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(-1)
        drop = cumulative - torch.softmax(sorted_logits, dim=-1) >= top_p  # keep the token that crosses top_p
        logits = logits.masked_fill(torch.zeros_like(drop).scatter(0, order, drop), -math.inf)
    return logits


class BatchedGenerator:
    """Serve concurrent `generate` calls from one HF causal LM, batching those that wait together."""

    def __init__(
        self,
        model: Any,
        eos_token_ids: list[int],
        pad_token_id: int,
        *,
        max_batch_size: int = 64,
        max_model_len: int | None = None,
        seed: int = 0,
    ) -> None:
        self.model = model.eval()
        self.eos_token_ids = sorted(set(eos_token_ids))
        self.pad_token_id = pad_token_id
        self.max_batch_size = max_batch_size
        self.max_model_len = max_model_len
        self.rng = torch.Generator().manual_seed(seed)
        self.batch_sizes: list[int] = []  # one entry per batch run, for metrics and tests
        self.busy_s = 0.0  # seconds spent generating, all batches
        self.cancelled_rows = 0  # rows dropped because their request was cancelled (the client went away)
        self.prefilled_rows = 0  # prompts run through the model's first pass: distinct prompts per batch, all batches
        self._queue: list[_Request] = []
        self._worker: asyncio.Task | None = None
        self._model_lock = asyncio.Lock()  # a weight load never overlaps a batch

    # ------------------------------------------------------------------------------------------- API

    async def generate(self, prompt_ids: list[int], spec: SamplingSpec) -> Generation:
        if not prompt_ids:
            raise ValueError("empty prompt")
        if self.max_model_len is not None:
            room = self.max_model_len - len(prompt_ids)
            if room < 1:
                raise ValueError(
                    f"prompt of {len(prompt_ids)} tokens leaves no room under max_model_len {self.max_model_len}"
                )
            spec.max_tokens = min(spec.max_tokens, room)
        future = asyncio.get_running_loop().create_future()
        self._queue.append(_Request(list(prompt_ids), spec, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._serve())
        return await future

    async def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Load (a subset of) weights, between batches; names must be the model's own."""
        async with self._model_lock:
            own = self.model.state_dict()
            unknown = sorted(set(state) - set(own))
            if unknown:
                raise ValueError(f"weights the rollout model does not have: {unknown[:5]} ({len(unknown)} in all)")
            with torch.no_grad():
                for name, tensor in state.items():
                    own[name].copy_(tensor.to(own[name].dtype))

    # ------------------------------------------------------------------------------------------- batching

    async def _serve(self) -> None:
        while self._queue:
            await asyncio.sleep(0)  # let requests sent together reach the queue
            waiting = len(self._queue)
            self._queue = [r for r in self._queue if not r.future.done()]  # a client that went away: dropped
            self.cancelled_rows += waiting - len(self._queue)
            batch, self._queue = self._queue[: self.max_batch_size], self._queue[self.max_batch_size :]
            if not batch:
                break
            try:
                async with self._model_lock:
                    results = await asyncio.to_thread(self._run_batch, batch)
            except Exception:  # noqa: BLE001 - the server lives on; only the request that fails alone fails
                logger.exception("generation batch of %d failed; decoding its requests one by one", len(batch))
                results = None
            if results is None:
                await self._serve_one_by_one(batch)
                continue
            for request, result in zip(batch, results, strict=True):
                if not request.future.done():
                    request.future.set_result(result)

    async def _serve_one_by_one(self, batch: list[_Request]) -> None:
        """After a batch failed: each request decoded alone, so one bad row fails only its own request."""
        for request in batch:
            if request.future.done():
                continue
            try:
                async with self._model_lock:
                    (result,) = await asyncio.to_thread(self._run_batch, [request])
            except Exception as exc:  # noqa: BLE001
                logger.exception("a request failed on its own")
                if not request.future.done():
                    request.future.set_exception(exc)
                continue
            if not request.future.done():
                request.future.set_result(result)

    def _run_batch(self, batch: list[_Request]) -> list[Generation]:
        start = time.perf_counter()
        try:
            return self._decode(batch)
        finally:
            self.busy_s += time.perf_counter() - start

    @torch.no_grad()
    def _decode(self, batch: list[_Request]) -> list[Generation]:
        self.batch_sizes.append(len(batch))
        n = len(batch)
        # a group of samples of one prompt (GRPO's n, the easy-sample filter's K) is prefilled once, then its cache
        # is copied to each row: on CPU the prompt's forward pass is most of a short generation's cost
        prompts = list(dict.fromkeys(tuple(r.prompt_ids) for r in batch))
        rows = torch.tensor([prompts.index(tuple(r.prompt_ids)) for r in batch])
        self.prefilled_rows += len(prompts)
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), self.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(prompts), width), dtype=torch.long)
        for i, prompt in enumerate(prompts):  # left padding: every row's next token sits in the last column
            input_ids[i, width - len(prompt) :] = torch.tensor(prompt)
            attention[i, width - len(prompt) :] = 1
        generators = [self._row_generator(r.spec) for r in batch]
        stops = [set(r.spec.stop_token_ids) | (set() if r.spec.ignore_eos else set(self.eos_token_ids)) for r in batch]
        outputs: list[list[int]] = [[] for _ in batch]
        logprobs: list[list[float]] = [[] for _ in batch]
        finished = [False] * n
        reasons = ["length"] * n
        past = None
        step_ids = input_ids
        for step in range(max(r.spec.max_tokens for r in batch)):
            position_ids = (attention.cumsum(-1) - 1).clamp(min=0)[:, -step_ids.shape[1] :]
            out = self.model(
                input_ids=step_ids,
                attention_mask=attention,
                position_ids=position_ids,
                past_key_values=past,
                use_cache=True,
            )
            past = out.past_key_values
            logits = out.logits[:, -1, :].float()
            if step == 0 and len(prompts) < n:  # one row per request from here on
                past.reorder_cache(rows)
                logits, attention = logits[rows], attention[rows]
            next_ids = torch.full((n,), self.pad_token_id, dtype=torch.long)
            for i, r in enumerate(batch):
                if not finished[i] and r.future.done():  # cancelled: its client went away
                    finished[i] = True
                    self.cancelled_rows += 1
                if finished[i]:
                    continue
                token, logprob = self._sample(logits[i], r.spec, generators[i])
                next_ids[i] = token
                outputs[i].append(token)
                logprobs[i].append(logprob)
                if token in stops[i]:
                    finished[i], reasons[i] = True, "stop"
                elif len(outputs[i]) >= r.spec.max_tokens:
                    finished[i] = True
            if all(finished):
                break
            step_ids = next_ids[:, None]
            attention = torch.cat([attention, torch.ones((n, 1), dtype=torch.long)], dim=1)
        return [Generation(o, lp, reason) for o, lp, reason in zip(outputs, logprobs, reasons, strict=True)]

    def _row_generator(self, spec: SamplingSpec) -> torch.Generator:
        if spec.seed is not None:
            return torch.Generator().manual_seed(int(spec.seed))
        return torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,), generator=self.rng)))

    @staticmethod
    def _sample(logits: torch.Tensor, spec: SamplingSpec, generator: torch.Generator) -> tuple[int, float]:
        if spec.temperature <= 0:
            token = int(torch.argmax(logits))
            return token, float(torch.log_softmax(logits, dim=-1)[token])
        scaled = logits / spec.temperature
        filtered = _filter_logits(scaled, spec.top_k, spec.top_p)
        token = int(torch.multinomial(torch.softmax(filtered, dim=-1), 1, generator=generator))
        return token, float(torch.log_softmax(scaled, dim=-1)[token])

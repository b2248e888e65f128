"""The reward as plain functions: `compute_score` for one sample, `compute_score_batch` for many.

These are what `from reward_score import compute_score` gives. Usable from scripts, or through verl's
`reward.custom_reward_function.{path,name}` (its `reward_kwargs` arrive here as keyword arguments: model, mode,
tau, budget_tokens, instruction, ...). One Scorer, and so one loaded embedding model, is kept per distinct
settings in the process. The Scorer's embedder and token counter load when it is made, before any sample is
scored: a model that cannot be loaded raises `EmbeddingBackendError` naming it, never a batch of bad_input zeros.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from reward_score.scoring import Scorer
from reward_score.settings import RewardSettings

_SCORERS: dict[str, Scorer] = {}
_LOCK = threading.Lock()
# Keys verl's reward managers pass that are not reward settings.
_VERL_KWARGS = {"reward_router_address", "reward_model_tokenizer", "tokenizer"}


def get_scorer(settings: dict[str, Any] | None = None, tokenizer: Any = None) -> Scorer:
    """The process-wide Scorer for these settings (and token-counting tokenizer), its backend loaded.

    Unknown or invalid settings raise ValueError naming them; a backend that cannot load raises
    `EmbeddingBackendError` and is not kept, so a later call after the model is in place loads it.
    """
    settings = dict(settings or {})
    key = json.dumps(settings, sort_keys=True, default=str) + f"|{id(tokenizer) if tokenizer is not None else ''}"
    with _LOCK:
        if key not in _SCORERS:
            scorer = Scorer(RewardSettings.from_mapping(settings), tokenizer=tokenizer)
            scorer.load_backends()
            _SCORERS[key] = scorer
        return _SCORERS[key]


def check_backend(settings: dict[str, Any] | None = None) -> Scorer:
    """The Scorer for `settings`, its model loaded and its embedder asked for one embedding: a tool calls this
    before hours of work, so a backend that cannot load or answer stops it at once (`EmbeddingBackendError`)."""
    scorer = get_scorer(settings)
    if scorer.uses_embedder:
        scorer.embedder.embed(["You are in the middle of a room."])
    return scorer


def _split_kwargs(kwargs: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    tokenizer = kwargs.get("tokenizer")
    return {k: v for k, v in kwargs.items() if k not in _VERL_KWARGS}, tokenizer


def compute_score(
    data_source: Any, solution_str: str | bytes | None, ground_truth: Any, extra_info: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """Score one predicted state: {"score": float, "reason": str, "cosine": float|None, ...}.

    `extra_info["state_kind"]` ("observation", "tool_response", "user_reply") picks the tau2 rule
    for the kind (facts: JSON data for tool responses, stated facts for user replies; mixed: ROUGE-L / embedding).
    Keyword arguments are reward settings (see RewardSettings); `tokenizer=` counts budget tokens.
    """
    settings, tokenizer = _split_kwargs(kwargs)
    return get_scorer(settings, tokenizer).score_batch([data_source], [solution_str], [ground_truth], [extra_info])[0]


def compute_score_batch(
    data_sources: list[Any],
    solution_strs: list[str | bytes | None],
    ground_truths: list[Any],
    extra_infos: list[Any] | None = None,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """Score many predicted states with one embedding call; one dict per sample, as compute_score."""
    settings, tokenizer = _split_kwargs(kwargs)
    return get_scorer(settings, tokenizer).score_batch(data_sources, solution_strs, ground_truths, extra_infos)

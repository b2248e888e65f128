"""Sim-to-real reward for RWML: how close a predicted next state lands to the real one.

`from reward_score import compute_score` scores one response; `compute_score_batch` many;
`reward_score.reward_manager.SimToRealRewardManager` is the verl reward manager that batches embeddings
across concurrent samples. The documented taus (`settings.documented_tau`) were chosen offline by the
`reward_calibration` package, which this package never imports.
Heavy libraries (sentence-transformers, openai, rouge-score) load on first use, not on import.

The modules, in the order a sample meets them:
    answer_format     the world model's answer format: tags, task-status line, parsing a response
    reward_manager    verl's entry point (reward workers); reward_functions: the same reward as plain functions
    scoring           reading a sample (env, state kind, prediction, budget) and batching; `RULES` picks its rule
    rules/            the rules, one a module: ALFWorld facts, tau2 facts, binary/cosine, mixed, judge
    results           the keys of every score dict and the reasons
    settings          reward settings, the env of a sample, the documented tau per embedder (`documented_tau`)
    token_budget      counting tokens and cutting a prediction to its budget
    embedders         local sentence-transformers model or OpenAI-compatible endpoint
    batcher           pooling concurrent samples into embedding batches; the embedding LRU
"""

from reward_score.reward_functions import compute_score, compute_score_batch
from reward_score.settings import RewardSettings

__all__ = ["RewardSettings", "compute_score", "compute_score_batch"]

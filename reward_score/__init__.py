"""Sim-to-real reward for RWML: how close a predicted next state lands to the real one.

`from reward_score import compute_score` scores one response; `compute_score_batch` many;
`reward_score.reward_manager.SimToRealRewardManager` is the verl reward manager that batches embeddings
across concurrent samples; `python -m reward_score.calibrate` picks tau for an embedder.
Heavy libraries (sentence-transformers, openai, rouge-score) load on first use, not on import.

The modules, in the order a sample meets them:
    answer_format     the world model's answer format: tags, task-status line, parsing a response
    reward_manager    verl's entry point (reward workers); reward_functions: the same reward as plain functions
    scoring           the rule: parse, cut, embed, `cos >= tau` (or cosine, facts, mixed, judge)
    settings          reward settings and the documented tau per embedder (`documented_tau`)
    token_budget      counting tokens and cutting a prediction to its budget
    embedders         local sentence-transformers model or OpenAI-compatible endpoint
    batcher           pooling concurrent samples into embedding batches; the embedding LRU
    calibrate         choosing tau for an embedder (alfworld_pairs: the real ALFWorld pairs it uses)
"""

from reward_score.reward_functions import compute_score, compute_score_batch
from reward_score.settings import RewardSettings

__all__ = ["RewardSettings", "compute_score", "compute_score_batch"]

"""Sim-to-real reward for RWML: how close a predicted next state lands to the real one.

`from reward_score import compute_score` scores one response; `compute_score_batch` many;
`reward_score.reward_manager.SimToRealRewardManager` is the verl reward manager that batches embeddings
across concurrent samples; `python -m reward_score.calibrate` picks tau for an embedder.
Heavy libraries (sentence-transformers, openai, rouge-score) load on first use, not on import.
"""

from reward_score.api import compute_score, compute_score_batch
from reward_score.settings import RewardSettings

__all__ = ["RewardSettings", "compute_score", "compute_score_batch"]

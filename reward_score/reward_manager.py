"""The verl 0.9.1 reward manager for RWML: sim-to-real reward with embeddings batched across samples.

Select it with
    reward.reward_manager.source=importlib
    reward.reward_manager.name=SimToRealRewardManager
    reward.reward_manager.module.path=pkg://reward_score.reward_manager
and set its options under `reward.reward_kwargs` (keys of RewardSettings: model, base_url, mode, tau,
budget_tokens, instruction, batch_size, max_wait_ms, ...; `+reward.reward_kwargs.tau=0.9` on the command
line when the recipe yaml does not declare the key).

verl builds one manager per reward worker (a Ray actor) and awaits `run_single` once per sample, many at
a time on one event loop. `run_single` only queues the sample's token ids; the Scorer's micro-batcher pools
the concurrent calls and, on a worker thread, decodes the whole batch at once, parses it and embeds it in one
call (each distinct text once, LRU cache: ground truths and predictions; the model is loaded once per
process). A backend failure raises out of every waiting run_single.
"""

from __future__ import annotations

from typing import Any

from verl import DataProto
from verl.experimental.reward_loop.reward_manager.base import RewardManagerBase

from reward_score.scoring import Scorer
from reward_score.settings import RewardSettings


class SimToRealRewardManager(RewardManagerBase):
    """Scores `<next_state>` predictions against `reward_model.ground_truth` with an embedding model."""

    def __init__(
        self,
        config: Any,
        tokenizer: Any,
        compute_score: Any = None,
        reward_router_address: str | None = None,
        reward_model_tokenizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, tokenizer, compute_score)
        reward_cfg = config.get("reward", {}) if hasattr(config, "get") else {}
        self.settings = RewardSettings.from_mapping(reward_cfg.get("reward_kwargs") or {})
        self.scorer = Scorer(self.settings, tokenizer=tokenizer)
        self.scorer.load_backends()  # the model now, once per worker, not inside the first step

    async def run_single(self, data: DataProto) -> dict[str, Any]:
        # Multi-sequence outputs: the last sequence is the one scored. Only its ids are queued here; the scorer
        # decodes them with the rest of the batch on its worker thread, so the event loop keeps pooling samples.
        response_ids = data.batch["responses"][-1]
        valid_len = int(data.batch["attention_mask"][-1, -response_ids.shape[-1] :].sum())
        fields = data.non_tensor_batch
        extra_info = fields["extra_info"][-1] if "extra_info" in fields else None
        result = await self.scorer.score_tokens_async(
            self.tokenizer, response_ids[:valid_len], fields["data_source"][-1], fields["reward_model"][-1], extra_info
        )
        return {"reward_score": result["score"], "reward_extra_info": result}

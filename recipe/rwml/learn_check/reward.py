"""The learn check's reward manager: the project's `SimToRealRewardManager`, optionally inverted (1 - score).

The inversion is the check's own flag (`+reward.learn_check_invert=true`), never a product setting: trained on the
inverted reward, GRPO must make the project's reward fall. The project's score stays in `reward_extra_info`.
Loaded by verl's reward loop like the product's manager:
    reward.reward_manager.name=LearnCheckRewardManager reward.reward_manager.module.path=pkg://recipe.rwml.learn_check.reward
"""

from __future__ import annotations

from typing import Any

from verl import DataProto

from reward_score.reward_manager import SimToRealRewardManager

INVERT_KEY = "learn_check_invert"  # under `reward`


class LearnCheckRewardManager(SimToRealRewardManager):
    """The project's reward, or 1 minus it."""

    def __init__(self, config: Any, tokenizer: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, tokenizer, *args, **kwargs)
        reward_cfg = config.get("reward", {}) if hasattr(config, "get") else {}
        self.invert = bool(reward_cfg.get(INVERT_KEY, False))

    async def run_single(self, data: DataProto) -> dict[str, Any]:
        result = await super().run_single(data)
        project_score = float(result["reward_score"])
        info = dict(result["reward_extra_info"])
        info["project_score"] = project_score
        score = 1.0 - project_score if self.invert else project_score
        return {"reward_score": score, "reward_extra_info": info}

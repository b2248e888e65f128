"""Learnability: GRPO through verl's real trainer on CPU must raise the project's reward on a problem the model can
certainly learn, and lower it when trained on the inverted reward (recipe/rwml/learn_check).

Together the two runs catch a wrong advantage sign, a reward landing on the wrong sample and a stale weight sync: any
of them leaves the reward flat or moves both runs the same way.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import torch

from recipe.rwml.learn_check.__main__ import Curve, plot, table, verdict


def test_the_verdict_needs_a_rise_and_a_fall_by_the_margin(tmp_path: Path) -> None:
    rising, falling = Curve("a", [0.3, 0.35, 0.3, 0.7, 0.9, 1.0]), Curve("b", [0.35, 0.3, 0.3, 0.1, 0.0, 0.0])
    line, learned = verdict("stage1", rising, falling, 3, 0.25)
    assert learned and line == "learn-check stage1: reward 0.317 -> 0.867 over 6 steps (inverted: 0.317 -> 0.033)"
    assert not verdict("stage1", rising, rising, 3, 0.25)[1]  # the inverted run rose too: a sign or alignment bug
    assert not verdict("stage1", Curve("c", [0.3] * 6), falling, 3, 0.25)[1]  # flat: nothing learnt
    assert "   1             0.300             0.350" in table([rising, falling])
    assert plot([rising, falling], tmp_path / "c.png", "t").read_bytes()[:4] == b"\x89PNG"


def test_the_checks_reward_manager_inverts_only_its_own_run(tiny_model_dir: Path) -> None:
    from hydra import compose, initialize_config_module
    from transformers import AutoTokenizer
    from verl import DataProto
    from verl.trainer.ppo.reward import load_reward_manager

    from recipe.rwml.learn_check.stage1 import answers

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    truth = "Nothing happens.\nTask is not yet completed."

    def scores(invert: bool) -> list[dict]:
        overrides = [
            "reward.reward_manager.source=importlib",
            "reward.reward_manager.name=LearnCheckRewardManager",
            "reward.reward_manager.module.path=pkg://recipe.rwml.learn_check.reward",
            f"actor_rollout_ref.model.path={tiny_model_dir}",
            "+reward.reward_kwargs.mode=facts",
            f"+reward.learn_check_invert={str(invert).lower()}",
        ]
        with initialize_config_module(config_module="verl.trainer.config", version_base=None):
            manager = load_reward_manager(compose("ppo_trainer", overrides=overrides), tok)
        out = []
        for text in answers():
            ids = torch.tensor([tok.encode(text) + [tok.eos_token_id]])
            data = DataProto.from_dict(
                tensors={"responses": ids, "attention_mask": torch.ones_like(ids)},
                non_tensors={
                    "data_source": np.array(["rwml_alfworld"], dtype=object),
                    "reward_model": np.array([{"style": "sim_to_real", "ground_truth": truth}], dtype=object),
                    "extra_info": np.array([{"env": "alfworld"}], dtype=object),
                },
            )
            out.append(asyncio.run(manager.run_single(data)))
        return out

    plain, inverted = scores(False), scores(True)
    assert [o["reward_score"] for o in plain] == [1.0, 0.0, 0.0]  # the refusal is the one true answer
    assert [o["reward_score"] for o in inverted] == [0.0, 1.0, 1.0]
    assert [o["reward_extra_info"]["project_score"] for o in inverted] == [1.0, 0.0, 0.0]

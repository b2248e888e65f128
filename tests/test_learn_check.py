"""Learnability: GRPO through verl's real trainer on CPU must raise the project's reward on a problem the model can
certainly learn, and lower it when trained on the inverted reward (stage 1); task-success GRPO through the env agent
loop must raise the success rate in the toy button room, windowed and multi-turn (stage 2). recipe/rwml/learn_check.

Together the runs catch a wrong advantage sign, a reward landing on the wrong sample and a stale weight sync: any of
them leaves the reward flat or moves the trained and the inverted run the same way.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import torch

from recipe.rwml.learn_check.curves import CheckResult, Curve, plot, table


def test_the_verdict_needs_a_rise_a_fall_and_a_gap(tmp_path: Path) -> None:
    rising, falling = Curve("a", [0.3, 0.35, 0.3, 0.7, 0.9, 1.0]), Curve("b", [0.35, 0.3, 0.3, 0.1, 0.0, 0.0])
    result = CheckResult("stage1", "r", rising, falling, 3, 0.25, fall_margin=0.05)
    assert result.learned()
    assert result.line() == "learn-check stage1: reward 0.317 -> 0.867 over 6 steps (inverted: 0.317 -> 0.033)"
    same_way = CheckResult("s", "r", rising, rising, 3, 0.25, fall_margin=0.05)
    assert not same_way.learned()  # the inverted run rose too: a sign bug
    flat = CheckResult("stage1", "r", Curve("c", [0.3] * 6), falling, 3, 0.25, fall_margin=0.05)
    assert not flat.learned() and flat.line().endswith("FAILED (margin 0.25, fall 0.05)")  # flat: nothing learnt
    # from a low start the inverted run cannot fall far: a small fall counts when it ends far below the trained run
    low = Curve("d", [0.16, 0.19, 0.19, 0.06, 0.09, 0.03])
    assert CheckResult("stage1", "r", rising, low, 3, 0.25, fall_margin=0.05).learned()
    both_low = CheckResult("stage1", "r", Curve("e", [0.0, 0.0, 0.0, 0.27, 0.27, 0.27]), low, 3, 0.25, fall_margin=0.05)
    assert not both_low.learned()  # it rose by 0.27, but ends only 0.21 above the inverted run
    alone = CheckResult("stage2-windowed", "s", rising, None, 3, 0.25)
    assert alone.learned() and alone.line().endswith("(inverted: not run)")
    assert not CheckResult("stage2-windowed", "s", Curve("f", [0.5] * 6), None, 3, 0.25).line().endswith("not run)")
    assert "   1                     0.300                     0.350" in table([rising, falling])
    assert plot(result, tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


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


def test_the_button_room_is_deterministic_and_only_green_opens_the_door() -> None:
    from envs.registry import list_tasks, make_env

    tasks = list_tasks("button_room", "train")
    assert len({t.task_id for t in tasks}) == 6  # every order of the three buttons
    env = make_env("button_room")
    reset = env.reset(tasks[0])
    assert env.admissible_actions == [f"press {c} button" for c in tasks[0].kwargs["order"]]
    assert "red button" in reset.observation and reset.task == "Your task is to: open the door."
    wrong = env.step("press red button")
    assert (wrong.valid, wrong.done, wrong.success) == (True, False, False)
    assert env.step("dance").valid is False  # not a button: invalid, the episode goes on
    right = env.step("Press  GREEN button")
    assert (right.valid, right.done, right.success, right.reward) == (True, True, True, 1.0)


def test_the_policy_prompt_and_parser_treat_the_button_room_like_alfworld() -> None:
    from data_prep.policy_actions import parse_action
    from recipe.rwml.learn_check.stage2 import answer, contexts

    assert parse_action(answer("green"), "button_room") == ("press green button", True)
    prompts = contexts()
    assert len(prompts) == 6 * (1 + 2 * 2)  # per task: the first turn; after each wrong button, both layouts
    first = prompts[0]
    assert first[0]["role"] == "system" and "<action>" in first[0]["content"]
    assert first[-1]["content"].endswith("Admissible actions: press red button, press green button, press blue button")
    multi_turn = prompts[2]
    assert [m["role"] for m in multi_turn] == ["system", "user", "assistant", "user"]
    assert multi_turn[-1]["content"].startswith("Observation: You press the red button. Nothing happens.")


def test_success_rate_counts_episodes_not_samples(tmp_path: Path) -> None:
    import json

    from recipe.rwml.learn_check.stage2 import success_rate

    # two windowed episodes of prompt p: one failed in two env steps (two samples), one opened the door at once
    # and verl's filler samples of the last mini-batch, which are no episodes
    pad = "pad" + "0" * 32
    rows = [("p_0_0", -0.1), ("p_0_1", -0.1), ("p_1_0", 0.9), (f"{pad}_0_0", 0.0), (f"{pad}_1_0", 0.0)]
    (tmp_path / "1.jsonl").write_text("".join(json.dumps({"uid": u, "score": s}) + "\n" for u, s in rows))
    (tmp_path / "2.jsonl").write_text(json.dumps({"uid": "q_0_0", "score": 1.0}) + "\n")
    assert success_rate(tmp_path) == [0.5, 1.0]
    (tmp_path / "3.jsonl").write_text(json.dumps({"uid": "broken", "score": 1.0}) + "\n")
    with pytest.raises(RuntimeError, match="3.jsonl:1"):
        success_rate(tmp_path)


@pytest.mark.slow
def test_stage1_grpo_raises_the_reward_and_lowers_it_when_inverted(tmp_path: Path) -> None:
    from recipe.rwml.learn_check import stage1

    result = stage1.check(tmp_path)
    print(table(result.curves()))
    print(result.line())
    assert result.learned(), result.line()


@pytest.mark.slow
@pytest.mark.parametrize("context", ["windowed", "multi_turn"])
def test_stage2_grpo_raises_the_success_rate(context: str, stage2_results: dict[str, CheckResult]) -> None:
    result = stage2_results[context]
    print(table(result.curves()))
    print(result.line())
    assert result.learned(), result.line()


@pytest.fixture(scope="module")
def stage2_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CheckResult]:
    """Both context modes, trained (as `make learn-check` does) from one warmed-up model."""
    from recipe.rwml.learn_check import stage2

    return stage2.checks(tmp_path_factory.mktemp("learn_check_stage2"))

"""The reward on real ALFWorld transitions (valid_seen games; calibration uses valid_train).

The handcoded expert, mixed with random admissible actions, plays each game; at some steps the game is
replayed and another admissible action taken instead. The real next state must score 1; the other action's
outcome in the very same state should mostly score 0 under the embedder's documented tau.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from data_prep.policy_actions import format_error_message
from envs.episode import FORMAT_ERROR_KIND, Episode, StepRecord, episode_id
from envs.registry import list_tasks, make_env
from reward_calibration.alfworld_candidates import rewrite
from reward_calibration.alfworld_pairs import collect_pairs, pairs_from_episodes
from reward_calibration.calibrate import calibrate
from reward_score import RewardSettings, compute_score_batch
from reward_score.answer_format import STATE_CLOSE, STATE_OPEN, STATUS_NOT_DONE

SPLIT = "valid_seen"


@pytest.fixture(scope="module")
def pairs(shared_alfworld):
    return collect_pairs(shared_alfworld, SPLIT, games=5, branches=2, max_steps=6, seed=0, progress=False)


def tagged(state: str) -> str:
    return f"<think>What the room shows after the action.</think>{STATE_OPEN}{state}{STATE_CLOSE}"


def test_pairs_are_real_branches(pairs):
    assert len(pairs) == 10 and len({p.game for p in pairs}) == 5
    for p in pairs:
        assert p.action != p.other_action
        assert p.next_state.endswith(("Task is not yet completed.", "Task completed."))
        assert p.task.startswith("Your task is to:")


def test_real_next_state_scores_one_and_other_actions_mostly_zero(pairs):
    settings = RewardSettings()
    tau = settings.tau_for("alfworld")
    n = len(pairs)
    real = compute_score_batch(["alfworld"] * n, [tagged(p.next_state) for p in pairs], [p.next_state for p in pairs])
    differs = [p for p in pairs if p.other_next_state != p.next_state]
    other = compute_score_batch(
        ["alfworld"] * len(differs), [tagged(p.other_next_state) for p in differs], [p.next_state for p in differs]
    )
    assert [r["score"] for r in real] == [1.0] * n
    tnr = float(np.mean([r["score"] == 0.0 for r in other]))
    balanced = (1.0 + tnr) / 2
    reasons = sorted(r["reason"] for r in other)
    print(f"\nALFWorld {SPLIT}: tau={tau} real->1 {n}/{n}, other-action->0 {tnr:.2f}, balanced acc {balanced:.3f}")
    assert tnr >= 0.95, reasons


def test_calibration_on_pairs_writes_curves_and_recommends_tau_per_mode(pairs, tmp_path):
    result = calibrate(pairs, RewardSettings(), tmp_path, name="calib")
    assert (tmp_path / "calib.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((tmp_path / "calib.json").read_text())
    samples = (tmp_path / "calib.samples.jsonl").read_text().splitlines()
    assert saved["facts"]["recommended_tau"] == result["facts"]["recommended_tau"] and len(samples) >= 4 * len(pairs)
    kinds = {json.loads(line)["kind"] for line in samples}
    assert kinds >= {"exact", "paraphrased", "other_action", "object_swap", "flipped_fact", "previous_copy"}
    binary = result["binary"]
    lo, hi = binary["best_tau_range"]
    assert lo <= binary["recommended_tau"] <= hi
    rows = {r["tau"]: r for r in binary["table"]}
    # Raising tau can only turn 1s into 0s: positives fall, negatives rise.
    taus = sorted(rows)
    assert all(rows[a]["exact"] >= rows[b]["exact"] for a, b in zip(taus, taus[1:], strict=False))
    assert all(rows[a]["other_action"] <= rows[b]["other_action"] for a, b in zip(taus, taus[1:], strict=False))
    # The facts reject every wrong fact whatever the tau; the cosine gate only costs paraphrases near 1.
    at = result["facts"]["at_recommended"]
    assert min(at["other_action"], at["object_swap"], at["flipped_fact"]) == 1.0 and at["paraphrased"] >= 0.9
    assert result["facts"]["best_balanced_accuracy"] > binary["best_balanced_accuracy"]


def test_rewrite_keeps_the_facts():
    seen = "You arrive at countertop 1. On the countertop 1, you see a apple 1, a egg 2, and a knife 1."
    state = f"{seen}\n{STATUS_NOT_DONE}"
    out = rewrite(state)
    assert out != state
    assert "an apple 1" in out and "an egg 2" in out and "a knife 1" in out
    assert out.index("knife 1") < out.index("apple 1") and out.endswith(f"\n{STATUS_NOT_DONE}")


def test_pairs_from_collected_episodes_replay_the_recorded_actions(shared_alfworld, tmp_path):
    """An Episode JSONL as the collector writes it: replayed to branch, its recorded observations reproduced."""
    task = list_tasks("alfworld", SPLIT, data_root=shared_alfworld)[0]
    env = make_env("alfworld")
    reset = env.reset(task)
    obs, steps = reset.observation, []
    for t in range(4):
        action = reset.info["expert_action"] if t == 0 else steps[-1].info["expert_action"]
        res = env.step(action)
        steps.append(
            StepRecord(
                t=t,
                observation=obs,
                raw_output="[expert]",
                action=action,
                next_observation=res.observation,
                reward=res.reward,
                done=res.done,
                valid=res.valid,
                state_kind="observation",
                info={"expert_action": res.info.get("expert_action")},
            )
        )
        obs = res.observation
    env.close()
    ep = Episode(
        episode_id=episode_id(task.env, task.split, task.task_id, 0),
        env="alfworld",
        split=task.split,
        task_id=task.task_id,
        episode_index=0,
        policy={"name": "expert"},
        task=reset.task,
        initial_observation=reset.observation,
        steps=steps,
        success=False,
    )
    path = tmp_path / "episodes.jsonl"
    path.write_text(ep.to_json() + "\n")
    got = pairs_from_episodes(path, shared_alfworld, branches=2, seed=0)
    assert len(got) == 2
    for p in got:
        assert p.next_state == f"{steps[p.t].next_observation}\n{STATUS_NOT_DONE}"
        assert p.observation == steps[p.t].observation and p.other_action != steps[p.t].action

    # A format-error step (no action, the env not stepped) is no transition: not replayed, not branched.
    error = StepRecord(
        t=2,
        observation=steps[1].next_observation,
        raw_output="no action here",
        action=None,
        next_observation=format_error_message("alfworld"),
        reward=0.0,
        done=False,
        valid=False,
        state_kind=FORMAT_ERROR_KIND,
    )
    broken = [*steps[:2], error, *(dataclasses.replace(s, t=s.t + 1) for s in steps[2:])]
    path.write_text(dataclasses.replace(ep, steps=broken).to_json() + "\n")
    assert pairs_from_episodes(path, shared_alfworld, branches=2, seed=0) == got


def test_bad_episode_line_names_file_and_line(tmp_path, shared_alfworld):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"not": "an episode"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        pairs_from_episodes(path, shared_alfworld)

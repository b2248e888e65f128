"""SimToRealRewardManager driven exactly as verl 0.9.1 drives it, on real ALFWorld states.

The config is verl's own ppo_trainer composed by hydra with the importlib override keys; the manager is
built by verl's loader (`load_reward_manager`) and by verl's `RewardLoopWorker`; samples are DataProto
rows with responses/attention_mask/data_source/reward_model/extra_info, scored by many concurrent
`run_single` calls, as `RewardLoopWorker.compute_score_batch` does.
"""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest
import torch

from envs.registry import list_tasks, make_env
from reward_calibration.alfworld_pairs import branch_pairs
from reward_score.answer_format import STATE_CLOSE, STATE_OPEN, with_status
from reward_score.embedders import EmbeddingBackendError
from reward_score.results import FACTS_DIFFER
from reward_score.settings import documented_tau
from tests.openai_stub import free_port_url

MANAGER_OVERRIDES = [
    "reward.reward_manager.source=importlib",
    "reward.reward_manager.name=SimToRealRewardManager",
    "reward.reward_manager.module.path=pkg://reward_score.reward_manager",
]


def verl_config(model_dir, **reward_kwargs):
    from hydra import compose, initialize_config_module

    overrides = [*MANAGER_OVERRIDES, f"actor_rollout_ref.model.path={model_dir}"]
    for key, value in reward_kwargs.items():
        overrides.append(f"+reward.reward_kwargs.{key}={value}")
    with initialize_config_module(config_module="verl.trainer.config", version_base=None):
        return compose("ppo_trainer", overrides=overrides)


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def manager(tiny_model_dir, tokenizer):
    from verl.trainer.ppo.reward import load_reward_manager

    return load_reward_manager(verl_config(tiny_model_dir, batch_size=64, max_wait_ms=20), tokenizer)


@pytest.fixture(scope="module")
def real_step(shared_alfworld):
    """One real ALFWorld transition (valid_seen) where the next state differs from the previous observation."""
    env = make_env("alfworld")
    tasks = list_tasks("alfworld", "valid_seen", data_root=shared_alfworld)
    task = next(t for t in tasks if t.task_id.startswith("pick_and_place"))
    pairs = branch_pairs(env, task, branches=2, max_steps=6, seed=1)
    env.close()
    pair = next(p for p in pairs if p.observation.strip() not in p.next_state and p.action not in p.next_state)
    return pair


def make_batch(tokenizer, responses, truths, data_source="rwml_alfworld", extra=None):
    """A DataProto as verl's agent loop hands it to the reward loop; responses are text or token ids."""
    from verl import DataProto

    prompt = tokenizer("<|im_start|>user\npredict<|im_end|>\n<|im_start|>assistant\n")["input_ids"]
    rows = [r if isinstance(r, list) else tokenizer(r)["input_ids"] for r in responses]
    rows = [r + [tokenizer.eos_token_id] for r in rows]
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id
    resp = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    prompts = torch.tensor([prompt] * len(rows))
    mask = torch.cat(
        [torch.ones_like(prompts), (torch.arange(width)[None] < torch.tensor([len(r) for r in rows])[:, None]).long()],
        1,
    )
    n = len(rows)
    return DataProto.from_dict(
        tensors={
            "prompts": prompts,
            "responses": resp,
            "attention_mask": mask,
            "input_ids": torch.cat([prompts, resp], 1),
        },
        non_tensors={
            "data_source": np.array([data_source] * n, dtype=object),
            "reward_model": np.array([{"style": "rule", "ground_truth": t} for t in truths], dtype=object),
            "extra_info": np.array([dict(extra or {}, index=i) for i in range(n)], dtype=object),
        },
    )


async def score_all(manager, data, return_exceptions=False):
    """What RewardLoopWorker.compute_score_batch does: one run_single task per row, all awaited together."""
    tasks = [asyncio.create_task(manager.run_single(data[i : i + 1])) for i in range(len(data))]
    return await asyncio.gather(*tasks, return_exceptions=return_exceptions)


def tagged(state: str) -> str:
    return f"<think>The agent acts; the room answers.</think>{STATE_OPEN}{state}{STATE_CLOSE}"


def test_loads_through_verls_loader_from_the_config_keys(manager, tiny_model_dir):
    from reward_score.reward_manager import SimToRealRewardManager

    assert isinstance(manager, SimToRealRewardManager)
    assert manager.settings.batch_size == 64 and manager.settings.max_wait_ms == 20
    # ALFWorld's default mode checks the facts; its tau is the calibrated facts-mode one (tau: null in the recipe).
    assert manager.settings.mode_for("alfworld") == "facts"
    assert manager.settings.tau_for("alfworld") == documented_tau(manager.settings.model, "alfworld", "facts")


def test_exact_prediction_scores_one_and_concurrent_samples_share_batches(manager, tokenizer, real_step):
    truths = [with_status(f"You arrive at drawer {i}. The drawer {i} is closed.", False) for i in range(8)]
    truths = truths * 12 + [real_step.next_state] * 4  # 100 samples, 9 distinct ground truths
    responses = [tagged(t) for t in truths]
    cached_before = set(manager.scorer.cache._items)
    outs = asyncio.run(score_all(manager, make_batch(tokenizer, responses, truths)))
    assert [o["reward_score"] for o in outs] == [1.0] * len(truths)
    assert all(o["reward_extra_info"]["reason"] == "match" for o in outs)
    batcher = list(manager.scorer._batchers.values())[-1]
    # 100 samples (up to 200 texts) in at most 64-text batches: 4 batches of <= 32 samples, not 100 or 200 calls.
    assert sum(batcher.batch_sizes) == 100 and max(batcher.batch_sizes) == 32 and len(batcher.batch_sizes) == 4
    # Each distinct ground truth embedded once, and kept for the next step.
    assert set(manager.scorer.cache._items) - cached_before == set(truths) - cached_before
    assert len(set(truths)) == 9
    # verl stacks every extra-info key into an array: keys must be the same for every sample.
    keys = list(outs[0]["reward_extra_info"])
    assert all(list(o["reward_extra_info"]) == keys for o in outs)


def test_hack_corpus_scores_zero_each_with_its_reason(manager, tokenizer, real_step):
    # ALFWorld's default reward (mode facts) rejects a copy of other text before any cosine: it names other facts.
    real = real_step.next_state
    bad_bytes = (
        tokenizer(STATE_OPEN)["input_ids"]
        + [tokenizer.convert_tokens_to_ids(c) for c in "ÿþ\x80"]
        + tokenizer(STATE_CLOSE)["input_ids"]
    )
    corpus = {
        "empty": ("", "no_prediction"),
        "no tags": (real, "no_prediction"),
        "tags but empty": (tagged(""), "empty_prediction"),
        "previous observation copied": (tagged(with_status(real_step.observation, False)), FACTS_DIFFER),
        "action copied": (tagged(real_step.action), FACTS_DIFFER),
        "task description copied": (tagged(real_step.task), FACTS_DIFFER),
        "10k characters of repetition": (tagged(("ok " * 3400)[:10_000]), FACTS_DIFFER),
        "previous observation repeated to 10k characters": (
            tagged((real_step.observation + " ") * (10_000 // (len(real_step.observation) + 1))),
            FACTS_DIFFER,
        ),
        "non-UTF8 bytes": (bad_bytes, "invalid_utf8"),
        "token ids that cannot be decoded": ([5, -1, 7], "bad_input"),
    }
    data = make_batch(tokenizer, [r for r, _ in corpus.values()], [real] * len(corpus))
    outs = asyncio.run(score_all(manager, data))
    got = {name: (o["reward_score"], o["reward_extra_info"]["reason"]) for name, o in zip(corpus, outs, strict=True)}
    assert got == {name: (0.0, reason) for name, (_, reason) in corpus.items()}, got


def test_reward_loop_worker_scores_a_batch_end_to_end(tiny_model_dir, tokenizer, real_step):
    """verl's own RewardLoopWorker builds the manager from the config and scores the batch."""
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker

    cfg = verl_config(tiny_model_dir, mode="cosine")
    worker = RewardLoopWorker(cfg)
    other = real_step.other_next_state
    data = make_batch(tokenizer, [tagged(real_step.next_state), tagged(other)], [real_step.next_state] * 2)
    outs = asyncio.run(worker.compute_score_batch(data))
    assert outs[0]["reward_score"] == pytest.approx(1.0, abs=1e-5)
    assert outs[1]["reward_score"] < 1.0 and outs[1]["reward_extra_info"]["reason"] == "cosine"
    rm = type(worker.reward_manager).assemble_rm_scores(data, [o["reward_score"] for o in outs])
    assert rm.shape == data.batch["responses"].shape and rm.sum().item() == pytest.approx(
        sum(o["reward_score"] for o in outs)
    )


def test_backend_outage_raises_from_run_single_naming_the_endpoint(tiny_model_dir, tokenizer, real_step):
    from verl.trainer.ppo.reward import load_reward_manager

    url = free_port_url()
    mgr = load_reward_manager(verl_config(tiny_model_dir, base_url=url, max_retries=1, timeout_s=2), tokenizer)
    data = make_batch(tokenizer, [tagged(real_step.next_state)] * 3, [real_step.next_state] * 3)
    outs = asyncio.run(score_all(mgr, data, return_exceptions=True))
    # Every waiting sample sees the outage, naming the endpoint: none is scored 0 in silence.
    assert len(outs) == 3 and all(isinstance(o, EmbeddingBackendError) and url in str(o) for o in outs), outs


class DecodeSpy:
    """The policy tokenizer itself, recording on which thread each decode call runs and how many responses it gets."""

    def __init__(self, tokenizer):
        self._tokenizer = tokenizer
        self.calls: list[tuple[int, int]] = []

    def __getattr__(self, name):
        return getattr(self._tokenizer, name)

    def decode(self, ids, **kwargs):
        self.calls.append((threading.get_ident(), 1))
        return self._tokenizer.decode(ids, **kwargs)

    def batch_decode(self, sequences, **kwargs):
        self.calls.append((threading.get_ident(), len(sequences)))
        return self._tokenizer.batch_decode(sequences, **kwargs)


def test_decoding_runs_off_the_event_loop_once_per_batch_and_matches_the_sync_scorer(
    manager, tokenizer, real_step, monkeypatch
):
    from reward_score.reward_functions import compute_score_batch

    real, other = real_step.next_state, real_step.other_next_state
    predictions = [real, other, with_status(real_step.observation, False), real_step.action]
    truths = [real] * 40 + [other] * 30
    responses = [tagged(predictions[i % len(predictions)]) for i in range(len(truths))]
    responses[3], responses[41] = "", real  # no prediction, no tags
    data = make_batch(tokenizer, responses, truths)
    spy = DecodeSpy(tokenizer)
    monkeypatch.setattr(manager, "tokenizer", spy)

    async def score_on_loop():
        return threading.get_ident(), await score_all(manager, data)

    loop_thread, outs = asyncio.run(score_on_loop())
    batcher = list(manager.scorer._batchers.values())[-1]
    # 70 samples at batch_size 64 (two texts each): 3 batches, each decoded by one call, none on the event loop.
    assert batcher.batch_sizes == [32, 32, 6]
    assert [n for _, n in spy.calls] == batcher.batch_sizes
    assert loop_thread not in {thread for thread, _ in spy.calls}

    # The same samples, scored by the sync entry point from their text: the same reward and reasons.
    sync = compute_score_batch(
        ["rwml_alfworld"] * len(truths),
        responses,
        [{"ground_truth": t} for t in truths],
        [{"index": i} for i in range(len(truths))],
        tokenizer=tokenizer,
        batch_size=64,
        max_wait_ms=20,
    )
    got = [o["reward_extra_info"] for o in outs]
    assert [o["reward_score"] for o in outs] == [r["score"] for r in sync]
    assert {r["score"] for r in sync} == {0.0, 1.0}
    for mine, theirs in zip(got, sync, strict=True):
        assert {k: v for k, v in mine.items() if k != "cosine"} == {k: v for k, v in theirs.items() if k != "cosine"}
        assert (mine["cosine"] is None) == (theirs["cosine"] is None)
        assert mine["cosine"] is None or mine["cosine"] == pytest.approx(theirs["cosine"], abs=1e-5)

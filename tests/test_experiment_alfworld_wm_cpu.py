"""The learning experiment's measurements (experiments/alfworld_wm_cpu): intervals, held-out scoring with the real
reward, token NLL / KL on a real (tiny) model, GRPO group signal, and the report written from those outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from experiments.alfworld_wm_cpu import evaluate, metrics, report
from reward_score.answer_format import target_response, with_status
from tests.conftest import REPO_ROOT, sft_on_cpu

TRUTH = with_status("You arrive at countertop 1. On the countertop 1, you see a apple 1, and a knife 2.", False)
NOTHING = with_status("Nothing happens.", False)


def test_bootstrap_interval_covers_the_mean_with_the_expected_width_and_repeats() -> None:
    values = [1.0] * 30 + [0.0] * 70
    a = metrics.bootstrap_ci(values, seed=0)
    assert a == metrics.bootstrap_ci(values, seed=0)  # seeded: the report does not change between rewrites
    assert a["mean"] == pytest.approx(0.3) and a["n"] == 100
    assert a["lo"] < 0.3 < a["hi"]
    assert 0.12 < a["hi"] - a["lo"] < 0.24  # about 2 x 1.96 x sqrt(0.3 x 0.7 / 100) = 0.18
    same = metrics.bootstrap_ci([0.5] * 10)
    assert same["lo"] == same["hi"] == same["mean"] == 0.5
    assert metrics.bootstrap_ci([])["n"] == 0


def test_transition_kinds_of_real_alfworld_steps() -> None:
    assert metrics.transition_kind("go to countertop 1", TRUTH) == "navigation"
    assert metrics.transition_kind("take apple 1 from countertop 1", NOTHING) == "nothing happens"
    assert metrics.transition_kind("take apple 1 from countertop 1", "You pick up the apple 1.") == "object interaction"
    assert metrics.transition_kind("examine countertop 1", TRUTH) == "look/examine"


def test_held_out_scoring_with_the_real_reward() -> None:
    rows = [
        {"data_source": "rwml_alfworld", "reward_model": {"ground_truth": t},
         "extra_info": {"state_kind": "observation", "action": a}}
        for t, a in ((TRUTH, "go to countertop 1"), (NOTHING, "open fridge 1"), (TRUTH, "go to countertop 1"))
    ]  # fmt: skip
    responses = [target_response(TRUTH), "I think nothing happens.", target_response(NOTHING)]
    exact, untagged, wrong = evaluate.score(rows, responses)
    assert (exact["reward"], exact["binary"], exact["exact"], exact["format"], exact["status"]) == (1, 1, 1, 1, 1)
    assert exact["cosine"] == pytest.approx(1.0, abs=1e-4)
    assert (untagged["format"], untagged["reward"], untagged["cosine"], untagged["status"]) == (0, 0, 0, 0)
    assert untagged["kind"] == "nothing happens"
    assert wrong["format"] == 1 and wrong["exact"] == 0 and wrong["reward"] == 0 and wrong["status"] == 1
    assert 0 < wrong["cosine"] < evaluate.reward_settings_used()["tau"]


@pytest.fixture(scope="module")
def tiny_pair(tiny_model_dir: Path):
    import torch

    model, tokenizer = evaluate.load_model(tiny_model_dir)
    drifted, _ = evaluate.load_model(tiny_model_dir)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in drifted.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model, drifted, tokenizer


TEXTS = ["def add(a, b):\n    return a + b\n", "go to countertop 1. take apple 1 from countertop 1."]


def test_nll_and_kl_against_itself_and_a_drifted_copy(tiny_pair) -> None:
    import torch

    model, drifted, tokenizer = tiny_pair
    same = metrics.nll_and_kl(model, model, tokenizer, TEXTS)
    assert same["kl"]["mean"] == pytest.approx(0.0, abs=1e-6) and same["delta_nll"]["mean"] == pytest.approx(0.0)
    ids = torch.tensor([tokenizer(TEXTS[0], add_special_tokens=False)["input_ids"]])
    one = metrics.nll_and_kl(model, model, tokenizer, TEXTS[:1])
    with torch.no_grad():
        assert one["nll"]["mean"] == pytest.approx(model(ids, labels=ids).loss.item(), rel=1e-5)  # HF's own loss
    moved = metrics.nll_and_kl(drifted, model, tokenizer, TEXTS)
    assert moved["kl"]["mean"] > 1e-4
    assert moved["delta_nll"]["mean"] == pytest.approx(moved["nll"]["mean"] - moved["nll_base"]["mean"], abs=1e-6)
    assert moved["tokens"] == sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) - 1 for t in TEXTS)


def test_humaneval_texts_come_from_the_package() -> None:
    texts = metrics.humaneval_texts()
    assert len(texts) == 164 and texts[0].startswith("from typing import List")


def test_group_signal_counts_groups_whose_rewards_differ(tmp_path: Path) -> None:
    dump = tmp_path / "1.jsonl"
    samples = [("p1", 0.0), ("p1", 0.0), ("p2", 1.0), ("p2", 0.0), ("p3", 0.5), ("p3", 0.5)]
    dump.write_text("".join(json.dumps({"input": p, "output": "o", "score": s, "step": 1}) + "\n" for p, s in samples))
    signal = metrics.group_signal(dump)
    assert signal == {"groups": 3.0, "nonzero_adv": pytest.approx(1 / 3), "all_zero": pytest.approx(1 / 3)}
    rows = metrics.training_curves({1: {"critic/score/mean": 0.25, "actor/kl_loss": 0.0}, 2: {}}, tmp_path)
    assert rows[0]["nonzero_adv"] == pytest.approx(1 / 3) and rows[0]["reward"] == 0.25
    assert np.isnan(rows[1]["nonzero_adv"])  # no dump for step 2


def test_report_tables_come_from_measured_outputs(tmp_path: Path, tiny_pair) -> None:
    model, drifted, tokenizer = tiny_pair
    rows = [
        {"data_source": "rwml_alfworld", "reward_model": {"ground_truth": TRUTH},
         "extra_info": {"state_kind": "observation", "action": "go to countertop 1"}}
    ] * 4  # fmt: skip
    records = evaluate.score(rows, [target_response(TRUTH)] * 3 + ["no tags"])
    wm = metrics.world_model_metrics(records)
    result = {"arm": "wm_sft", "world_model": wm, "forgetting": metrics.nll_and_kl(drifted, model, tokenizer, TEXTS)}
    result["forgetting"]["against"] = "runs/models/warmup_hf"
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "wm_sft.json").write_text(json.dumps(result))
    refused = [{**rows[0], "reward_model": {"ground_truth": NOTHING}}] * 2
    refusal = metrics.world_model_metrics(evaluate.score(refused, [target_response(NOTHING), target_response(TRUTH)]))
    (tmp_path / "results" / "nothing_happens").mkdir()
    (tmp_path / "results" / "nothing_happens" / "wm_sft.json").write_text(json.dumps({"world_model": refusal}))
    cfg = OmegaConf.load(REPO_ROOT / "experiments/alfworld_wm_cpu/config.yaml")
    text = report.write(tmp_path, cfg, {"train_wm_sft": 3600.0}).read_text()
    supplement = text.split('## Held-out "Nothing happens." transitions')[1].split("## ")[0]
    assert "| WM-SFT | 2 | 0.500 [" in supplement  # the refusal predicted once, an arrival predicted once
    row = next(line for line in text.splitlines() if line.startswith("| WM-SFT | 4 |"))
    assert row.split(" | ")[2].startswith("0.750 [")  # 3 of 4 exact predictions score 1 under the default rule
    assert "1.00 h" in text and "pending: SmolLM2 untrained" in text
    kl = result["forgetting"]["kl"]["mean"]
    assert f"{kl:.4f}" in next(line for line in text.splitlines() if line.startswith("| WM-SFT | warmup_hf"))
    assert (tmp_path / "figures" / "heldout.png").stat().st_size > 1000


def test_fp32_export_keeps_an_update_that_bf16_rounds_away(tmp_path: Path, tiny_model_dir: Path) -> None:
    """One verl SFT step at lr 1e-5 on CPU, converted as run.py converts (convert_to_hf --dtype fp32): the weights
    are the shard's own fp32 values, so the model differs from the base, while bf16 (what verl's merger writes)
    rounds most of it away."""
    import shutil

    import torch

    from recipe.rwml.actor_checkpoint import find_actor_dir
    from recipe.rwml.convert_to_hf import convert

    # as in the SmolLM2 folder: the tokenizer's eos (<|im_start|>) is not the model's stop token (<|im_end|>)
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model_dir)
    tok_cfg = json.loads((model_dir / "tokenizer_config.json").read_text())
    (model_dir / "tokenizer_config.json").write_text(json.dumps({**tok_cfg, "eos_token": "<|im_start|>"}))
    chat = [{"role": "user", "content": "go to countertop 1"}, {"role": "assistant", "content": TRUTH}]
    proc = sft_on_cpu(model_dir, chat, tmp_path, steps=1, lr=1e-5)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    convert(find_actor_dir(tmp_path / "ckpt"), tmp_path / "hf", check=False, dtype="fp32")
    trained, tokenizer = evaluate.load_model(tmp_path / "hf")
    base, _ = evaluate.load_model(model_dir)
    shard = torch.load(tmp_path / "ckpt/global_step_1/model_world_size_1_rank_0.pt", weights_only=False)
    key = "model.layers.0.mlp.up_proj.weight"
    assert torch.equal(trained.state_dict()[key], shard[key]._local_tensor.float())
    moved = trained.state_dict()[key] != base.state_dict()[key]
    kept_in_bf16 = trained.state_dict()[key].bfloat16() != base.state_dict()[key].bfloat16()
    assert moved.float().mean() > 0.9 and kept_in_bf16.float().mean() < 0.5 * moved.float().mean()
    assert tokenizer.chat_template  # the tokenizer travels with the weights, and the model's own stop tokens
    assert trained.generation_config.eos_token_id == base.generation_config.eos_token_id == tokenizer.eos_token_id + 1


def test_generation_is_cached_by_row_and_resumes(tmp_path: Path, tiny_model_dir: Path) -> None:
    """Greedy predictions are kept per row index: a rerun (or a smaller sample) reuses them without the model."""
    rows = [
        {"prompt": [{"role": "user", "content": f"go to countertop {i}"}], "extra_info": {"index": i}} for i in range(3)
    ]
    out = tmp_path / "predictions.jsonl"
    first = evaluate.generate(tiny_model_dir, rows, out, max_new_tokens=4, batch=2)
    assert len(first) == 3 and len(out.read_text().splitlines()) == 3
    again = evaluate.generate(tmp_path / "no_model_here", rows[::-1][:2], out, max_new_tokens=4, batch=2)
    assert again == [first[2], first[1]]  # from the cache, in the order asked; the missing model is never loaded
    assert evaluate.generate(tiny_model_dir, rows[:1], tmp_path / "alone.jsonl", 4, 1) == first[:1]  # batching-free

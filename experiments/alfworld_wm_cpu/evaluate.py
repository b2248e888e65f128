"""Held-out evaluation of one model: greedy world-model predictions on the eval triplets, scored by the project's
reward (default settings, binary at the default tau, cosine), and its forgetting on HumanEval against a base model.

Predictions are appended to a JSONL file one batch at a time, so a killed evaluation resumes where it stopped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tqdm import tqdm

from experiments.alfworld_wm_cpu import metrics
from reward_score import RewardSettings, compute_score_batch

ENV = "alfworld"


def load_model(path: str | Path) -> tuple[Any, Any]:
    """An HF causal LM in float32 (eval mode) and its tokenizer, left-padded for batched generation."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    return model.eval(), tokenizer


def generate(
    model_dir: str | Path, rows: list[dict[str, Any]], out: Path, max_new_tokens: int, batch: int
) -> list[str]:
    """Greedy responses to each row's chat prompt (the chat template with the generation prompt, as verl's
    single-turn agent loop renders it); cached in `out`, one JSON line per row (its index) as each batch ends."""
    import torch

    cached = [json.loads(line) for line in out.read_text().splitlines()] if out.is_file() else []
    done = {c["index"]: c["response"] for c in cached}  # by row index: a changed sample reuses what it can
    todo = [r for r in rows if r["extra_info"]["index"] not in done]
    if todo:
        model, tokenizer = load_model(model_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        bar = tqdm(total=len(rows), initial=len(rows) - len(todo), desc=f"generate {Path(model_dir).name}")
        with out.open("a") as f, bar:
            for start in range(0, len(todo), batch):
                chunk = todo[start : start + batch]
                template = tokenizer.apply_chat_template
                texts = [template(r["prompt"], tokenize=False, add_generation_prompt=True) for r in chunk]
                enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
                with torch.no_grad():
                    ids = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                         pad_token_id=tokenizer.pad_token_id)  # fmt: skip
                for row, seq in zip(chunk, ids[:, enc["input_ids"].shape[1] :], strict=True):
                    response = tokenizer.decode(seq, skip_special_tokens=True)
                    f.write(json.dumps({"index": row["extra_info"]["index"], "response": response}) + "\n")
                    done[row["extra_info"]["index"]] = response
                f.flush()
                bar.update(len(chunk))
    return [done[r["extra_info"]["index"]] for r in rows]


def reward_settings_used() -> dict[str, Any]:
    """The default reward settings as they resolve for ALFWorld now (read at run time, never copied)."""
    s = RewardSettings()
    return {"model": s.model, "mode": s.mode_for(ENV), "tau": s.tau_for(ENV), "budget_tokens": s.budget_for(ENV)}


def three_scores(rows: list[dict[str, Any]], responses: list[str]) -> tuple[list[dict], list[dict], list[dict]]:
    """Each response scored against its row by the default reward, binary at the default tau, and cosine."""
    sources = [r["data_source"] for r in rows]
    truths = [r["reward_model"]["ground_truth"] for r in rows]
    infos = [r["extra_info"] for r in rows]
    tau = reward_settings_used()["tau"]
    default = compute_score_batch(sources, responses, truths, infos)
    binary = compute_score_batch(sources, responses, truths, infos, mode="binary", tau=tau)
    cosine = compute_score_batch(sources, responses, truths, infos, mode="cosine")
    return default, binary, cosine


def score(rows: list[dict[str, Any]], responses: list[str]) -> list[dict[str, Any]]:
    """One record per sample (metrics.sample_record): the default reward, binary at the default tau, cosine."""
    truths = [r["reward_model"]["ground_truth"] for r in rows]
    infos = [r["extra_info"] for r in rows]
    default, binary, cosine = three_scores(rows, responses)
    return [
        metrics.sample_record(resp, truth, info.get("action", ""), d["score"], b["score"], c["score"])
        for resp, truth, info, d, b, c in zip(responses, truths, infos, default, binary, cosine, strict=True)
    ]


def forgetting(model_dir: str | Path, base_dir: str | Path, n_texts: int, max_tokens: int) -> dict[str, Any]:
    """metrics.nll_and_kl of `model_dir` against `base_dir` on HumanEval's prompts + canonical solutions."""
    model, tokenizer = load_model(model_dir)
    base, _ = load_model(base_dir)
    return metrics.nll_and_kl(model, base, tokenizer, metrics.humaneval_texts(n_texts), max_tokens=max_tokens)

"""The learn checks' starting point: the tiny random model taught the answer format by plain next-token SFT on CPU.

Each example is (prompt token ids, response token ids); the loss covers the response tokens only. The checks teach
every prompt several answers equally often, so the model starts from a known mixture that RL then must shift.
"""

from __future__ import annotations

import random
from pathlib import Path

from tqdm import tqdm


def sft(
    model_dir: Path,
    examples: list[tuple[list[int], list[int]]],
    out: Path,
    *,
    steps: int,
    lr: float,
    batch: int,
    seed: int,
) -> float:
    """Train the model of `model_dir` on `examples` (AdamW, `batch` random examples a step), save it in fp32 to
    `out` with its tokenizer, and return the mean response-token loss of the last 10 steps."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    rng = random.Random(seed)
    model.train()
    losses = []
    for _ in tqdm(range(steps), desc="learn-check warm-up", leave=False):
        chosen = rng.sample(examples, min(batch, len(examples)))
        width = max(len(p) + len(r) for p, r in chosen)
        ids = torch.full((len(chosen), width), tokenizer.pad_token_id)
        labels = torch.full((len(chosen), width), -100)
        mask = torch.zeros((len(chosen), width), dtype=torch.long)
        for i, (p, r) in enumerate(chosen):
            ids[i, : len(p) + len(r)] = torch.tensor(p + r)
            labels[i, len(p) : len(p) + len(r)] = torch.tensor(r)
            mask[i, : len(p) + len(r)] = 1
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return sum(losses[-10:]) / len(losses[-10:])


def chat_examples(
    model_dir: Path, prompts: list[list[dict]], responses: list[str]
) -> list[tuple[list[int], list[int]]]:
    """Every (prompt, response) pair as token ids: the prompt through the chat template with the generation prompt,
    the response followed by EOS."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    answers = [tokenizer.encode(r, add_special_tokens=False) + [tokenizer.eos_token_id] for r in responses]
    out = []
    for messages in prompts:
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        prompt = tokenizer.encode(text, add_special_tokens=False)
        out.extend((prompt, answer) for answer in answers)
    return out

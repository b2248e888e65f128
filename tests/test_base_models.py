"""The packaged SmolLM2-135M-Instruct as an HF folder: a chat turn ends where the tokenizer, the model config and
the generation config all say it does, so verl's rollouts and HF generation stop at the end of the answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from recipe.rwml.base_models import make_smollm2_hf


@pytest.fixture(scope="module")
def smollm2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_smollm2_hf(tmp_path_factory.mktemp("smollm2") / "hf")


def test_smollm2_ends_a_chat_turn_with_its_eos(smollm2_dir: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    assert tokenizer.eos_token == "<|im_end|>"
    eos = tokenizer.eos_token_id
    assert AutoConfig.from_pretrained(smollm2_dir).eos_token_id == eos
    assert GenerationConfig.from_pretrained(smollm2_dir).eos_token_id == eos
    chat = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]
    ids = tokenizer.apply_chat_template(chat, tokenize=True, return_dict=True)["input_ids"]
    assert eos in ids and tokenizer.decode(ids).rstrip().endswith("Hello.<|im_end|>")

    model = AutoModelForCausalLM.from_pretrained(smollm2_dir, dtype=torch.float32).eval()
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Say OK."}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    out = model.generate(**prompt, max_new_tokens=48, do_sample=False)[0, prompt["input_ids"].shape[1] :]
    assert out[-1].item() == eos and (out == eos).sum() == 1  # stopped at the end of its answer, not later

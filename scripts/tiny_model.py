"""A tiny random-weight Qwen2 causal LM with a BPE tokenizer trained on the fly: test fixture and CPU demo model.

The tokenizer is a real byte-level BPE (HF `tokenizers`) trained on a small text sample that covers the
chat markup, the world-model tags and ALFWorld/tau2 vocabulary, with a ChatML chat template, so verl's
dataset code, agent loops and the checkpoint merger see the same objects they see with a real model.
"""

from __future__ import annotations

from pathlib import Path

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

_CORPUS = [
    "You are in the middle of a room. Looking quickly around you, you see a cabinet 1, a countertop 1, "
    "a fridge 1, a microwave 1, a sinkbasin 1, a stoveburner 1, and a toaster 1.",
    "Your task is to: put a clean apple in fridge. Nothing happens. You pick up the apple 1 from the countertop 1.",
    "go to countertop 1. take apple 1 from countertop 1. move apple 1 to fridge 1. open fridge 1. look. inventory.",
    "<think> The agent opens the fridge. </think> <next_state> You open the fridge 1. </next_state>",
    "<action> go to cabinet 1 </action> Task is not yet completed. Task completed.",
    '{"name": "get_order_details", "arguments": {"order_id": "#W2378156"}} <tool_call> </tool_call>',
    "Hello, I would like to exchange an item in my order. Thank you, your order has been updated.",
    "system user assistant tool 0 1 2 3 4 5 6 7 8 9 the a an of to in on with is are you I",
]


def make_tiny_model(out_dir: str | Path, vocab_size: int = 512, seed: int = 0) -> Path:
    """Build and save a tiny Qwen2 model + tokenizer under `out_dir`; return the directory."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(_CORPUS * 4, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        additional_special_tokens=SPECIAL_TOKENS,
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    tokenizer.save_pretrained(out)

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    return out

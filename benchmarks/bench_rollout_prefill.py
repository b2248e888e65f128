"""The CPU rollout engine on a group of samples: one prompt asked n times vs n different prompts of the same length.

SmolLM2-135M, a real world-model prompt (the bundled ALFWorld games' triplets, chat template applied), n = 8
samples at temperature 1 of <= 64 tokens (a GRPO group, the easy-sample filter's K): the group shares one prefill
(`BatchedGenerator` copies the prompt's KV cache to each row); n distinct prompts of the same length pay n prefills,
as every group did before. Both in this process, same threads and dtype; the ratio is the speed-up of a group.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import torch

from benchmarks.bench_cpu_training import build_data
from recipe.rwml.base_models import make_smollm2_hf
from recipe.rwml.cpu.generator import BatchedGenerator, SamplingSpec
from recipe.rwml.cpu.openai_server import load_engine
from recipe.rwml.cpu.precision import choose_precision, compute_threads

REPO = Path(__file__).resolve().parents[1]
GROUP = 8
MAX_TOKENS = 64
REPEATS = 3


def prompt_ids(tokenizer, wm: Path) -> list[int]:
    """The longest world-model prompt of `wm`'s train split, as the rollout sees it."""
    rows = pq.read_table(wm / "train.parquet").to_pylist()
    texts = [tokenizer.apply_chat_template(list(r["prompt"]), add_generation_prompt=True, tokenize=False) for r in rows]
    return tokenizer.encode(max(texts, key=len), add_special_tokens=False)


def timed(gen: BatchedGenerator, prompts: list[list[int]]) -> float:
    async def together():
        sampling = [SamplingSpec(max_tokens=MAX_TOKENS, temperature=1.0, seed=i, ignore_eos=True) for i in range(GROUP)]
        return await asyncio.gather(*[gen.generate(p, s) for p, s in zip(prompts, sampling, strict=True)])

    start = time.perf_counter()
    asyncio.run(together())
    return time.perf_counter() - start


def main() -> None:
    precision = choose_precision()
    torch.set_num_threads(compute_threads())
    model_dir = make_smollm2_hf(REPO / "demo_out" / "smollm2_hf")
    tokenizer, gen, _ = load_engine(model_dir, max_batch_size=GROUP, dtype=precision.torch_dtype)  # the server's
    with tempfile.TemporaryDirectory(prefix="bench_rollout_prefill_") as tmp:
        wm, _ = build_data(Path(tmp))
        ids = prompt_ids(tokenizer, wm)
    group = [ids] * GROUP
    # distinct prompts of the same length: the first token differs, so no two rows share a prefill
    distinct = [[(ids[0] + i) % len(tokenizer)] + ids[1:] for i in range(GROUP)]
    timed(gen, group)  # warm-up
    pairs = [(timed(gen, group), timed(gen, distinct)) for _ in range(REPEATS)]  # alternated: load hits both alike
    shared, separate = min(p[0] for p in pairs), min(p[1] for p in pairs)
    print(f"SmolLM2-135M {precision.dtype}, {compute_threads()} threads; prompt {len(ids)} tokens, group {GROUP}, "
          f"{MAX_TOKENS} tokens each (best of {REPEATS})")  # fmt: skip
    print(f"one prompt x {GROUP} (prefilled once): {shared:.2f}s; {GROUP} distinct prompts: {separate:.2f}s; "
          f"ratio distinct / shared = {separate / shared:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()

"""Score any HF checkpoint on any world-model parquet: greedy predictions (cached by content hash), each scored by
the project's default reward, binary at the default tau, and cosine; exact match, format, status line, truncation.

    .venv/bin/python -m experiments.alfworld_wm_cpu_v2.evaluate --model DIR --wm-parquet heldout.parquet \\
        --out scores.json [--max-new-tokens 64] [--batch 16]

Per-triplet records (so two models can be compared paired on the same triplets) and per-kind summaries with Wilson
intervals. A prediction cache beside --out (or --cache) maps sha256(prompt, max_new_tokens) -> response, so a killed
run resumes, and a changed sample or order reuses what it can.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from tqdm import tqdm

from data_prep.atomic_file import write_json_atomic
from data_prep.cli_errors import ArgumentParser, UsageError, run_cli
from experiments.alfworld_wm_cpu.evaluate import load_model, reward_settings_used, three_scores
from experiments.alfworld_wm_cpu_v2.data import triplet_hash
from experiments.alfworld_wm_cpu_v2.kinds import row_kind, scene_of
from experiments.alfworld_wm_cpu_v2.stats import wilson
from reward_score.answer_format import parse_response, status_of

METRICS = ("reward", "binary", "cosine", "exact", "format", "status", "truncated", "format_error")


def prompt_key(row: dict[str, Any], max_new_tokens: int) -> str:
    return hashlib.sha256(json.dumps([row["prompt"], max_new_tokens], sort_keys=True).encode()).hexdigest()[:24]


def generate(model_dir: Path, rows: list[dict[str, Any]], cache: Path, max_new_tokens: int, batch: int) -> list[dict]:
    """{"response", "tokens", "truncated"} per row: greedy, the chat template with the generation prompt (as verl's
    single-turn agent loop renders it); each batch appended to `cache` as it ends."""
    import torch

    done: dict[str, dict[str, Any]] = {}
    if cache.is_file():
        for line in cache.read_text().splitlines():
            if line.strip():
                entry = json.loads(line)
                done[entry["key"]] = entry
    keys = [prompt_key(r, max_new_tokens) for r in rows]
    todo = list(dict.fromkeys(k for k in keys if k not in done))
    if todo:
        by_key = dict(zip(keys, rows, strict=True))
        model, tokenizer = load_model(model_dir)
        eos = model.generation_config.eos_token_id
        stop_ids = {tokenizer.eos_token_id, *(eos if isinstance(eos, list) else [eos])} - {None}
        cache.parent.mkdir(parents=True, exist_ok=True)
        bar = tqdm(total=len(set(keys)), initial=len(set(keys)) - len(todo), desc=f"generate {model_dir.name}")
        with cache.open("a") as f, bar:
            for start in range(0, len(todo), batch):
                chunk = todo[start : start + batch]
                texts = [
                    tokenizer.apply_chat_template(by_key[k]["prompt"], tokenize=False, add_generation_prompt=True)
                    for k in chunk
                ]
                enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
                with torch.no_grad():
                    ids = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                         pad_token_id=tokenizer.pad_token_id)  # fmt: skip
                for key, seq in zip(chunk, ids[:, enc["input_ids"].shape[1] :].tolist(), strict=True):
                    stop = next((i for i, t in enumerate(seq) if t in stop_ids), None)
                    entry = {"key": key, "response": tokenizer.decode(seq, skip_special_tokens=True),
                             "tokens": len(seq) if stop is None else stop,
                             "truncated": stop is None and len(seq) >= max_new_tokens}  # fmt: skip
                    f.write(json.dumps(entry) + "\n")
                    done[key] = entry
                f.flush()
                bar.update(len(chunk))
    return [done[k] for k in keys]


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def score(rows: list[dict[str, Any]], outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per triplet: its hash, kind, scene, and every metric in METRICS (0/1 except cosine)."""
    truths = [r["reward_model"]["ground_truth"] for r in rows]
    default, binary, cosine = three_scores(rows, [o["response"] for o in outputs])
    records = []
    for i, (row, out, truth) in enumerate(zip(rows, outputs, truths, strict=True)):
        prediction = parse_response(out["response"]).prediction
        records.append({
            "hash": triplet_hash(row),
            "kind": row_kind(row),
            "scene": scene_of(row),
            "scene_disjoint": bool(row["extra_info"].get("scene_disjoint", False)),
            "reward": float(default[i]["score"]),
            "reason": default[i].get("reason", ""),
            "binary": float(binary[i]["score"]),
            "cosine": float(cosine[i]["score"]),
            "exact": float(prediction is not None and _norm(prediction) == _norm(truth)),
            "format": float(prediction is not None),
            "status": float(prediction is not None and status_of(prediction) == status_of(truth)),
            "truncated": float(out["truncated"]),
            "format_error": float(prediction is None and not out["truncated"]),  # unreadable, not cut by the budget
        })  # fmt: skip
    return records


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per kind and overall: n, and per 0/1 metric its mean with a Wilson 95% interval (cosine: the mean only)."""

    def one(recs: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"n": len(recs)}
        for m in METRICS:
            if m == "cosine":
                out[m] = {"mean": sum(r[m] for r in recs) / len(recs) if recs else float("nan")}
            else:
                out[m] = wilson(int(sum(r[m] for r in recs)), len(recs))
        return out

    kinds = sorted({r["kind"] for r in records})
    return {"overall": one(records), "by_kind": {k: one([r for r in records if r["kind"] == k]) for k in kinds}}


def evaluate(model: Path, wm_parquet: Path, out: Path, max_new_tokens: int, batch: int, cache: Path | None = None):
    rows = pq.read_table(wm_parquet).to_pylist()
    cache = cache or out.with_name(out.name.removesuffix(".json") + ".predictions.jsonl")
    records = score(rows, generate(model, rows, cache, max_new_tokens, batch))
    result = {"model": str(model), "wm_parquet": str(wm_parquet), "max_new_tokens": max_new_tokens,
              "reward_settings": reward_settings_used(), "summary": summary(records), "records": records}  # fmt: skip
    write_json_atomic(out, result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="experiments.alfworld_wm_cpu_v2.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="HF model folder (scripts/convert_to_hf.py's output)")
    parser.add_argument("--wm-parquet", required=True, help="world-model parquet (build_wm_dataset's layout)")
    parser.add_argument("--out", required=True, help="scores JSON to write")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--cache", default=None, help="prediction cache JSONL (default: beside --out)")
    args = parser.parse_args(argv)
    for flag, path in (("--model", Path(args.model) / "config.json"), ("--wm-parquet", Path(args.wm_parquet))):
        if not path.is_file():
            raise UsageError(f"{path} does not exist", flag, "give an HF model folder and a world-model parquet")
    result = evaluate(Path(args.model), Path(args.wm_parquet), Path(args.out), args.max_new_tokens, args.batch,
                      Path(args.cache) if args.cache else None)  # fmt: skip
    for kind, s in result["summary"]["by_kind"].items():
        r = s["reward"]
        print(f"{kind:26s} n={s['n']:4d}  reward {r['mean']:.3f} [{r['lo']:.3f}, {r['hi']:.3f}]")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))

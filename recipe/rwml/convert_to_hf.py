"""Convert a verl FSDP actor checkpoint to a Hugging Face model folder, and check that it loads and generates.

The trainer saves `<default_local_dir>/global_step_N/actor/` (per-rank `model_world_size_W_rank_R.pt` shards,
`fsdp_config.json`, and `huggingface/` with the model config and tokenizer) and records the last finished step
in `<default_local_dir>/latest_checkpointed_iteration.txt`. The command picks the step (`--step`, else the
tracker file, else the highest N), runs verl's own merger as a subprocess
(`python -m verl.model_merger merge --backend fsdp --local_dir ... --target_dir ...`) into a temporary folder
next to the target, loads the result with transformers, generates a few tokens from a chat-templated prompt,
and only then renames it to the target. verl's merger writes bfloat16;
`--dtype fp32` joins the shards in full precision instead (a few small-lr steps round away in bf16), as the CPU
schedules convert.

The target is replaced only when this command made it: every converted folder carries `rwml_converted.json` (which
checkpoint, when, in what dtype). A target without it is refused unless it is empty; the current directory (or a
folder above it), the checkpoint folder (or a folder inside or above it) and `--base-model` are refused outright.
The check compares the converted model with its checkpoint's `huggingface/config.json` (and with `--base-model`, the
model training started from, when given) on every config field that changes the function -- sizes, rope, norms,
attention layout -- and the tokenizer's vocabulary with the embedding's rows. Files get ordinary modes (umask).

A run killed with `kill -9` leaves its temporary folder `.<target>.converting-<pid>/` (a whole merged model); the
next conversion into the same folder removes those of processes that are gone, never a live one's, and says so on
stderr. The merger subprocess dies with the command (Linux), so it cannot go on writing into a removed folder.
Errors follow data_prep.cli_errors: one line on stderr, exit status 2.

Examples:
    python scripts/convert_to_hf.py --ckpt-dir checkpoints/rwml/alfworld_stage1 --target-dir models/stage1_hf
    python scripts/convert_to_hf.py --ckpt-dir checkpoints/rwml/alfworld_stage1 --step 200 --target-dir out/s200
    python scripts/convert_to_hf.py --actor-dir checkpoints/rwml/x/global_step_5/actor --target-dir out/x5
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

from data_prep.atomic_file import pid_alive
from data_prep.cli_errors import ArgumentParser, run_cli
from recipe.rwml.schedule.guard import die_with_parent

TRACKER_FILE = "latest_checkpointed_iteration.txt"  # verl.utils.checkpoint.checkpoint_manager
STEP_DIR_RE = re.compile(r"^global_step_(\d+)$")
DTYPES = ("bf16", "fp32")  # weights of a converted model
TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json")
CHECK_PROMPT = "You are in the middle of a room. Your task is to: put a clean apple in fridge. What do you do first?"
CHECK_NEW_TOKENS = 8
MARKER = "rwml_converted.json"  # written into every converted folder; only such a folder is ever replaced
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


class ConversionError(RuntimeError):
    """A checkpoint that cannot be converted, or a conversion that failed its check."""


def list_steps(ckpt_dir: Path) -> dict[int, Path]:
    """Map step -> `global_step_N` folder for every step folder directly under `ckpt_dir`."""
    steps = {}
    for child in ckpt_dir.iterdir():
        match = STEP_DIR_RE.match(child.name)
        if match and child.is_dir():
            steps[int(match.group(1))] = child
    return steps


def read_tracker(ckpt_dir: Path) -> int | None:
    """The step in verl's tracker file, or None when the trainer wrote none (e.g. async save)."""
    tracker = ckpt_dir / TRACKER_FILE
    if not tracker.is_file():
        return None
    text = tracker.read_text().strip()
    try:
        return int(text)
    except ValueError:
        raise ConversionError(f"{tracker}: expected a step number, found {text[:80]!r}") from None


def find_actor_dir(ckpt_dir: str | Path, step: int | None = None) -> Path:
    """The checkpoint folder to convert: `global_step_N/actor` (PPO trainer) or `global_step_N` (SFT trainer).

    N is `step` if given, else the tracker's step, else the highest N.
    """
    ckpt_dir = Path(ckpt_dir)
    if not ckpt_dir.is_dir():
        raise ConversionError(f"checkpoint folder {ckpt_dir} does not exist")
    if STEP_DIR_RE.match(ckpt_dir.name) or ckpt_dir.name == "actor":
        raise ConversionError(
            f"{ckpt_dir} is a single checkpoint, not the trainer's checkpoint folder: pass its parent as "
            "--ckpt-dir, or the actor folder as --actor-dir"
        )
    steps = list_steps(ckpt_dir)
    if step is not None:
        source = "--step"
    else:
        step, source = read_tracker(ckpt_dir), TRACKER_FILE
        if step is None:
            if not steps:
                hint = " (it holds FSDP shards: use --actor-dir)" if (ckpt_dir / "fsdp_config.json").exists() else ""
                raise ConversionError(f"no global_step_N checkpoint in {ckpt_dir}{hint}")
            step, source = max(steps), "the highest global_step_N"
    if step not in steps:
        found = ", ".join(str(s) for s in sorted(steps)) or "none"
        raise ConversionError(
            f"step {step} (from {source}) has no folder {ckpt_dir / f'global_step_{step}'}; steps found: {found}"
        )
    # The PPO trainer saves the actor under global_step_N/actor/; verl's SFT trainer saves into global_step_N/.
    actor_dir = steps[step] / "actor"
    if not actor_dir.is_dir() and (steps[step] / "fsdp_config.json").is_file():
        actor_dir = steps[step]
    print(f"[convert_to_hf] step {step} (from {source}): {actor_dir}", flush=True)
    return actor_dir


def check_actor_dir(actor_dir: str | Path) -> int:
    """Raise ConversionError naming what is missing unless `actor_dir` is a complete FSDP checkpoint; world size."""
    actor_dir = Path(actor_dir)
    if not actor_dir.is_dir():
        raise ConversionError(f"actor checkpoint folder {actor_dir} does not exist")
    config_path = actor_dir / "fsdp_config.json"
    if not config_path.is_file():
        raise ConversionError(
            f"{actor_dir} is incomplete: no fsdp_config.json (FSDPCheckpointManager writes it on rank 0 after "
            "the shards; an interrupted save may lack it)"
        )
    try:
        world_size = int(json.loads(config_path.read_text())["world_size"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ConversionError(f"{config_path}: no valid world_size field ({exc})") from None
    missing = [
        f"model_world_size_{world_size}_rank_{rank}.pt"
        for rank in range(world_size)
        if not (actor_dir / f"model_world_size_{world_size}_rank_{rank}.pt").is_file()
        or (actor_dir / f"model_world_size_{world_size}_rank_{rank}.pt").stat().st_size == 0
    ]
    if missing:
        raise ConversionError(
            f"{actor_dir} is incomplete: fsdp_config.json says world size {world_size} but these model shards are "
            f"missing or empty: {', '.join(missing)}"
        )
    hf_dir = actor_dir / "huggingface"
    if not (hf_dir / "config.json").is_file():
        raise ConversionError(
            f"{actor_dir} is incomplete: verl's model merger needs the huggingface/ subfolder with config.json and "
            f"the tokenizer (FSDPCheckpointManager writes it on rank 0); {hf_dir / 'config.json'} is missing"
        )
    if not any((hf_dir / name).is_file() for name in TOKENIZER_FILES):
        raise ConversionError(
            f"{hf_dir} has no tokenizer ({' or '.join(TOKENIZER_FILES)}); verl's model merger loads it from there. "
            "Copy the base model's tokenizer files into that folder."
        )
    return world_size


def run_merger(actor_dir: Path, out_dir: Path, backend: str = "fsdp") -> None:
    """Run verl's model merger on `actor_dir`, writing the HF model into `out_dir`; its output goes to ours."""
    cmd = [
        sys.executable,
        "-m",
        "verl.model_merger",
        "merge",
        "--backend",
        backend,
        "--local_dir",
        str(actor_dir),
        "--target_dir",
        str(out_dir),
    ]
    print("[convert_to_hf] running: " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, check=False, preexec_fn=partial(die_with_parent, signal.SIGKILL))
    if proc.returncode != 0:
        raise ConversionError(
            f"verl's model merger exited with status {proc.returncode} on {actor_dir} (its output is above)"
        )


def merge_shards(actor_dir: Path, world_size: int) -> dict:
    """The full fp32 state dict of an FSDP2 checkpoint: each DTensor's local shards joined along its sharded dim."""
    import torch
    from torch.distributed.tensor import Shard

    shards = [
        torch.load(actor_dir / f"model_world_size_{world_size}_rank_{rank}.pt", map_location="cpu", weights_only=False)
        for rank in range(world_size)
    ]
    state = {}
    for name, first in shards[0].items():
        placement = first.placements[0] if hasattr(first, "placements") else None
        pieces = [getattr(shard[name], "_local_tensor", shard[name]) for shard in shards]
        if isinstance(placement, Shard) and world_size > 1:
            state[name] = torch.cat(pieces, dim=placement.dim).float()
        else:  # replicated, or one rank: the local tensor is the whole weight
            state[name] = pieces[0].float()
    return state


def save_fp32(actor_dir: Path, world_size: int, out_dir: Path) -> None:
    """The checkpoint as an HF folder in float32, built from its own `huggingface/` config and tokenizer.

    verl's model merger always writes bfloat16: an Adam step at a small lr moves most weights by less than bf16's
    resolution, so a few steps of fp32 training (the CPU backend on a CPU without native bf16) would mostly round
    away. This loads the shards strictly into the model built from the checkpoint's config instead."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    hf = actor_dir / "huggingface"
    config = AutoConfig.from_pretrained(hf)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    state = merge_shards(actor_dir, world_size)
    missing, unexpected = model.load_state_dict(state, strict=False)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if set(missing) - tied or unexpected:
        raise ConversionError(
            f"{actor_dir}: the shards do not match the model of {hf / 'config.json'} "
            f"(missing {sorted(set(missing) - tied)[:5]}, unexpected {sorted(unexpected)[:5]})"
        )
    model.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(hf).save_pretrained(out_dir)
    if (hf / "generation_config.json").is_file():  # the model's own stop tokens, as the merger keeps them
        shutil.copy(hf / "generation_config.json", out_dir / "generation_config.json")


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


def _install(tmp_dir: Path, target: Path) -> None:
    """Move the finished `tmp_dir` to `target`, replacing an earlier conversion there (checked by `check_target`)."""
    if not target.exists():
        os.replace(tmp_dir, target)
        return
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
        os.replace(tmp_dir, target)
        return
    if not (target / MARKER).is_file():  # checked before the merge; the folder changed since
        raise ConversionError(f"target {target} is no longer a converted model (no {MARKER}); left as it is")
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    os.replace(target, old)
    os.replace(tmp_dir, target)
    shutil.rmtree(old)
    print(f"[convert_to_hf] replaced the earlier conversion in {target}", flush=True)


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_target(target: Path, actor_dir: Path, base_model: Path | None = None) -> None:
    """Refuse a target this command must not replace: the current directory or a folder above it, anything inside,
    equal to or above the checkpoint (or the base model), a file, and a non-empty folder without `MARKER`."""
    cwd = Path.cwd().resolve()
    if _within(cwd, target):
        raise ConversionError(
            f"target {target} is the current directory or holds it; give --target-dir a new folder for the model"
        )
    step_dir = actor_dir.parent if actor_dir.name == "actor" else actor_dir
    ckpt_root = step_dir.parent if STEP_DIR_RE.match(step_dir.name) else step_dir
    for what, folder in (("the checkpoint folder", ckpt_root), ("the base model", base_model)):
        if folder is not None and (_within(target, folder) or _within(folder, target)):
            raise ConversionError(
                f"target {target} is, holds or lies inside {what} {folder}; give --target-dir a folder of its own"
            )
    if not target.exists() and not target.is_symlink():
        return
    if not target.is_dir() or target.is_symlink():
        raise ConversionError(f"target {target} exists and is not a folder; refusing to replace it")
    if any(target.iterdir()) and not (target / MARKER).is_file():
        raise ConversionError(
            f"target {target} is not empty and was not made by this converter (no {MARKER}); refusing to replace "
            "it -- give --target-dir a new or empty folder (an older conversion without the file: remove it yourself)"
        )


def write_marker(folder: Path, actor_dir: Path, dtype: str) -> None:
    """`MARKER` in `folder`: what this converter made it from."""
    import time

    record = {
        "converted_by": "recipe.rwml.convert_to_hf",
        "actor_dir": str(actor_dir),
        "dtype": dtype,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (folder / MARKER).write_text(json.dumps(record, indent=1) + "\n")


def ordinary_modes(folder: Path) -> None:
    """Give every file and folder under `folder` the mode the umask gives a new one (the merger's temporary files
    come out 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    for root, _dirs, files in os.walk(folder):
        os.chmod(root, 0o777 & ~umask)
        for name in files:
            os.chmod(os.path.join(root, name), 0o666 & ~umask)


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


def remove_stale_temp_dirs(target: Path) -> list[Path]:
    """Remove what killed conversions into `target` left beside it; return the folders removed.

    `.<name>.converting-<pid>` of a process that is gone is removed; `.<name>.old-<pid>` (the earlier model, set
    aside while the new one was moved in) is put back when the kill left no target, else removed. Folders of
    live processes are left alone.
    """
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(converting|old)-(\d+)$")
    removed = []
    for child in sorted(target.parent.iterdir()) if target.parent.is_dir() else []:
        match = pattern.match(child.name)
        if not match or int(match.group(2)) == os.getpid() or pid_alive(int(match.group(2))):
            continue
        if match.group(1) == "old" and not target.exists():
            os.replace(child, target)
            print(
                f"[convert_to_hf] restored the earlier model {target} from {child} (process {match.group(2)} "
                "was killed while replacing it)",
                file=sys.stderr,
                flush=True,
            )
            continue
        shutil.rmtree(child, ignore_errors=True)
        removed.append(child)
        print(
            f"[convert_to_hf] removed {child}: left by process {match.group(2)}, which is gone (killed mid-run)",
            file=sys.stderr,
            flush=True,
        )
    return removed


def convert(
    actor_dir: str | Path,
    target_dir: str | Path,
    backend: str = "fsdp",
    check: bool = True,
    dtype: str = "bf16",
    base_model: str | Path | None = None,
) -> str:
    """Convert one actor folder into `target_dir` (written whole or not at all) with weights in `dtype` (bf16: verl's
    model merger; fp32: the shards joined in full precision); return the check summary. `base_model`, a local HF
    folder the training started from, is compared with the result and never written."""
    if dtype not in DTYPES:
        raise ConversionError(f"dtype {dtype}: expected one of {', '.join(DTYPES)}")
    actor_dir, target = Path(actor_dir).resolve(), Path(target_dir).absolute()
    target = target.parent.resolve() / target.name  # a symlinked target is refused, not followed
    base = Path(base_model).resolve() if base_model is not None else None
    if base is not None and not (base / "config.json").is_file():
        if Path(base_model).exists() or str(base_model).startswith((".", "/", "~")):
            raise ConversionError(f"--base-model {base_model}: not a model folder (no config.json)")
        print(f"[convert_to_hf] --base-model {base_model}: a hub id, not a local folder; not compared", flush=True)
        base = None
    world_size = check_actor_dir(actor_dir)
    remove_stale_temp_dirs(target)
    check_target(target, actor_dir, base)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = target.parent / f".{target.name}.converting-{os.getpid()}"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    try:
        print(f"[convert_to_hf] merging {world_size} FSDP shard(s) from {actor_dir} into {dtype}", flush=True)
        if dtype == "fp32":
            save_fp32(actor_dir, world_size, tmp_dir)
        else:
            run_merger(actor_dir, tmp_dir, backend)
        check_same_function(tmp_dir, actor_dir / "huggingface" / "config.json", "its checkpoint")
        if base is not None:
            check_same_function(tmp_dir, base / "config.json", "the base model")
        summary = check_hf_model(tmp_dir) if check else "check skipped (--no-check)"
        write_marker(tmp_dir, actor_dir, dtype)
        ordinary_modes(tmp_dir)
        _install(tmp_dir, target)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return summary


def build_parser() -> argparse.ArgumentParser:
    """The command's flags (`python scripts/convert_to_hf.py` / `python -m recipe.rwml.convert_to_hf`)."""
    parser = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ckpt-dir", help="the trainer's default_local_dir (holds global_step_N/ and the tracker)")
    parser.add_argument("--target-dir", required=True, help="where the Hugging Face model goes")
    pick = parser.add_mutually_exclusive_group()
    pick.add_argument("--step", type=int, help="convert global_step_N (default: the tracker's step, else the highest)")
    pick.add_argument("--actor-dir", help="convert this global_step_N/actor folder (--ckpt-dir not needed)")
    parser.add_argument("--backend", default="fsdp", choices=["fsdp"], help="checkpoint backend (FSDP only)")
    parser.add_argument(
        "--base-model",
        help="the local HF folder training started from: the result must compute the same kind of function "
        "(config fields), and it is never a valid target",
    )
    parser.add_argument("--no-check", action="store_true", help="skip loading and generating with transformers")
    parser.add_argument(
        "--dtype",
        default="bf16",
        choices=DTYPES,
        help="weights of the HF model: bf16 (verl's merger, default) or fp32 (full precision, for small updates)",
    )
    return parser


def convert_command(argv: list[str] | None = None) -> int:
    """Convert the checkpoint the flags name; raises ConversionError (or OSError) when it cannot."""
    args = build_parser().parse_args(argv)
    if args.actor_dir is None and args.ckpt_dir is None:
        build_parser().error("give --ckpt-dir (or --actor-dir for one checkpoint folder)")
    actor_dir = Path(args.actor_dir) if args.actor_dir else find_actor_dir(args.ckpt_dir, args.step)
    summary = convert(
        actor_dir,
        args.target_dir,
        backend=args.backend,
        check=not args.no_check,
        dtype=args.dtype,
        base_model=args.base_model,
    )
    print(f"[convert_to_hf] {actor_dir} -> {Path(args.target_dir)}: {summary}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command; 0 on success, 2 with one `error: ...` line on stderr when the conversion cannot be done."""
    return run_cli(convert_command, argv, known=(ConversionError, OSError))


if __name__ == "__main__":
    sys.exit(main())

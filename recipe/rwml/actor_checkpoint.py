"""Find and check a verl FSDP actor checkpoint, and turn its shards into a Hugging Face folder.

The trainer saves `<default_local_dir>/global_step_N/actor/` (per-rank `model_world_size_W_rank_R.pt` shards,
`fsdp_config.json`, and `huggingface/` with the model config and tokenizer) and records the last finished step
in `<default_local_dir>/latest_checkpointed_iteration.txt`. `find_actor_dir` picks the step, `check_actor_dir`
says what a checkpoint lacks, and the shards become an HF folder through verl's own merger (bfloat16) or
`save_fp32` (the shards joined in full precision). `recipe.rwml.convert_to_hf` is the command over these.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

from recipe.rwml.schedule.guard import die_with_parent

TRACKER_FILE = "latest_checkpointed_iteration.txt"  # verl.utils.checkpoint.checkpoint_manager
STEP_DIR_RE = re.compile(r"^global_step_(\d+)$")
TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json")


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

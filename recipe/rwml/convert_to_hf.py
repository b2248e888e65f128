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
import sys
from pathlib import Path

from data_prep.atomic_file import pid_alive
from data_prep.cli_errors import ArgumentParser, run_cli
from recipe.rwml.actor_checkpoint import (
    STEP_DIR_RE,
    ConversionError,
    check_actor_dir,
    find_actor_dir,
    run_merger,
    save_fp32,
)
from recipe.rwml.hf_model_check import check_hf_model, check_same_function

DTYPES = ("bf16", "fp32")  # weights of a converted model
MARKER = "rwml_converted.json"  # written into every converted folder; only such a folder is ever replaced


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

"""Seconds per GRPO step of stage 1 on verl's CPU backend, split by phase, for the tiny model and SmolLM2-135M.

Runs `python -m recipe.rwml.main_rwml --config-name rwml_trainer +platform=cpu` for a few steps per model (2 prompts
x 2 samples, 32 response tokens, bundled ALFWorld world-model data) and reads verl's own step timings from its
console log: generation (verl's `gen`: the rollout, with the sim-to-real reward scored as each sample finishes,
counted in 2 s ticks of verl's replay-buffer poll), old and reference log-probs, the actor update, the weight sync
into the hf server. The server's own generation seconds come from its sync log (`RWML_CPU_SYNC_LOG`), so `gen`
minus that is the reward and scheduling overhead. The first step (warm-up) is left out of the means.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from recipe.rwml.base_models import make_smollm2_hf, make_tiny_model
from recipe.rwml.cpu.checks import CPU_ENV
from recipe.rwml.demo import collect_bundled_alfworld
from recipe.rwml.train_log import parse_steps

REPO = Path(__file__).resolve().parents[1]
STEPS = 4
PHASES = ["gen", "old_log_prob", "ref", "update_actor", "update_weights", "step"]


def build_data(root: Path) -> Path:
    from data_prep.build_wm_dataset import main as build_wm

    episodes = collect_bundled_alfworld(root / "episodes.jsonl", episodes_per_task=2, workers=0)
    build_wm(["--input", str(episodes), "--out-dir", str(root / "wm"), "--val-fraction", "0.34"])
    return root / "wm"


def run_stage1(model: Path, wm: Path, out: Path) -> tuple[dict[int, dict[str, float]], list[dict], float]:
    sync_log = out / "syncs.jsonl"
    env = {**os.environ, **CPU_ENV, "RWML_CPU_SYNC_LOG": str(sync_log)}
    cmd = [
        sys.executable,
        "-m",
        "recipe.rwml.main_rwml",
        "--config-name",
        "rwml_trainer",
        "+platform=cpu",
        f"actor_rollout_ref.model.path={model}",
        f"data.train_files={wm / 'train.parquet'}",
        f"data.val_files={wm / 'val.parquet'}",
        "data.train_batch_size=2",
        "actor_rollout_ref.rollout.n=2",
        "actor_rollout_ref.actor.ppo_mini_batch_size=2",
        "data.max_response_length=32",
        f"trainer.total_training_steps={STEPS}",
        "trainer.val_before_train=false",
        "trainer.test_freq=-1",
        "trainer.save_freq=-1",
        f"trainer.default_local_dir={out / 'ckpt'}",
    ]
    start = time.perf_counter()
    log = out / "train.log"
    with open(log, "w") as f:
        rc = subprocess.run(cmd, cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - start
    if rc != 0:
        raise SystemExit(f"stage 1 failed for {model} (rc {rc}); see {log}")
    syncs = [json.loads(line) for line in sync_log.read_text().splitlines()] if sync_log.is_file() else []
    return parse_steps(log.read_text()), syncs, wall


def summarise(name: str, steps: dict[int, dict[str, float]], syncs: list[dict], wall: float) -> dict[str, float]:
    measured = [s for s in sorted(steps) if s > 1]
    row = {p: sum(steps[s][f"timing_s/{p}"] for s in measured) / len(measured) for p in PHASES}
    # server seconds generating between consecutive syncs: the sync before step k ends step k-1's generation
    busy = [b["generate_s"] - a["generate_s"] for a, b in zip(syncs, syncs[1:], strict=False)]
    row["server_generate"] = sum(busy[1 : len(measured) + 1]) / max(1, len(busy[1 : len(measured) + 1]))
    row["wall"] = wall
    print(
        f"{name:10s} "
        + "  ".join(f"{p}={row[p]:.2f}s" for p in [*PHASES, "server_generate"])
        + f"  (whole run {wall:.0f}s, {len(steps)} steps)"
    )
    return row


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench_cpu_training_") as tmp:
        root = Path(tmp)
        wm = build_data(root)
        models = {
            "tiny": make_tiny_model(root / "tiny_model"),
            "smollm2": make_smollm2_hf(REPO / "demo_out" / "smollm2_hf"),
        }
        rows = {}
        print(
            f"\nstage 1, {STEPS} GRPO steps per model (means over steps 2-{STEPS}), 2 prompts x 2 samples x 32 tokens"
        )
        for name, model in models.items():
            out = root / name
            out.mkdir()
            rows[name] = summarise(name, *run_stage1(model, wm, out))
    for name, row in rows.items():
        print(
            f"{name}: weight sync / step = {row['update_weights'] / row['step']:.3f}; "
            f"generation (verl gen) / step = {row['gen'] / row['step']:.2f}; "
            f"update / step = {row['update_actor'] / row['step']:.2f}; "
            f"log-probs (old + ref) / step = {(row['old_log_prob'] + row['ref']) / row['step']:.2f}"
        )
    print(f"smollm2 / tiny seconds per step = {rows['smollm2']['step'] / rows['tiny']['step']:.1f}x")


if __name__ == "__main__":
    main()

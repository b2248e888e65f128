"""CPU training speed through verl's own trainers: the compute dtype, the machine's matmul limit, a stage's fixed cost.

All in one run, on the bundled ALFWorld world-model data (recipe/rwml/cpu):
1. dtype: SmolLM2-135M, one SFT step (verl's SFT trainer, 8 triplets) and one GRPO step of stage 1 (`main_rwml`,
   2 prompts x group 4, <= 64 response tokens), with the compute dtype forced to bf16, forced to fp32, and chosen
   automatically (`RWML_CPU_DTYPE`); seconds per step are the mean over the steps after the first;
2. the update phase's FLOPs per second (6 x parameters x tokens, the matmul work of a forward and backward pass) as
   a fraction of this machine's matmul rate in the chosen dtype, measured in the same run with the same threads;
3. a stage's fixed cost, tiny model: seconds from the stage's start to its first step's start (verl's progress bar),
   split by what verl logs on the way, and the first step's extra time over the next.
The CPU model, its bf16 flags and the automatic choice are printed first. Ratios are of runs in this process only.
"""

from __future__ import annotations

import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from recipe.rwml.base_models import make_smollm2_hf, make_tiny_model
from recipe.rwml.cpu.checks import CPU_ENV
from recipe.rwml.cpu.precision import NATIVE_BF16_FLAGS, choose_precision, compute_threads, cpu_flags
from recipe.rwml.train_log import parse_steps

REPO = Path(__file__).resolve().parents[1]
STEPS = 3
DTYPES = ("bf16", "fp32", "auto")
# what verl prints on the way to the first step (TaskRunner, engines, servers), in order
STARTUP_MARKS = [
    ("ray started", "Started a local Ray instance"),
    ("trainer process up", "TaskRunnerV1 pid"),
    ("data loaded", "train and validate dataloader initialized"),
    ("FSDP workers up", "create worker group"),
    ("engines built", "actor and ref model engine initialized"),
    ("rollout server and agent loop up", "all initialize finished"),
    ("first step starts", "Training Progress:   0%"),
]


def run_timed(cmd: list[str], env: dict[str, str], log: Path) -> list[tuple[float, str]]:
    """Run `cmd`, keeping each output line with the seconds since the start; raise naming the log on failure."""
    lines: list[tuple[float, str]] = []
    start = time.perf_counter()
    with subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as p:
        with log.open("w") as out:
            for line in p.stdout:
                lines.append((time.perf_counter() - start, line))
                out.write(f"[{lines[-1][0]:8.2f}] {line}")
    if p.returncode != 0:
        raise SystemExit(f"{cmd[2]} failed (rc {p.returncode}); see {log}")
    return lines


def build_data(root: Path) -> tuple[Path, Path]:
    from data_prep.build_sft_dataset import main as build_sft
    from data_prep.build_wm_dataset import main as build_wm
    from data_prep.collect_trajectories import main as collect

    episodes = root / "episodes.jsonl"
    argv = ["--env", "alfworld", "--data-root", str(REPO / "envs" / "alfworld_games"), "--split", "train"]
    collect([*argv, "--policy", "expert", "--episodes-per-task", "2", "--workers", "0", "--out", str(episodes)])
    build_wm(["--input", str(episodes), "--out-dir", str(root / "wm"), "--val-fraction", "0.34"])
    build_sft(["--input", str(episodes), "--out-dir", str(root / "sft"), "--val-fraction", "0.34"])
    return root / "wm", root / "sft"


def grpo(model: Path, wm: Path, out: Path, dtype: str, group: int = 4, response: int = 64) -> list[tuple[float, str]]:
    env = {**os.environ, **CPU_ENV, "RWML_CPU_DTYPE": dtype, "TENSORBOARD_DIR": str(out / "tb")}
    cmd = [sys.executable, "-m", "recipe.rwml.main_rwml", "--config-name", "rwml_trainer", "+platform=cpu"]
    cmd += [f"actor_rollout_ref.model.path={model}", f"data.train_files={wm / 'train.parquet'}"]
    cmd += [f"data.val_files={wm / 'val.parquet'}", "data.train_batch_size=2", f"actor_rollout_ref.rollout.n={group}"]
    cmd += ["actor_rollout_ref.actor.ppo_mini_batch_size=2", f"data.max_response_length={response}"]
    cmd += [f"trainer.total_training_steps={STEPS}", "trainer.val_before_train=false", "trainer.test_freq=-1"]
    cmd += ["trainer.save_freq=-1", f"trainer.default_local_dir={out / 'ckpt'}"]
    out.mkdir(parents=True, exist_ok=True)
    return run_timed(cmd, env, out / "grpo.log")


def sft(model: Path, data: Path, out: Path, dtype: str) -> list[tuple[float, str]]:
    env = {**os.environ, **CPU_ENV, "RWML_CPU_DTYPE": dtype, "TENSORBOARD_DIR": str(out / "tb")}
    env["PYTHONPATH"] = str(REPO)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1"]
    cmd += ["-m", "verl.trainer.sft_trainer", "--config-path", str(REPO / "recipe/rwml/config")]
    cmd += ["--config-name", "sft_trainer_cpu", f"model.path={model}", "data.train_batch_size=8"]
    cmd += [f"data.train_files={data / 'train.parquet'}", f"data.val_files={data / 'val.parquet'}"]
    cmd += ["data.max_length=2048", "data.max_token_len_per_gpu=2048", f"trainer.total_training_steps={STEPS}"]
    cmd += [f"trainer.total_epochs={STEPS}", "trainer.save_freq=-1", "trainer.test_freq=-1"]
    cmd += [f"trainer.default_local_dir={out / 'ckpt'}", "trainer.project_name=bench", "trainer.experiment_name=sft"]
    out.mkdir(parents=True, exist_ok=True)
    return run_timed(cmd, env, out / "sft.log")


def step_times(lines: list[tuple[float, str]]) -> dict[int, float]:
    """Seconds between consecutive `step:N` lines (the SFT trainer logs no step time of its own)."""
    seen = {}
    for t, line in lines:
        if m := re.search(r"step:(\d+) - ", line):
            seen.setdefault(int(m.group(1)), t)
    return {s: seen[s] - seen[s - 1] for s in sorted(seen) if s - 1 in seen}


def matmul_gflops(dtype: torch.dtype, rows: int = 2048, k: int = 576, n: int = 1536) -> float:
    """This machine's dense matmul rate (GFLOPS) in `dtype` with the run's threads: the best of 5 timed products."""
    torch.set_num_threads(compute_threads())
    x, w = torch.randn(rows, k, dtype=dtype), torch.randn(n, k, dtype=dtype)
    torch.nn.functional.linear(x, w)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(5):
            torch.nn.functional.linear(x, w)
        best = min(best, (time.perf_counter() - start) / 5)
    return 2 * rows * k * n / best / 1e9


def n_params(model: Path) -> int:
    from safetensors import safe_open

    with safe_open(str(model / "model.safetensors"), framework="pt") as f:
        return sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())


def startup(lines: list[tuple[float, str]]) -> list[tuple[str, float]]:
    marks = []
    for name, pattern in STARTUP_MARKS:
        t = next((t for t, line in lines if pattern in line), None)
        if t is not None:
            marks.append((name, t))
    return marks


def main() -> None:
    precision = choose_precision()
    flags = cpu_flags()
    print(
        f"CPU: {platform.processor() or platform.machine()}, {compute_threads()} threads; native bf16 flags: "
        f"{sorted(f for f in NATIVE_BF16_FLAGS if f in flags) or 'none'}; avx512f: {'avx512f' in flags}, "
        f"avx2: {'avx2' in flags}"
    )
    print(f"automatic choice: {precision.dtype} ({precision.reason})")
    with tempfile.TemporaryDirectory(prefix="bench_cpu_training_") as tmp:
        root = Path(tmp)
        wm, sft_data = build_data(root)
        smollm2 = make_smollm2_hf(REPO / "demo_out" / "smollm2_hf")
        params = n_params(smollm2)
        rows: dict[str, dict[str, float]] = {}
        for dtype in DTYPES:
            row: dict[str, float] = {}
            sft_lines = sft(smollm2, sft_data, root / f"sft_{dtype}", dtype)
            times = step_times(sft_lines)
            row["sft_step"] = sum(times.values()) / len(times)
            sft_metrics = parse_steps("".join(line for _, line in sft_lines))
            row["sft_tokens"] = sum(m.get("train/global_tokens", 0) for m in sft_metrics.values()) / len(sft_metrics)
            g_lines = grpo(smollm2, wm, root / f"grpo_{dtype}", dtype)
            steps = parse_steps("".join(line for _, line in g_lines))
            later = [steps[s] for s in sorted(steps)[1:]]
            row["grpo_step"] = sum(m["timing_s/step"] for m in later) / len(later)
            row["update"] = sum(m["timing_s/update_actor"] for m in later) / len(later)
            seqs = 2 * 4
            row["update_tokens"] = sum(
                seqs * (m.get("prompt_length/mean", 0) + m.get("response_length/mean", 0)) for m in later
            ) / len(later)
            row["probs_diff_max"] = max(m.get("training/rollout_probs_diff_max", float("nan")) for m in later)
            rows[dtype] = row
            print(
                f"{dtype:5s} SFT step {row['sft_step']:.1f}s ({row['sft_tokens']:.0f} tokens); GRPO step "
                f"{row['grpo_step']:.1f}s (update {row['update']:.1f}s, {row['update_tokens']:.0f} tokens); "
                f"rollout_probs_diff_max {row['probs_diff_max']:.2e}",
                flush=True,
            )
        auto = rows["auto"]
        chosen = precision.dtype
        peak = matmul_gflops({"fp32": torch.float32, "bf16": torch.bfloat16}[chosen])
        achieved_update = 6 * params * auto["update_tokens"] / auto["update"] / 1e9
        achieved_sft = 6 * params * auto["sft_tokens"] / auto["sft_step"] / 1e9
        print(f"\nmatmul rate in {chosen} ({compute_threads()} threads): {peak:.0f} GFLOPS; {params / 1e6:.0f}M params")
        print(f"GRPO update phase: {achieved_update:.1f} GFLOPS = {achieved_update / peak:.2f} of the matmul rate")
        print(f"SFT step (whole step): {achieved_sft:.1f} GFLOPS = {achieved_sft / peak:.2f} of the matmul rate")
        tiny = make_tiny_model(root / "tiny")
        lines = grpo(tiny, wm, root / "grpo_tiny", "auto", group=2, response=32)
        steps = parse_steps("".join(line for _, line in lines))
        print("\nstage fixed cost, tiny model (seconds from the stage's start):")
        for name, t in startup(lines):
            print(f"  {name:34s} {t:6.1f}")
        first, second = steps[1]["timing_s/step"], steps[2]["timing_s/step"]
        print(f"  first step's extra (step 1 - step 2) {first - second:6.1f}  (agent-loop and reward workers start)")
    bf16, fp32 = rows["bf16"], rows["fp32"]
    faster = min(bf16["sft_step"], fp32["sft_step"]), min(bf16["grpo_step"], fp32["grpo_step"])
    print(
        f"\nbf16 / fp32 seconds per SFT step = {bf16['sft_step'] / fp32['sft_step']:.2f}; "
        f"per GRPO step = {bf16['grpo_step'] / fp32['grpo_step']:.2f}"
    )
    print(
        f"auto / the faster forced dtype: SFT step {auto['sft_step'] / faster[0]:.2f}, "
        f"GRPO step {auto['grpo_step'] / faster[1]:.2f}"
    )


if __name__ == "__main__":
    main()

"""`make demo`: the whole RWML flow at tiny scale on CPU, with bundled/offline data and no downloads.

1. collect real episodes: bundled ALFWorld games (handcoded expert + 30% random actions, on Ray workers)
   and tau2 retail (gold tool calls + 30% perturbations);
2. build the world-model parquet datasets (and the stage-2 policy dataset);
3. score reference world models on the validation split with the real reward manager, loaded through
   verl's own loader from the stage-1 config: an oracle (the real next state), "repeat the last
   observation", "echo the action", and an answer without tags;
4. compose both stage configs against the installed verl;
5. print the GPU commands the schedule would run (`scripts/run_rwml_qwen3_8b.sh --dry-run`);
6. train both stages for real on this CPU: `scripts/run_rwml_cpu.sh` (the same schedule, verl's own trainer on the
   CPU backend) with the tiny random-weight model -- episodes from the expert with 30% random actions, 2 format
   warm-up SFT steps, convert, 2 RWML steps, convert, 2 policy-RL steps on the bundled ALFWorld games, convert,
   evaluate (the model served); `make train-cpu` does the same with SmolLM2-135M-Instruct;
7. print a summary table.
Outputs go to demo_out/ (override with DEMO_OUT); rerunning resumes (collection, and each schedule stage).
`make demo` runs `python -m recipe.rwml.demo`.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
OUT = Path(os.environ.get("DEMO_OUT", REPO / "demo_out"))
# set before the first import that reads them (every heavy import here is inside a function)
OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "RAY_USAGE_STATS_ENABLED": "0",
}


def banner(text: str) -> None:
    print(f"\n{'=' * 100}\n{text}\n{'=' * 100}", flush=True)


def collect_bundled_alfworld(out: Path, episodes_per_task: int, workers: int) -> Path:
    """Episodes of the bundled ALFWorld train games (handcoded expert + 30% random actions) into `out`."""
    from data_prep.collect_trajectories import main as collect

    flags = "--env alfworld --data-root bundled --split train --policy expert --epsilon 0.3".split()
    rc = collect([*flags, "--episodes-per-task", str(episodes_per_task), "--workers", str(workers), "--out", str(out)])
    if rc != 0:
        raise SystemExit(f"collection failed for alfworld (bundled games -> {out})")
    return out


def step_collect() -> dict[str, Path]:
    from data_prep.collect_trajectories import main as collect

    banner("1. collect real episodes (ALFWorld bundled games, tau2 retail)")
    alfworld = collect_bundled_alfworld(OUT / "episodes_alfworld.jsonl", episodes_per_task=4, workers=2)
    tau2 = OUT / "episodes_tau2.jsonl"
    flags = "--env tau2 --domain retail --split test --policy gold --epsilon 0.3 --max-tasks 12 --workers 0".split()
    if collect([*flags, "--out", str(tau2)]) != 0:
        raise SystemExit("collection failed for tau2")
    return {"alfworld": alfworld, "tau2": tau2}


def step_datasets(episodes: dict[str, Path], tokenizer_dir: Path) -> dict[str, Path]:
    from data_prep.build_wm_dataset import main as build_wm

    banner("2. build world-model datasets (verl RLHFDataset parquet)")
    dirs = {}
    for env, path in episodes.items():
        d = OUT / f"wm_{env}"
        rc = build_wm(["--input", str(path), "--out-dir", str(d), "--val-fraction", "0.34"])
        if rc not in (0, None):
            raise SystemExit(f"build_wm_dataset failed for {env}")
        dirs[env] = d
    return dirs


def _reference_predictions(row: dict[str, Any]) -> dict[str, str]:
    from reward_score.answer_format import STATE_CLOSE, STATE_OPEN, THINK_CLOSE, THINK_OPEN

    truth = row["reward_model"]["ground_truth"]
    info = row["extra_info"]
    prev = info.get("observation") or info.get("previous_observation") or ""
    think = (
        f"{THINK_OPEN}The action is '{info.get('action', '')}'; predicting what the environment answers.{THINK_CLOSE}"
    )
    return {
        "oracle (real next state)": f"{think}{STATE_OPEN}{truth}{STATE_CLOSE}",
        "repeat last observation": f"{think}{STATE_OPEN}{prev}{STATE_CLOSE}",
        "echo the action": f"{think}{STATE_OPEN}{info.get('action', '')}{STATE_CLOSE}",
        "no tags": truth,
    }


def _as_dataproto(tok: Any, texts: list[str], rows: list[dict[str, Any]]) -> Any:
    """Responses laid out as verl's rollout hands them to the reward loop (right-padded, masked)."""
    import numpy as np
    import torch
    from verl import DataProto

    ids = [tok(t)["input_ids"] + [tok.eos_token_id] for t in texts]
    width = max(len(r) for r in ids)
    resp = torch.tensor([r + [tok.pad_token_id] * (width - len(r)) for r in ids])
    valid = torch.arange(width)[None] < torch.tensor([len(r) for r in ids])[:, None]
    prompts = torch.full((len(ids), 1), tok.eos_token_id)
    return DataProto.from_dict(
        tensors={
            "prompts": prompts,
            "responses": resp,
            "input_ids": torch.cat([prompts, resp], 1),
            "attention_mask": torch.cat([torch.ones_like(prompts), valid.long()], 1),
        },
        non_tensors={
            "data_source": np.array([r["data_source"] for r in rows], dtype=object),
            "reward_model": np.array([r["reward_model"] for r in rows], dtype=object),
            "extra_info": np.array([r["extra_info"] for r in rows], dtype=object),
        },
    )


async def _score_concurrently(manager: Any, data: Any) -> list[dict[str, Any]]:
    """What verl's RewardLoopWorker does: one run_single per sample, all in flight at once."""
    return await asyncio.gather(*(manager.run_single(data[i : i + 1]) for i in range(len(data))))


def step_score(dirs: dict[str, Path], tokenizer_dir: Path) -> dict[str, dict[str, float]]:
    import numpy as np
    import pyarrow.parquet as pq
    from transformers import AutoTokenizer
    from verl.trainer.ppo.reward import load_reward_manager

    from recipe.rwml.compose import compose_stage

    banner("3. score reference world models with the real reward manager (verl's loader, stage-1 config)")
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    results: dict[str, dict[str, float]] = {}
    for env, d in dirs.items():
        stage = "rwml" if env == "alfworld" else "rwml_tau2"
        cfg = compose_stage(stage, [f"actor_rollout_ref.model.path={tokenizer_dir}"])
        manager = load_reward_manager(cfg, tok)
        rows = pq.read_table(d / "val.parquet").to_pylist()[:64]
        names = list(_reference_predictions(rows[0]))
        texts = [_reference_predictions(row)[name] for name in names for row in rows]
        data = _as_dataproto(tok, texts, rows * len(names))
        outs = asyncio.run(_score_concurrently(manager, data))  # one event loop: the manager batches across calls
        for k, name in enumerate(names):
            part = outs[k * len(rows) : (k + 1) * len(rows)]
            mean = float(np.mean([o["reward_score"] for o in part]))
            results.setdefault(env, {})[name] = mean
            reasons: dict[str, int] = {}
            for o in part:
                r = str(o["reward_extra_info"].get("reason"))
                reasons[r] = reasons.get(r, 0) + 1
            print(f"  {env:9s} {name:26s} mean reward {mean:.3f} over {len(part)} samples; reasons {reasons}")
    return results


def step_compose(tokenizer_dir: Path) -> list[tuple[str, str, Any]]:
    from omegaconf import OmegaConf

    from recipe.rwml.compose import compose_stage

    banner("4. compose both stage configs against the installed verl")
    keys = [
        "algorithm.adv_estimator",
        "actor_rollout_ref.rollout.n",
        "actor_rollout_ref.actor.optim.lr",
        "actor_rollout_ref.actor.kl_loss_coef",
        "actor_rollout_ref.actor.entropy_coeff",
        "data.max_prompt_length",
        "data.max_response_length",
        "reward.reward_manager.name",
    ]
    rows = []
    for stage in ("rwml", "rwml_tau2", "policy"):
        cfg = compose_stage(stage, [f"actor_rollout_ref.model.path={tokenizer_dir}"])
        for k in keys:
            rows.append((stage, k, OmegaConf.select(cfg, k)))
    for stage, k, v in rows:
        print(f"  {stage:10s} {k:45s} {v}")
    return rows


def step_dry_run() -> str:
    banner("5. the GPU schedule: bash scripts/run_rwml_qwen3_8b.sh --dry-run")
    env = dict(os.environ, DATA_DIR=str(OUT / "schedule_data"), CKPT_DIR=str(OUT / "schedule_ckpt"))
    proc = subprocess.run(
        ["bash", "scripts/run_rwml_qwen3_8b.sh", "--dry-run"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(proc.stdout)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        raise SystemExit("the schedule's dry run failed")
    return proc.stdout


def step_train(model_dir: Path) -> str:
    banner("6. train both stages on this CPU: bash scripts/run_rwml_cpu.sh (tiny model)")
    small = (
        "data.train_batch_size=2 actor_rollout_ref.rollout.n=2 actor_rollout_ref.actor.ppo_mini_batch_size=2 "
        "trainer.val_before_train=false trainer.test_freq=-1 trainer.save_freq=1 trainer.total_training_steps=2 "
    )
    env = dict(
        os.environ,
        MODEL_PATH=str(model_dir),
        RUN_NAME="demo",
        DATA_DIR=str(OUT / "train_tiny" / "data"),
        CKPT_DIR=str(OUT / "train_tiny" / "checkpoints"),
        MAX_TOKENS="32",
        WARMUP_STEPS="2",
        WARMUP_OVERRIDES="data.train_batch_size=2",
        RWML_OVERRIDES=small + "data.max_response_length=32",
        POLICY_OVERRIDES=small
        + "data.max_response_length=32 actor_rollout_ref.rollout.custom.rwml_env.envs.alfworld.max_steps=3",
    )
    lines = []
    with subprocess.Popen(
        ["bash", "scripts/run_rwml_cpu.sh"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        for line in proc.stdout:  # live: verl's per-step metrics and progress bars
            print(line, end="", flush=True)
            lines.append(line)
    if proc.returncode != 0:
        raise SystemExit(f"the CPU schedule failed (rc {proc.returncode}); logs in {OUT / 'train_tiny'}")
    text = "".join(lines)
    if "schedule finished" in text:
        return text[text.rindex("schedule finished") :]
    # A rerun after every stage was done: the summary table from that run's logs.
    logs = [f"{name}={env['CKPT_DIR']}/logs/{name}.log" for name in ("rwml", "policy")]
    table = subprocess.run([sys.executable, "-m", "recipe.rwml.train_log", *logs], capture_output=True, text=True)
    return "every stage was already done (a rerun)\n" + table.stdout


def main() -> int:
    """Run the whole demo (steps 1-7 above); 0 when every step succeeded."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    t0 = time.time()
    OUT.mkdir(parents=True, exist_ok=True)
    from recipe.rwml.base_models import make_tiny_model

    tokenizer_dir = OUT / "tiny_model"
    if not (tokenizer_dir / "config.json").exists():
        make_tiny_model(tokenizer_dir)
    episodes = step_collect()
    dirs = step_datasets(episodes, tokenizer_dir)
    scores = step_score(dirs, tokenizer_dir)
    step_compose(tokenizer_dir)
    step_dry_run()
    trained = step_train(tokenizer_dir)

    banner("summary")
    import pyarrow.parquet as pq

    header = f"{'env':10s} {'episodes':>8s} {'success':>8s} {'train rows':>10s} {'val rows':>8s}"
    print(header + "  mean reward: oracle / repeat-obs / echo-action / no-tags")
    for env, path in episodes.items():
        eps = [json.loads(line) for line in open(path)]
        succ = sum(e["success"] for e in eps) / max(len(eps), 1)
        tr = pq.read_metadata(dirs[env] / "train.parquet").num_rows
        va = pq.read_metadata(dirs[env] / "val.parquet").num_rows
        s = scores[env]
        print(f"{env:10s} {len(eps):8d} {succ:8.0%} {tr:10d} {va:8d}  " + " / ".join(f"{v:.2f}" for v in s.values()))
    print("\nboth stages trained on this CPU by verl's trainer (tiny random model):\n" + trained)
    print(f"\ndemo finished in {time.time() - t0:.0f} s; outputs in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

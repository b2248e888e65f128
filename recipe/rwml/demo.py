"""`make demo`: the whole RWML flow at tiny scale on CPU, with bundled/offline data and no downloads.

1. train both stages for real on this CPU: `scripts/run_rwml_demo_cpu.sh`, the schedule of the GPU scripts
   (recipe/rwml/schedule, plan `rwml_demo_cpu`) with the tiny random-weight model on verl's CPU backend -- collect
   episodes of the bundled ALFWorld games (the expert with 30% random actions), build the world-model parquet,
   2 format warm-up SFT steps, convert, 2 RWML steps, convert, 2 policy-RL steps, convert, evaluate (the model
   served); `make train-cpu` does the same with SmolLM2-135M-Instruct;
2. score reference world models on the validation rows that schedule built, with the real reward manager loaded
   through verl's own loader from the stage-1 config: an oracle (the real next state), "repeat the last
   observation", "echo the action", and an answer without tags;
3. compose both stage configs (ALFWorld and tau2) against the installed verl;
4. print the GPU commands the schedule would run (`scripts/run_rwml_qwen3_8b.sh --dry-run`);
5. print a summary table.
Outputs go to demo_out/ (override with DEMO_OUT); rerunning resumes (each schedule stage has its done marker).
`make demo` runs `python -m recipe.rwml.demo`; no data is collected outside the schedule.
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


# where the demo schedule (recipe/rwml/schedule/schedules.py, rwml_demo_cpu) writes, under DEMO_OUT
SCHEDULE_PATHS = {
    "MODEL_PATH": str(OUT / "tiny_model"),
    "DATA_DIR": str(OUT / "train_tiny" / "data"),
    "CKPT_DIR": str(OUT / "train_tiny" / "checkpoints"),
}


def banner(text: str) -> None:
    print(f"\n{'=' * 100}\n{text}\n{'=' * 100}", flush=True)


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
    """Mean reward of each reference world model on the first 64 validation rows of each env's world-model data."""
    import numpy as np
    import pyarrow.parquet as pq
    from transformers import AutoTokenizer
    from verl.trainer.ppo.reward import load_reward_manager

    from recipe.rwml.compose import compose_stage

    banner("2. score reference world models with the real reward manager (verl's loader, stage-1 config)")
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

    banner("3. compose both stage configs against the installed verl")
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
    banner("4. the GPU schedule: bash scripts/run_rwml_qwen3_8b.sh --dry-run")
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


def step_train() -> str:
    """Run the demo schedule (resuming at its first unfinished stage); its summary table, or the last run's."""
    banner("1. train both stages on this CPU: bash scripts/run_rwml_demo_cpu.sh (tiny model)")
    lines = []
    with subprocess.Popen(
        ["bash", "scripts/run_rwml_demo_cpu.sh"],
        cwd=REPO,
        env=dict(os.environ, **SCHEDULE_PATHS),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        for line in proc.stdout:  # live: verl's per-step metrics and progress bars
            print(line, end="", flush=True)
            lines.append(line)
    if proc.returncode != 0:
        raise SystemExit(f"the CPU schedule failed (rc {proc.returncode}); logs in {SCHEDULE_PATHS['CKPT_DIR']}/logs")
    text = "".join(lines)
    if "schedule finished" in text:
        return text[text.rindex("schedule finished") :]
    # A rerun after every stage was done: the summary table from that run's logs.
    logs = [f"{name}={SCHEDULE_PATHS['CKPT_DIR']}/logs/{name}.log" for name in ("rwml", "policy")]
    table = subprocess.run([sys.executable, "-m", "recipe.rwml.train_log", *logs], capture_output=True, text=True)
    return "every stage was already done (a rerun)\n" + table.stdout


def main() -> int:
    """Run the whole demo (steps 1-5 above); 0 when every step succeeded."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    t0 = time.time()
    OUT.mkdir(parents=True, exist_ok=True)
    trained = step_train()
    tokenizer_dir = Path(SCHEDULE_PATHS["MODEL_PATH"])
    data = Path(SCHEDULE_PATHS["DATA_DIR"])
    dirs = {"alfworld": data / "wm_alfworld"}
    scores = step_score(dirs, tokenizer_dir)
    step_compose(tokenizer_dir)
    step_dry_run()

    banner("summary")
    import pyarrow.parquet as pq

    header = f"{'env':10s} {'episodes':>8s} {'success':>8s} {'train rows':>10s} {'val rows':>8s}"
    print(header + "  mean reward: oracle / repeat-obs / echo-action / no-tags")
    for env, wm_dir in dirs.items():
        eps = [json.loads(line) for path in sorted((data / f"episodes_{env}").glob("*.jsonl")) for line in open(path)]
        succ = sum(e["success"] for e in eps) / max(len(eps), 1)
        tr = pq.read_metadata(wm_dir / "train.parquet").num_rows
        va = pq.read_metadata(wm_dir / "val.parquet").num_rows
        s = scores[env]
        print(f"{env:10s} {len(eps):8d} {succ:8.0%} {tr:10d} {va:8d}  " + " / ".join(f"{v:.2f}" for v in s.values()))
    print("\nboth stages trained on this CPU by verl's trainer (tiny random model):\n" + trained)
    print(f"\ndemo finished in {time.time() - t0:.0f} s; outputs in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

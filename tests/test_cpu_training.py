"""Both RWML stages trained for real by verl 0.9.1's own trainer on the CPU backend (recipe/rwml/cpu), tiny model.

Each test runs `python -m recipe.rwml.main_rwml` exactly as a user would (Ray, FSDP2 over gloo, the hf rollout
server, the reward loop or the env agent loop, checkpoints) and asserts on what the trainer produced: verl's
per-step console metrics, its checkpoints, the converted HF model, and the rollout server's weight fingerprints
after each sync. Stage 2 starts from the converted stage-1 checkpoint, as in the schedule.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recipe.rwml.cpu.checks import CPU_ENV
from recipe.rwml.train_log import parse_steps
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
AGENT_LOOP_YAML = REPO_ROOT / "recipe" / "rwml" / "config" / "agent_loop.yaml"

SMALL = [
    "+platform=cpu",
    "data.train_batch_size=2",
    "actor_rollout_ref.actor.ppo_mini_batch_size=2",
    "actor_rollout_ref.rollout.n=2",
    "data.max_response_length=16",
    "data.max_prompt_length=1536",
    "trainer.total_training_steps=2",
    "trainer.val_before_train=false",
    "trainer.test_freq=-1",
    "trainer.save_freq=1",
]


def train(
    config: str, overrides: list[str], workdir: Path, dtype: str = "auto"
) -> tuple[dict[int, dict[str, float]], Path]:
    """Run one stage through main_rwml on the CPU backend (compute dtype `dtype`: auto, or forced); the console log
    is kept beside the checkpoints."""
    log_path = workdir / f"{config}.log"
    sync_log = workdir / f"{config}.syncs.jsonl"
    env = {**os.environ, **CPU_ENV, "RAY_DEDUP_LOGS": "0", "RWML_CPU_SYNC_LOG": str(sync_log), "RWML_CPU_DTYPE": dtype}
    env["TENSORBOARD_DIR"] = str(workdir / f"{config}.tensorboard")
    cmd = [sys.executable, "-m", "recipe.rwml.main_rwml", "--config-name", config, *SMALL, *overrides]
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=900)
    text = log_path.read_text()
    assert proc.returncode == 0, f"{config} failed (rc {proc.returncode}); log {log_path}:\n{text[-4000:]}"
    return parse_steps(text), sync_log


def checkpoint_weights(step_dir: Path) -> dict:
    """The fp32 actor weights verl saved (world size 1: the local shard is the whole tensor)."""
    import torch

    state = torch.load(step_dir / "actor" / "model_world_size_1_rank_0.pt", weights_only=False, map_location="cpu")
    return {k: (v.to_local() if hasattr(v, "to_local") else v) for k, v in state.items()}


def fingerprint(state: dict) -> dict[str, list[float]]:
    from recipe.rwml.cpu.rollout import weight_fingerprint

    return weight_fingerprint(state)


def assert_finite(metrics: dict[str, float], keys: list[str]) -> None:
    for key in keys:
        assert key in metrics, f"verl did not report {key}; got {sorted(metrics)[:20]}..."
        assert math.isfinite(metrics[key]), f"{key} = {metrics[key]}"


@pytest.fixture(scope="module")
def data(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Expert episodes on the bundled ALFWorld games -> world-model parquet; the games -> stage-2 rows."""
    from data_prep.build_policy_dataset import main as build_policy
    from data_prep.build_wm_dataset import main as build_wm
    from data_prep.collect_trajectories import main as collect

    root = tmp_path_factory.mktemp("cpu_train")
    episodes = root / "episodes.jsonl"
    assert (
        collect(
            [
                "--env",
                "alfworld",
                "--data-root",
                "bundled",
                "--split",
                "train",
                "--policy",
                "expert",
                "--epsilon",
                "0.3",
                "--episodes-per-task",
                "2",
                "--workers",
                "0",
                "--out",
                str(episodes),
            ]
        )
        == 0
    )
    assert build_wm(["--input", str(episodes), "--out-dir", str(root / "wm"), "--val-fraction", "0.34"]) in (0, None)
    assert build_policy(
        [
            "--env",
            "alfworld",
            "--data-root",
            "bundled",
            "--train-split",
            "train",
            "--val-split",
            "valid_seen",
            "--out-dir",
            str(root / "policy"),
        ]
    ) in (0, None)
    return {"root": root, "model": tiny_model_dir, "wm": root / "wm", "policy": root / "policy"}


def other_dtype() -> str:
    """The dtype this machine's CPU does not choose: stage 1 is forced to it, so CI runs both paths on any CPU."""
    from recipe.rwml.cpu.precision import choose_precision

    return {"fp32": "bf16", "bf16": "fp32"}[choose_precision("auto").dtype]


def assert_compute_settings(syncs: Path, dtype: str) -> None:
    """Every sync: the server holds the weights in the run's dtype; server and FSDP worker use the run's threads
    (Ray would have started the worker on one)."""
    from recipe.rwml.cpu.precision import compute_threads

    records = [json.loads(line) for line in syncs.read_text().splitlines()]
    assert records
    for record in records:
        assert record["dtype"] == {"fp32": "float32", "bf16": "bfloat16"}[dtype], record["dtype"]
        assert record["server_threads"] == record["trainer_threads"] == compute_threads(), record


@pytest.fixture(scope="module")
def stage1(data: dict[str, Path]) -> dict:
    ckpt = data["root"] / "rwml"
    steps, syncs = train(
        "rwml_trainer",
        [
            f"actor_rollout_ref.model.path={data['model']}",
            f"data.train_files={data['wm'] / 'train.parquet'}",
            f"data.val_files={data['wm'] / 'val.parquet'}",
            f"trainer.default_local_dir={ckpt}",
            # a random tiny model never writes <next_state> tags, so every reward is 0 and GRPO's advantages vanish;
            # the entropy term keeps a gradient so that the update (and the sync after it) is observable
            "actor_rollout_ref.actor.entropy_coeff=0.01",
        ],
        data["root"],
        dtype=other_dtype(),
    )
    return {"steps": steps, "syncs": syncs, "ckpt": ckpt, "dtype": other_dtype()}


def test_stage1_trains_and_reports_verl_metrics(stage1: dict) -> None:
    steps = stage1["steps"]
    assert sorted(steps) == [1, 2]
    for metrics in steps.values():
        assert_finite(
            metrics,
            [
                "critic/score/mean",
                "actor/pg_loss",
                "actor/kl_loss",
                "actor/grad_norm",
                "timing_s/gen",
                "timing_s/update_actor",
                "timing_s/update_weights",
            ],
        )
        assert metrics["response_length/mean"] > 0
        # the server generated with the actor's weights: its log-probs match the actor's recomputation
        assert metrics["training/rollout_probs_diff_max"] < 1e-2
    assert (stage1["ckpt"] / "latest_checkpointed_iteration.txt").read_text().strip() == "2"
    assert_compute_settings(stage1["syncs"], stage1["dtype"])
    assert list((stage1["ckpt"].parent / "rwml_trainer.tensorboard").glob("events.out.tfevents.*"))


def test_stage1_update_changes_the_actor_and_the_server_follows(stage1: dict, data: dict[str, Path]) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    initial = AutoModelForCausalLM.from_pretrained(data["model"], dtype=torch.float32).state_dict()
    after_1 = checkpoint_weights(stage1["ckpt"] / "global_step_1")
    after_2 = checkpoint_weights(stage1["ckpt"] / "global_step_2")
    changed = [k for k in after_1 if not torch.equal(after_1[k].float(), initial[k].float())]
    assert changed, "no actor weight changed in step 1"
    assert any(not torch.equal(after_2[k], after_1[k]) for k in after_2), "no actor weight changed in step 2"

    syncs = [json.loads(line) for line in stage1["syncs"].read_text().splitlines()]
    assert len(syncs) >= 2, syncs
    want = fingerprint(after_1)
    synced_after_step_1 = [
        s for s in syncs if all(s["fingerprint"][k] == want[k] for k in want if k in s["fingerprint"])
    ]
    assert synced_after_step_1, "no sync left the rollout server with the actor's weights after step 1"
    assert set(want) <= set(synced_after_step_1[0]["fingerprint"])
    assert fingerprint(initial) != {k: synced_after_step_1[0]["fingerprint"][k] for k in initial}


@pytest.fixture(scope="module")
def stage1_hf(stage1: dict, data: dict[str, Path]) -> Path:
    target = data["root"] / "rwml_hf"
    proc = subprocess.run(
        [sys.executable, "scripts/convert_to_hf.py", "--ckpt-dir", str(stage1["ckpt"]), "--target-dir", str(target)]
        + ["--dtype", "fp32"],  # as the CPU schedule converts
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return target


def test_stage1_checkpoint_converts_loads_and_generates(stage1_hf: Path, stage1: dict) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(stage1_hf)
    tokenizer = AutoTokenizer.from_pretrained(stage1_hf)
    saved = checkpoint_weights(stage1["ckpt"] / "global_step_2")
    merged = model.state_dict()
    for name, tensor in saved.items():
        assert torch.equal(merged[name], tensor.float()), name  # fp32: the trained weights exactly
    ids = tokenizer.apply_chat_template(
        [{"role": "user", "content": "look"}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    out = model.generate(**ids, max_new_tokens=4, do_sample=False)
    assert out.shape[1] > ids["input_ids"].shape[1]


def test_stage2_windowed_plays_alfworld_from_the_stage1_model(stage1_hf: Path, data: dict[str, Path]) -> None:
    ckpt = data["root"] / "policy"
    steps, syncs = train(
        "policy_trainer",
        [
            f"actor_rollout_ref.model.path={stage1_hf}",
            f"data.train_files={data['policy'] / 'train.parquet'}",
            f"data.val_files={data['policy'] / 'val.parquet'}",
            f"trainer.default_local_dir={ckpt}",
            f"actor_rollout_ref.rollout.agent.agent_loop_config_path={AGENT_LOOP_YAML}",
            "actor_rollout_ref.rollout.custom.rwml_env.envs.alfworld.max_steps=3",
            "trainer.save_freq=2",  # only the final checkpoint: this test reads no earlier one
        ],
        data["root"],
    )
    assert sorted(steps) == [1, 2]
    for metrics in steps.values():
        assert_finite(metrics, ["critic/score/mean", "actor/pg_loss", "actor/kl_loss", "actor/entropy"])
        # windowed context: every env step is a sample, so an episode of k steps gives k samples
        assert metrics["num_turns/max"] >= 2
        # reward = success - 0.1 x invalid actions over at most 3 env steps
        assert -0.3 - 1e-6 <= metrics["critic/score/min"] <= metrics["critic/score/max"] <= 1.0
    assert (ckpt / "global_step_2" / "actor").is_dir()
    assert len(syncs.read_text().splitlines()) >= 2
    from recipe.rwml.cpu.precision import choose_precision

    assert_compute_settings(syncs, choose_precision("auto").dtype)  # stage 2 on the automatic choice

"""World-model and SFT dataset builders on real collected episodes (bundled ALFWorld games, tau2 retail gold replays).

The parquet goes through verl's own RLHFDataset / MultiTurnSFTDataset with the tiny locally built tokenizer and its
chat template; synthetic episode files cover malformed lines, interruption and memory at 200k triplets.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from benchmarks.bench_wm_dataset import run_build, write_synthetic_episodes
from data_prep import build_sft_dataset, build_wm_dataset, wm_splits
from data_prep.policy_actions import format_error_message
from data_prep.wm_episodes import check_episode
from data_prep.wm_triplets import episode_triplets
from envs.episode import FORMAT_ERROR_KIND, Episode
from reward_score.answer_format import (
    FORMAT_INSTRUCTION,
    STATE_CLOSE,
    STATE_OPEN,
    STATUS_NOT_DONE,
    parse_response,
    status_of,
)
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def episodes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real episodes: 3 bundled ALFWorld train games x 2 (expert, 30% random) and 4 tau2 retail gold replays."""
    from data_prep.collect_trajectories import main as collect

    d = tmp_path_factory.mktemp("episodes")
    alf, tau = d / "alfworld.jsonl", d / "tau2.jsonl"
    common = ["--epsilon", "0.3", "--workers", "0"]
    assert (
        collect(
            ["--env", "alfworld", "--data-root", "bundled", "--split", "train", "--policy", "expert"]
            + ["--episodes-per-task", "2", "--out", str(alf), *common]
        )
        == 0
    )
    assert (
        collect(
            ["--env", "tau2", "--domain", "retail", "--split", "test", "--policy", "gold", "--max-tasks", "4"]
            + ["--out", str(tau), *common]
        )
        == 0
    )
    both = d / "both.jsonl"
    both.write_text(alf.read_text() + tau.read_text())
    return both


@pytest.fixture(scope="module")
def wm_dir(episodes: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wm")
    assert build_wm_dataset.main(["--input", str(episodes), "--out-dir", str(out), "--val-fraction", "0.34"]) == 0
    return out


def rows(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


def read_episodes(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_rlhf_dataset_loads_rows_and_renders_history_action_format(wm_dir: Path, tiny_model_dir: Path) -> None:
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl.utils.dataset.rl_dataset import RLHFDataset

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    cfg = OmegaConf.create({"max_prompt_length": 100_000, "filter_overlong_prompts": False})
    ds = RLHFDataset([str(wm_dir / "train.parquet")], tokenizer, cfg)
    assert len(ds) == len(rows(wm_dir / "train.parquet")) > 0
    seen_sources = set()
    for i in range(len(ds)):
        item = ds[i]
        seen_sources.add(item["data_source"])
        extra = item["extra_info"]
        assert item["ability"] == "world_model" and item["reward_model"]["style"] == "sim_to_real"
        assert item["index"] == extra["index"] == i and extra["split"] == "train"
        text = tokenizer.apply_chat_template(item["raw_prompt"], add_generation_prompt=True, tokenize=False)
        assert FORMAT_INSTRUCTION in text
        action = extra["action"] if extra["env"] == "alfworld" else json.dumps(json.loads(extra["action"]))
        assert "next action" in text and action in text
        assert extra["observation"].strip() in text  # the state the action was taken in
        if extra["step"] >= 1 and extra["env"] == "alfworld":
            assert "[Action" in text and "[Observation" in text  # earlier steps of the history
    assert seen_sources <= {"rwml_alfworld", "rwml_tau2_retail"} and "rwml_alfworld" in seen_sources


def test_prompt_holds_the_last_h_steps_and_the_real_ground_truth(episodes: Path, wm_dir: Path, tmp_path: Path) -> None:
    eps = {e["episode_id"]: e for e in read_episodes(episodes)}
    all_rows = rows(wm_dir / "train.parquet") + rows(wm_dir / "val.parquet")
    for r in all_rows:
        extra, gt = r["extra_info"], r["reward_model"]["ground_truth"]
        ep = eps[extra["episode_id"]]
        step = ep["steps"][extra["step"]]
        user = r["prompt"][1]["content"]
        assert r["prompt"][0]["role"] == "system" and r["prompt"][1]["role"] == "user"
        assert extra["state_kind"] == step["state_kind"]
        if extra["env"] == "alfworld":
            assert extra["history"] == 2
            assert gt.startswith(step["next_observation"].rstrip())
            assert status_of(gt) is bool(step["info"]["won"])
            # the two previous actions are shown, the one before them is not
            prev = [s["action"] for s in ep["steps"][: extra["step"]]]
            for a in prev[-2:]:
                assert f"\n{a}\n" in user
            if len(prev) >= 3:
                assert f"({len(prev) - 2} earlier step" in user
        else:
            assert extra["state_kind"] in ("tool_response", "user_reply") and extra["domain"] == "retail"
            if extra["state_kind"] == "tool_response":
                assert gt == step["next_observation"] and status_of(gt) is None
    assert any(status_of(r["reward_model"]["ground_truth"]) for r in all_rows)  # some episode was won
    assert any(r["reward_model"]["ground_truth"].endswith(STATUS_NOT_DONE) for r in all_rows)
    # the gold replays end with an agent ###STOP### (state kind "end"): not a state the world model predicts
    stats = json.loads((wm_dir / "stats.json").read_text())
    assert stats["steps_dropped_by_state_kind"].get("tau2:end", 0) >= 1

    out = tmp_path / "h0"
    assert build_wm_dataset.main(["--input", str(episodes), "--out-dir", str(out), "--history", "0"]) == 0
    for r in rows(out / "train.parquet"):
        assert "[Action" not in r["prompt"][1]["content"] and "[Agent tool call" not in r["prompt"][1]["content"]


def test_no_task_in_both_splits_and_both_splits_used(wm_dir: Path, episodes: Path) -> None:
    train, val = rows(wm_dir / "train.parquet"), rows(wm_dir / "val.parquet")
    assert train and val
    tasks = {s: {(r["data_source"], r["extra_info"]["task_id"]) for r in rs} for s, rs in (("t", train), ("v", val))}
    assert not tasks["t"] & tasks["v"]
    for source in ("rwml_alfworld", "rwml_tau2_retail"):  # stratified: each env has tasks on both sides
        assert any(s == source for s, _ in tasks["t"]) and any(s == source for s, _ in tasks["v"])
    assert all(r["extra_info"]["split"] == "val" for r in val)
    # every collected task is somewhere, and the same seed gives the same split
    assert {e["task_id"] for e in read_episodes(episodes)} == {t for _, t in tasks["t"] | tasks["v"]}


def test_split_is_seeded_and_keeps_fraction_by_task() -> None:
    tasks = {("alfworld", f"game-{i}") for i in range(100)}
    val = wm_splits.assign_val_tasks(tasks, 0.1, seed=3)
    assert len(val) == 10 and val == wm_splits.assign_val_tasks(tasks, 0.1, seed=3)
    assert val != wm_splits.assign_val_tasks(tasks, 0.1, seed=4)
    two = {("alfworld", "a"), ("alfworld", "b")}
    assert len(wm_splits.assign_val_tasks(two, 0.1, seed=0)) == 1
    assert wm_splits.assign_val_tasks({("alfworld", "a")}, 0.1, seed=0) == set()
    assert wm_splits.assign_val_tasks(tasks, 0.0, seed=0) == set()


def test_exact_duplicate_triplets_are_removed(episodes: Path, wm_dir: Path, tmp_path: Path) -> None:
    doubled = tmp_path / "doubled.jsonl"
    lines = episodes.read_text().splitlines()
    copies = [json.dumps(dict(json.loads(x), episode_id=json.loads(x)["episode_id"] + "-copy")) for x in lines]
    doubled.write_text("\n".join(lines + copies) + "\n")
    out = tmp_path / "out"
    assert build_wm_dataset.main(["--input", str(doubled), "--out-dir", str(out), "--val-fraction", "0.34"]) == 0
    stats, base = json.loads((out / "stats.json").read_text()), json.loads((wm_dir / "stats.json").read_text())
    assert stats["rows"] == base["rows"]
    assert stats["duplicates_removed"] == base["duplicates_removed"] + base["triplets"]


def test_length_filter_uses_the_tokenizer_chat_template(episodes: Path, tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    limit = 700
    out = tmp_path / "short"
    args = ["--input", str(episodes), "--out-dir", str(out), "--tokenizer", str(tiny_model_dir)]
    assert build_wm_dataset.main([*args, "--max-prompt-tokens", str(limit)]) == 0
    kept = rows(out / "train.parquet") + rows(out / "val.parquet")
    stats = json.loads((out / "stats.json").read_text())
    assert kept and stats["too_long_removed"] > 0
    assert len(kept) + stats["too_long_removed"] + stats["duplicates_removed"] == stats["triplets"]
    for r in kept:
        ids = tokenizer.apply_chat_template(r["prompt"], add_generation_prompt=True, tokenize=False)
        assert len(tokenizer(ids, add_special_tokens=False)["input_ids"]) <= limit
    assert build_wm_dataset.main([*args]) == 2  # --tokenizer without --max-prompt-tokens


def test_sft_parquet_loads_in_verl_multiturn_sft_dataset(
    episodes: Path, wm_dir: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

    out = tmp_path / "sft"
    assert build_sft_dataset.main(["--input", str(episodes), "--out-dir", str(out), "--val-fraction", "0.34"]) == 0
    table = rows(out / "train.parquet")
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    cfg = OmegaConf.create({"max_length": 100_000, "truncation": "error", "pad_mode": "no_padding"})
    ds = MultiTurnSFTDataset([str(out / "train.parquet")], tokenizer, cfg)
    assert len(ds) == len(table) > 0
    for i in (0, len(ds) - 1):
        item, row = ds[i], table[i]
        assert [m["role"] for m in row["messages"]] == ["system", "user", "assistant"]
        assert row["messages"][2]["content"] == row["response"] and row["messages"][1]["content"] == row["prompt"]
        trained = tokenizer.decode(item["input_ids"][item["loss_mask"].bool()])
        assert STATE_OPEN in trained and STATE_CLOSE in trained and row["prompt"] not in trained
    # the same triplets as the world-model parquet, and the reward parser reads each target back as its ground truth
    for split in ("train", "val"):
        sft, wm = rows(out / f"{split}.parquet"), rows(wm_dir / f"{split}.parquet")
        assert len(sft) == len(wm)
        for a, b in zip(sft, wm, strict=True):
            assert a["extra_info"] == b["extra_info"] and a["messages"][:2] == b["prompt"]
            assert parse_response(a["response"]).prediction == b["reward_model"]["ground_truth"].strip()


def test_sft_train_task_subset_keeps_val_and_a_seeded_part_of_train(tmp_path: Path) -> None:
    src = tmp_path / "episodes.jsonl"
    write_synthetic_episodes(src, 2000, steps_per_episode=20, n_tasks=20)
    full, part = tmp_path / "full", tmp_path / "part"
    assert build_sft_dataset.main(["--input", str(src), "--out-dir", str(full)]) == 0
    assert build_sft_dataset.main(["--input", str(src), "--out-dir", str(part), "--train-task-fraction", "0.25"]) == 0

    def tasks(path: Path) -> set[str]:
        return {r["extra_info"]["task_id"] for r in rows(path)}

    assert tasks(part / "val.parquet") == tasks(full / "val.parquet") and len(tasks(full / "val.parquet")) == 2
    assert tasks(part / "train.parquet") < tasks(full / "train.parquet")
    assert len(tasks(part / "train.parquet")) == round(0.25 * 18)
    assert json.loads((part / "stats.json").read_text())["episodes_outside_train_subset"] == 100 - 2 * 5 - 4 * 5


def test_malformed_lines_name_file_and_line_and_skip_bad_counts(episodes: Path, tmp_path: Path, capsys) -> None:
    good = episodes.read_text().splitlines()
    bad = tmp_path / "bad.jsonl"
    no_action = json.loads(good[1])
    del no_action["steps"][0]["action"]
    bad.write_text("\n".join([good[0], "{not json", json.dumps(no_action), *good[2:]]) + "\n")
    out = tmp_path / "out"
    assert build_wm_dataset.main(["--input", str(bad), "--out-dir", str(out)]) == 2
    assert f"{bad}:2, " in capsys.readouterr().err
    assert not (out / "train.parquet").exists()
    assert build_wm_dataset.main(["--input", str(bad), "--out-dir", str(out), "--skip-bad"]) == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["bad_lines_skipped"] == 2
    assert any(f"{bad}:3:" in b and "steps[0].action" in b for b in stats["bad_lines"])
    assert stats["episodes"] == len(good) - 1


def with_format_error(ep: dict[str, Any], at: int) -> dict[str, Any]:
    """`ep` with a format-error step (no action, the env not stepped) recorded before step `at`, steps renumbered."""
    steps = [dict(s) for s in ep["steps"]]
    before = steps[at - 1]["next_observation"] if at else ep["initial_observation"]
    error = {
        "t": at,
        "observation": before,
        "raw_output": "<think>I will look around</think> look around",
        "action": None,
        "next_observation": format_error_message(ep["env"]),
        "reward": 0.0,
        "done": False,
        "valid": False,
        "state_kind": FORMAT_ERROR_KIND,
        "info": {},
    }
    steps.insert(at, error)
    for t, step in enumerate(steps):
        step["t"] = t
    return dict(ep, steps=steps)


def test_format_error_steps_give_no_triplet_and_stay_out_of_later_histories(episodes: Path) -> None:
    by_env = {}
    for ep in read_episodes(episodes):
        if len(ep["steps"]) >= 4:
            by_env.setdefault(ep["env"], ep)
    assert set(by_env) == {"alfworld", "tau2"}
    for ep in by_env.values():
        broken = with_format_error(ep, len(ep["steps"]) // 2)
        check_episode(broken)  # action null is valid on a format-error step
        dropped: Counter = Counter()
        plain = list(episode_triplets(Episode.from_dict(ep), None))
        got = list(episode_triplets(Episode.from_dict(broken), None, dropped))
        assert dropped[f"{ep['env']}:{FORMAT_ERROR_KIND}"] == 1
        assert len(got) == len(plain) > 0
        for a, b in zip(plain, got, strict=True):
            # the same prompt (history), action and ground truth; `step` still names the step in the record
            assert dataclasses.replace(a, step=0) == dataclasses.replace(b, step=0)
            assert broken["steps"][b.step]["action"] == b.action and b.action is not None
            assert format_error_message(ep["env"]) not in b.user


def test_format_error_steps_are_dropped_and_counted_by_the_builders(
    episodes: Path, wm_dir: Path, tmp_path: Path
) -> None:
    lines = read_episodes(episodes)
    broken = [with_format_error(ep, len(ep["steps"]) // 2) for ep in lines]
    src = tmp_path / "broken.jsonl"
    src.write_text("".join(json.dumps(ep) + "\n" for ep in broken))
    out = tmp_path / "wm"
    assert build_wm_dataset.main(["--input", str(src), "--out-dir", str(out), "--val-fraction", "0.34"]) == 0
    stats, base = json.loads((out / "stats.json").read_text()), json.loads((wm_dir / "stats.json").read_text())
    dropped = stats["steps_dropped_by_state_kind"]
    assert dropped.pop("alfworld:format_error") + dropped.pop("tau2:format_error") == len(lines)
    assert dropped == base["steps_dropped_by_state_kind"] and stats["rows"] == base["rows"]
    for split in ("train", "val"):
        got, want = rows(out / f"{split}.parquet"), rows(wm_dir / f"{split}.parquet")
        assert all(r["extra_info"]["action"] is not None for r in got)
        for r in (*got, *want):
            r["extra_info"].pop("step")
        assert got == want
    sft = tmp_path / "sft"
    assert build_sft_dataset.main(["--input", str(src), "--out-dir", str(sft), "--val-fraction", "0.34"]) == 0
    assert json.loads((sft / "stats.json").read_text())["steps_dropped_by_state_kind"]["alfworld:format_error"] > 0


def test_action_null_is_an_error_outside_format_error_steps(episodes: Path, tmp_path: Path, capsys) -> None:
    ep = read_episodes(episodes)[0]
    ep["steps"][0]["action"] = None
    with pytest.raises(ValueError, match=r"steps\[0\]\.action"):
        check_episode(ep)
    src = tmp_path / "null.jsonl"
    src.write_text(json.dumps(ep) + "\n")
    assert build_wm_dataset.main(["--input", str(src), "--out-dir", str(tmp_path / "out")]) == 2
    assert f"{src}:1, " in capsys.readouterr().err


def test_failed_build_leaves_no_partial_parquet(tmp_path: Path) -> None:
    src = tmp_path / "episodes.jsonl"
    write_synthetic_episodes(src, 20_000)
    with open(src, "a") as f:
        f.write('{"episode_id": "torn", "steps": [\n')  # a bad last line: fails after row groups were written
    out = tmp_path / "out"
    out.mkdir()
    assert build_wm_dataset.main(["--input", str(src), "--out-dir", str(out), "--rows-per-group", "500"]) == 2
    assert list(out.iterdir()) == []


def test_killed_build_leaves_no_parquet(tmp_path: Path) -> None:
    src = tmp_path / "episodes.jsonl"
    write_synthetic_episodes(src, 200_000)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "data_prep.build_wm_dataset", "--input", str(src), "--out-dir", str(out)]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size > 0 for p in out.glob(".train.parquet.*")):  # row groups are on disk
            assert proc.poll() is None and time.monotonic() < deadline, "the build ended before it was killed"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)  # mid-write, row groups on disk
    finally:
        proc.wait()
    assert not (out / "train.parquet").exists() and not (out / "val.parquet").exists()


def test_memory_stays_flat_from_20k_to_200k_triplets(tmp_path: Path) -> None:
    peaks = {}
    for n in (20_000, 200_000):
        src = tmp_path / f"episodes_{n}.jsonl"
        write_synthetic_episodes(src, n)
        _, peaks[n] = run_build([src], tmp_path / f"out_{n}")
        assert pq.ParquetFile(tmp_path / f"out_{n}" / "train.parquet").metadata.num_rows > 0.8 * n
    # 10x the triplets: only the 8-byte de-duplication hashes may grow (~20 MB at 200k)
    assert peaks[200_000] < 1.5 * peaks[20_000], peaks
    assert peaks[200_000] - peaks[20_000] < 60, peaks


def test_tools_have_help() -> None:
    for mod in ("build_wm_dataset", "build_sft_dataset", "filter_easy", "build_policy_dataset"):
        res = subprocess.run(
            [sys.executable, "-m", f"data_prep.{mod}", "--help"], cwd=REPO_ROOT, capture_output=True, text=True
        )
        assert res.returncode == 0 and "usage:" in res.stdout, mod

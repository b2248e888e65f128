"""The pre-registered experiment's parts (experiments/alfworld_wm_cpu_v2): transition kinds, the power calculation,
the statistics, the held-out draw (de-duplicated against training, stratified, scene-disjoint flagged), the gate read
from the filter's samples, content-hash prediction caching, the verdicts and the report written from result files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from omegaconf import OmegaConf

from data_prep.cli_errors import UsageError
from data_prep.easy_scores import sample_key
from experiments.alfworld_wm_cpu.workdir import Run
from experiments.alfworld_wm_cpu_v2 import analysis, data, gate, power, report, run, stats
from experiments.alfworld_wm_cpu_v2.evaluate import METRICS, generate, summary
from experiments.alfworld_wm_cpu_v2.kinds import row_kind, scene_of

CONFIG = Path(run.__file__).with_name("config.yaml")


def row(action: str, truth: str, history: str = "", scene: int = 301, i: int = 0) -> dict[str, Any]:
    """A world-model row in build_wm_dataset's layout (prompt text as data_prep.wm_prompts writes it)."""
    user = f"Recent history (oldest first; the last state is the current one):\n{history}\n\n"
    user += f"The agent's next action (Action 3):\n{action}\n\nPredict the environment's next state after this action."
    return {
        "data_source": "rwml_alfworld",
        "prompt": [
            {"role": "system", "content": "You are a world model of ALFWorld."},
            {"role": "user", "content": user},
        ],
        "ability": "world_model",
        "reward_model": {"style": "sim_to_real", "ground_truth": truth + "\nTask is not yet completed."},
        "extra_info": {
            "index": i,
            "env": "alfworld",
            "state_kind": "observation",
            "action": action,
            "task_id": f"pick_and_place_simple-Mug-None-Shelf-{scene}/trial_T2019{i}",
        },  # fmt: skip
    }


def make_run(tmp_path: Path, **over: Any) -> Run:
    cfg = OmegaConf.merge(OmegaConf.load(CONFIG), {"work_dir": str(tmp_path / "work"), "report_dir": str(tmp_path)})
    return Run(OmegaConf.merge(cfg, over))


def test_kinds_of_real_alfworld_observations() -> None:
    assert row_kind(row("take mug 1 from shelf 1", "Nothing happens.")) == "refusal"
    assert row_kind(row("take mug 1 from shelf 1", "You pick up the mug 1 from the shelf 1.")) == "object_interaction"
    assert row_kind(row("heat mug 1 with microwave 1", "You heat the mug 1 using the microwave 1.")) == (
        "object_interaction"
    )
    assert row_kind(row("go to cabinet 4", "You arrive at cabinet 4. The cabinet 4 is closed.")) == "arrival_closed"
    shelf = "You arrive at shelf 2. On the shelf 2, you see a mug 1, and a pen 3."
    assert row_kind(row("go to shelf 2", shelf)) == "arrival_unseen_contents"
    seen = "[Observation 1]\nYou arrive at shelf 2. On the shelf 2, you see a mug 1.\n\n[Action 1]\ngo to desk 1"
    assert row_kind(row("go to shelf 2", shelf, history=seen)) == "arrival_seen_contents"
    assert row_kind(row("go to shelf 2", shelf, history="You arrive at shelf 21. On the shelf 21, ...")) == (
        "arrival_unseen_contents"  # another receptacle whose name starts the same
    )
    assert row_kind(row("open drawer 1", "You open the drawer 1. The drawer 1 is open. In it, you see nothing.")) == (
        "open_close"
    )
    assert row_kind(row("examine mug 1", "There's nothing special about mug 1.")) == "look_examine"
    assert scene_of(row("look", "x", scene=27)) == 27


def test_power_size_and_detectable_gain_agree() -> None:
    # (1.96 + 0.8416)^2 x 0.49 / 0.01 = 384.6: the textbook size for 0.5 -> 0.6 with independent outcomes
    assert power.n_required(0.5, 0.1, 0.05, 0.8) == 385
    for p in (0.2, 0.5, 0.8):
        n = power.n_required(p, 0.12, 0.05, 0.8)
        assert power.detectable(p, n, 0.05, 0.8) <= 0.12 + 1e-6
        assert power.detectable(p, n - 40, 0.05, 0.8) > 0.12
    cfg = OmegaConf.load(CONFIG)
    plan = power.plan({"refusal": 0.5, "object_interaction": 0.4, "arrival_closed": 0.9},
                      {"refusal": 1000, "object_interaction": 1000, "arrival_closed": 90}, cfg)  # fmt: skip
    sizes = {k: v["n"] for k, v in plan["per_kind"].items()}
    assert sizes["refusal"] == sizes["object_interaction"] >= cfg.power.min_per_kind
    assert sizes["arrival_closed"] == 90 and plan["per_kind"]["arrival_closed"]["short"] > 0  # capped, and said so
    assert plan["pooled_n"] == sum(sizes.values())


def test_wilson_paired_bootstrap_and_mcnemar() -> None:
    zero = stats.wilson(0, 20)
    assert zero["lo"] == 0.0 and zero["hi"] == pytest.approx(3.8415 / 23.8415, abs=1e-3)  # never [0, 0]
    half = stats.wilson(10, 20)
    assert half["mean"] == 0.5 and half["lo"] == pytest.approx(1 - half["hi"])
    assert stats.paired_bootstrap([1, 0, 1, 0], [1, 0, 1, 0])["diff"] == 0.0
    better = stats.paired_bootstrap([1] * 30 + [0] * 10, [0] * 10 + [1] * 10 + [0] * 20, n_boot=2000)
    assert better["diff"] == pytest.approx(0.5) and better["lo"] > 0
    m = stats.mcnemar([1] * 8 + [0] * 4, [0] * 8 + [0] * 4)
    assert (m["wins"], m["losses"]) == (8, 0) and m["p"] == pytest.approx(2 * 0.5**8)
    with pytest.raises(ValueError, match="differ in length"):
        stats.paired_bootstrap([1, 0], [1])


def write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def test_heldout_drops_training_duplicates_stratifies_and_flags_new_scenes(tmp_path: Path) -> None:
    r = make_run(tmp_path)
    shared = row("take mug 1 from shelf 1", "Nothing happens.", scene=301, i=1)
    write(tmp_path / "wm_train" / "train.parquet", [shared, row("look", "You are in the middle of a room.", i=2)])
    write(tmp_path / "wm_train" / "val.parquet", [row("look", "You are in the middle of a room.", i=3)])
    held = [shared, row("take pen 1 from desk 1", "Nothing happens.", "a", scene=301, i=4)]
    held += [row("take pen 1 from desk 1", "Nothing happens.", "a", scene=301, i=5)]  # the same content again
    held += [row(f"take pen {i} from desk 1", "Nothing happens.", "b", scene=999, i=i) for i in range(6, 12)]
    held += [row(f"go to cabinet {i}", f"You arrive at cabinet {i}. The cabinet {i} is closed.", i=i)
             for i in range(20, 23)]  # fmt: skip
    write(tmp_path / "wm_eval" / "train.parquet", held[:5])
    write(tmp_path / "wm_eval" / "val.parquet", held[5:])
    out, info = data.heldout(r, tmp_path / "wm_eval", tmp_path / "wm_train", {"refusal": 4, "arrival_closed": 10})
    assert info["dropped_also_in_training"] == 1 and info["dropped_duplicate"] == 1
    assert info["chosen"] == {"refusal": 4, "arrival_closed": 3}  # all there are when fewer than asked
    rows = pq.read_table(out).to_pylist()
    assert data.triplet_hash(shared) not in {x["extra_info"]["hash"] for x in rows}
    assert all(x["extra_info"]["scene_disjoint"] == (x["extra_info"]["scene"] == 999) for x in rows)
    again, _ = data.heldout(r, tmp_path / "wm_eval", tmp_path / "wm_train", {"refusal": 1})
    assert len(pq.read_table(again)) == 7  # drawn once: a rerun reads the same set


def test_gate_reads_mixed_groups_and_base_rates_from_the_filter_cache(tmp_path: Path) -> None:
    r = make_run(tmp_path)
    pool = [row(f"take mug {i} from shelf 1", "Nothing happens.", i=i) for i in range(4)]
    pool += [row(f"go to cabinet {i}", f"You arrive at cabinet {i}. The cabinet {i} is closed.", i=i) for i in (7, 8)]
    write(tmp_path / "pool.parquet", pool)
    rewards = [[1.0] * 10, [0.0] * 10, [1.0, 0.0] * 5, [0.0] * 8 + [1.0, 1.0], [0.0] * 10, [1.0] * 10]
    lines = [json.dumps({"meta": {}})] + [
        json.dumps({"key": sample_key(p), "rewards": w}) for p, w in zip(pool, rewards, strict=True)
    ]
    gate.cache_file(r).parent.mkdir(parents=True, exist_ok=True)
    gate.cache_file(r).write_text("\n".join(lines) + "\n")
    g = gate.gate(r, tmp_path / "pool.parquet")
    refusal = g["by_kind"]["refusal"]
    # the group is the first 8 of K=10 samples: row 3's two 1.0s are past it, so only row 2 is mixed
    assert (refusal["groups"], refusal["mixed"]) == (4, 1)
    assert refusal["base_rate"] == pytest.approx((8 + 4 + 0 + 0) / 32)
    assert g["by_kind"]["arrival_closed"]["mixed"] == 0 and g["by_kind"]["object_interaction"]["groups"] == 0
    assert g["mixed_share"] == pytest.approx(1 / 6) and not g["passed"]


def test_predictions_are_cached_by_content_and_truncation_is_measured(tmp_path: Path, tiny_model_dir: Path) -> None:
    rows = [row(f"go to shelf {i}", "x", i=i) for i in range(3)]
    cache = tmp_path / "pred.jsonl"
    first = generate(tiny_model_dir, rows, cache, max_new_tokens=4, batch=2)
    assert all(o["tokens"] <= 4 and o["truncated"] == (o["tokens"] == 4) for o in first)
    for r in rows:
        r["extra_info"]["index"] += 100  # a new sample order and index: the same prompts
    again = generate(tmp_path / "no_model_here", rows[::-1], cache, max_new_tokens=4, batch=2)
    assert [o["response"] for o in again] == [o["response"] for o in first[::-1]]  # no model needed
    with pytest.raises(OSError):  # another budget is another prediction: the (missing) model is needed
        generate(tmp_path / "no_model_here", rows, cache, max_new_tokens=5, batch=2)


def eval_file(results: Path, name: str, rewards: list[float], kinds: list[str]) -> None:
    """An evaluate.py result whose predictions scored `rewards` (every other metric follows the reward)."""
    records = [{"hash": f"h{i}", "kind": k, "scene_disjoint": i % 2 == 0, **dict.fromkeys(METRICS, x)}
               for i, (x, k) in enumerate(zip(rewards, kinds, strict=True))]  # fmt: skip
    (results / "eval").mkdir(parents=True, exist_ok=True)
    result = {"records": records, "summary": summary(records)}
    (results / "eval" / f"{name}.json").write_text(json.dumps(result))


def test_verdicts_wait_for_every_seed_and_follow_the_paired_interval(tmp_path: Path) -> None:
    cfg = OmegaConf.load(CONFIG)
    kinds = ["refusal", "object_interaction", "arrival_closed"] * 20 + ["arrival_unseen_contents"] * 10
    base = [0.0] * 70
    eval_file(tmp_path, "base", base, kinds)
    eval_file(tmp_path, "rwml_filter_s0", [1.0] * 40 + [0.0] * 30, kinds)
    hyps = {h["name"]: h for h in analysis.hypotheses(analysis.load_evals(tmp_path), cfg)}
    assert hyps["H1"]["verdict"] == "pending" and "interim" in hyps["H1"]["why"]
    assert hyps["H1"]["result"]["diff"] == pytest.approx(40 / 60)  # the unpredictable kind is not in it
    assert hyps["H2"]["verdict"] == "pending"
    eval_file(tmp_path, "rwml_filter_s1", [1.0] * 20 + [0.0] * 50, kinds)
    hyps = {h["name"]: h for h in analysis.hypotheses(analysis.load_evals(tmp_path), cfg)}
    assert hyps["H1"]["verdict"] == "held" and hyps["H1"]["result"]["diff"] == pytest.approx((40 + 20) / 2 / 60)
    assert hyps["H4"]["verdict"] == "held"  # refusals: 14 wins of seed 0, no loss
    eval_file(tmp_path, "rwml_filter_s1", [0.0] * 70, kinds)
    eval_file(tmp_path, "rwml_filter_s0", [0.0] * 70, kinds)
    hyps = {h["name"]: h for h in analysis.hypotheses(analysis.load_evals(tmp_path), cfg)}
    assert hyps["H1"]["verdict"] == "not held" and hyps["H4"]["verdict"] == "not held"


def test_a_rerun_with_another_preregistration_is_refused(tmp_path: Path) -> None:
    run.register(make_run(tmp_path))
    assert (tmp_path / "results" / "config_used.yaml").is_file()
    run.register(make_run(tmp_path, eval={"batch": 4}))  # not pre-registered: free to change
    with pytest.raises(UsageError, match="preregistration"):
        run.register(make_run(tmp_path, preregistration={"alpha": 0.1}))


def test_report_prints_the_result_files(tmp_path: Path) -> None:
    r = make_run(tmp_path)
    run.register(r)
    (tmp_path / "results" / "gate.json").write_text(json.dumps({
        "by_kind": {"refusal": {"groups": 12, "mixed": 5, "mixed_share": 5 / 12, "base_rate": 0.3125}},
        "mixed_share": 5 / 12, "kinds_mixed": 1, "passed": False,
        "bar": {"min_mixed_share": 0.25, "min_kinds_mixed": 2, "group": 8}}))  # fmt: skip
    kinds = ["refusal", "object_interaction", "arrival_closed", "arrival_unseen_contents"] * 5
    eval_file(tmp_path / "results", "base", [0.0, 1.0] * 10, kinds)
    text = report.write(r).read_text()
    assert "0.3125"[:5] in text and "FAILED" in text and "| refusal | 12 | 5 | 0.42 | 0.312 |" in text
    assert "H1 (primary): pending" in text
    assert "preregistration:" in text  # the config the run started with, embedded


def test_the_commit_each_invocation_ran_is_recorded_once_per_version(tmp_path: Path) -> None:
    r = make_run(tmp_path)
    run.record_code(r)
    run.record_code(r)  # the same version again: no new entry
    versions = json.loads((tmp_path / "results" / "code_versions.json").read_text())
    assert len(versions) == 1 and len(versions[0]["commit"]) == 40 and isinstance(versions[0]["dirty"], bool)
    assert "## Code versions this run used" in report.write(r).read_text()

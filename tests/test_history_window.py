"""One history window: the schedule's HISTORY reaches every prompt it builds, and its default is the one table.

The reported drift: HISTORY=3 built world-model prompts with 3 but trained and evaluated stage 2 with the yaml's
window. Here every schedule's plan (as its dry run prints it) is built with HISTORY=3, and every command and config
that makes a prompt -- collection, the world-model and SFT datasets, stage 2's overrides and its composed loop
settings, evaluation -- is read back the way its own parser reads it: each must carry 3.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from data_prep import collect_trajectories
from data_prep.build_wm_dataset import add_build_args
from data_prep.history_windows import HISTORY_WINDOW
from recipe.rwml.agent_loop_settings import LoopSettings
from recipe.rwml.compose import compose_stage
from recipe.rwml.evaluate import cli as evaluate_cli
from recipe.rwml.schedule.plan import make_plan
from recipe.rwml.schedule.schedules import SCHEDULES
from recipe.rwml.schedule.settings import REPO, Settings, resolve_settings
from recipe.rwml.schedule.steps import Command, ConfigCheck, Logged

LOOP_KEY = "actor_rollout_ref.rollout.custom.rwml_env"


def settings(tmp: Path, schedule: str, **env: str) -> Settings:
    base = {"DATA_DIR": str(tmp / "data"), "CKPT_DIR": str(tmp / "ckpt"), "USER_BASE_URL": "http://u:1/v1", **env}
    return resolve_settings(SCHEDULES[schedule].environment(base, REPO), REPO)


def planned_steps(s: Settings, schedule: str) -> list:
    """Every step of every stage the schedule's plan runs (nothing is done yet: the whole schedule)."""
    return [step for stage in make_plan(SCHEDULES[schedule].stages, s).to_run for step in stage.steps(s)]


def wm_builder_history(argv: list[str]) -> int | None:
    """--history as data_prep.build_wm_dataset / build_sft_dataset parse it."""
    parser = argparse.ArgumentParser()
    add_build_args(parser)
    parser.add_argument("--train-task-fraction")
    return parser.parse_args(argv).history


def windows_in(step: Command | Logged | ConfigCheck, env: str) -> dict[str, object]:
    """What a step that builds prompts hands them as the window, read the way the step's own program reads it."""
    if isinstance(step, ConfigCheck):
        if step.config != "policy_trainer":
            return {}
        loop = LoopSettings.from_config(compose_stage("policy", step.overrides).actor_rollout_ref.rollout.custom)
        return {"stage-2 config (composed)": loop.envs[env].history_window}
    argv = step.argv
    if "data_prep.collect_trajectories" in argv:
        args = collect_trajectories.build_parser().parse_args(argv[3:])
        spec = collect_trajectories.collection_spec(args).policy
        return {"collection": spec.get("history_window", "no prompt (scripted policy)")}
    if "data_prep.build_wm_dataset" in argv or "data_prep.build_sft_dataset" in argv:
        return {f"world-model data ({argv[2]})": wm_builder_history(argv[3:])}
    if "scripts/evaluate.py" in argv:
        settings_ = evaluate_cli.episode_settings(evaluate_cli.build_parser().parse_args(argv[2:]))
        return {"evaluation": settings_.policy.history_windows[env]}
    if "recipe.rwml.main_rwml" in argv and "policy_trainer" in argv:
        window = [a.split("=", 1)[1] for a in argv if a.startswith(f"{LOOP_KEY}.envs.{env}.history_window=")]
        return {"stage-2 training overrides": int(window[-1])}
    return {}


def prompt_windows(s: Settings, schedule: str) -> dict[str, object]:
    """Each kind of prompt the schedule's commands and configs build, and the window it gets."""
    seen: dict[str, object] = {}
    for step in planned_steps(s, schedule):
        if not isinstance(step, Command | Logged | ConfigCheck):
            continue
        for where, window in windows_in(step, s["ENV"]).items():
            assert seen.get(where, window) == window, f"{where}: two windows, {seen[where]} and {window}"
            seen[where] = window
    return seen


@pytest.mark.parametrize("env", ["alfworld", "tau2"])
@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_history_reaches_every_prompt_of_every_schedule(schedule: str, env: str, tmp_path: Path) -> None:
    s = settings(tmp_path, schedule, ENV=env, HISTORY="3", EVAL_STAGE1="1", WARMUP_STEPS="1", FILTER_EASY="1")
    seen = prompt_windows(s, schedule)
    assert seen, f"{schedule}: no command of the schedule builds a prompt"
    if s["COLLECT_POLICY"] == "scripted" and "collection" in seen:  # the expert / gold actions: no prompt at all
        assert seen.pop("collection") == "no prompt (scripted policy)"
    assert seen == dict.fromkeys(seen, 3)


def test_the_full_schedule_has_every_kind_of_prompt(tmp_path: Path) -> None:
    """The test above is not vacuous: the full RWML schedule builds every kind of prompt, and each is checked."""
    s = settings(tmp_path, "rwml_qwen3_8b", HISTORY="3", EVAL_STAGE1="1", WARMUP_STEPS="1")
    assert set(prompt_windows(s, "rwml_qwen3_8b")) == {
        "collection",
        "world-model data (data_prep.build_wm_dataset)",
        "world-model data (data_prep.build_sft_dataset)",
        "stage-2 training overrides",
        "stage-2 config (composed)",
        "evaluation",
    }


@pytest.mark.parametrize("env", ["alfworld", "tau2"])
def test_unset_history_is_the_tables_window_everywhere(env: str, tmp_path: Path) -> None:
    """HISTORY's default, the collection and evaluation CLIs' defaults and the stage-2 yaml all read one table."""
    s = settings(tmp_path, "rwml_qwen3_8b", ENV=env)
    assert s["HISTORY"] == str(HISTORY_WINDOW[env])
    args = collect_trajectories.build_parser().parse_args(
        ["--env", env, "--split", "train", "--policy", "openai", "--out", "x.jsonl"]
    )
    assert collect_trajectories.collection_spec(args).policy["history_window"] == HISTORY_WINDOW[env]
    eval_args = evaluate_cli.build_parser().parse_args(["--policy", "openai", "--out-dir", "x"])
    evaluation = evaluate_cli.episode_settings(eval_args)
    assert evaluation.policy.history_windows[env] == HISTORY_WINDOW[env]
    loop = LoopSettings.from_config(compose_stage("policy", []).actor_rollout_ref.rollout.custom)
    assert loop.envs[env].history_window == HISTORY_WINDOW[env]
    assert wm_builder_history(["--input", "x", "--out-dir", "y"]) is None  # None: wm_prompts reads the table

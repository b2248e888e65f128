"""The stage configs composed against the installed verl: the paper's values, overrides, verl's own checks.

Configs are composed by hydra exactly as `python -m recipe.rwml.main_rwml --config-name ...` composes them; verl's
`validate_config` and its config dataclasses judge them; the reward manager is built by verl's own loader.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from data_prep.cli_errors import run_cli
from recipe.rwml import CONFIG_DIR
from recipe.rwml.compose import compose_stage
from recipe.rwml.compose import main as compose_cli
from recipe.rwml.config_checks import config_problems
from reward_score.settings import ALFWORLD_FACTS_TAU
from tests.conftest import REPO_ROOT

MODEL = "actor_rollout_ref.model.path=/models/Qwen3-8B"  # composition and validation never open the model
# what every real run sets (the checks refuse verl's placeholders for these)
SET = [MODEL, "data.train_files=/d/train.parquet", "data.val_files=/d/val.parquet"]


def problems(cfg) -> list[str]:
    """The error lines main_rwml would print for `cfg` (the checks it runs), SET's data files taken as made."""
    return [p.line for p in config_problems(cfg, promised=["/d"])]


def settings_of(cfg, **changes):
    from reward_score.settings import RewardSettings

    kwargs = OmegaConf.to_container(cfg.reward.reward_kwargs, resolve=True)
    return RewardSettings.from_mapping({**kwargs, **changes})


@pytest.mark.parametrize("stage", ["rwml", "rwml_tau2", "policy"])
def test_every_stage_composes_and_passes_verls_validation(stage: str) -> None:
    from verl.trainer.config import AlgoConfig
    from verl.utils.config import omega_conf_to_dataclass
    from verl.workers.config import FSDPActorConfig, RolloutConfig

    loop = f"actor_rollout_ref.rollout.agent.agent_loop_config_path={CONFIG_DIR / 'agent_loop.yaml'}"
    cfg = compose_stage(stage, [*SET, "trainer.n_gpus_per_node=8", *([loop] if stage == "policy" else [])])
    assert problems(cfg) == []  # verl's own validation included
    assert isinstance(omega_conf_to_dataclass(cfg.actor_rollout_ref.actor), FSDPActorConfig)
    assert isinstance(omega_conf_to_dataclass(cfg.actor_rollout_ref.rollout), RolloutConfig)
    assert isinstance(omega_conf_to_dataclass(cfg.algorithm), AlgoConfig)
    assert cfg.trainer.use_v1 and cfg.algorithm.adv_estimator == "grpo"


def test_alfworld_stage1_has_the_papers_values() -> None:
    cfg = compose_stage("rwml", [*SET])
    actor = cfg.actor_rollout_ref.actor
    assert (cfg.data.train_batch_size, cfg.actor_rollout_ref.rollout.n) == (32, 8)
    assert actor.optim.lr == pytest.approx(1e-6)
    assert actor.use_kl_loss and actor.kl_loss_coef == pytest.approx(0.001) and actor.kl_loss_type == "low_var_kl"
    assert actor.entropy_coeff == 0 and not cfg.algorithm.use_kl_in_reward
    assert (cfg.data.max_prompt_length, cfg.data.max_response_length) == (1500, 512)
    assert cfg.trainer.total_epochs == 2
    # single-turn GRPO on the parquet: verl's own single-turn loop, our reward manager through importlib
    assert cfg.actor_rollout_ref.rollout.agent.default_agent_loop == "single_turn_agent"
    manager = cfg.reward.reward_manager
    assert (manager.source, manager.name) == ("importlib", "SimToRealRewardManager")
    assert manager.module.path == "pkg://reward_score.reward_manager"
    settings = settings_of(cfg)
    # the paper's binary embedding reward, with the facts checked too (README: "Why facts is ALFWorld's default")
    assert settings.mode_for("alfworld") == "facts" and settings.budget_for("alfworld") == 100
    # with the paper's embedder, tau is the paper's; with the packaged MiniLM, its calibrated value
    assert settings_of(cfg, model="Qwen/Qwen3-Embedding-8B").tau_for("alfworld") == pytest.approx(0.8)
    assert settings.tau_for("alfworld") == pytest.approx(ALFWORLD_FACTS_TAU)


def test_tau2_stage1_has_the_papers_values_and_keeps_the_rest() -> None:
    alf = compose_stage("rwml", [*SET])
    cfg = compose_stage("rwml_tau2", [*SET])
    assert (cfg.data.max_prompt_length, cfg.data.max_response_length) == (10240, 8192)
    assert cfg.actor_rollout_ref.actor.entropy_coeff == pytest.approx(0.001)
    assert cfg.actor_rollout_ref.actor.ppo_max_token_len_per_gpu >= 10240 + 8192
    settings = settings_of(cfg)
    # the paper's budget; the facts reward (README: tau2's facts mode), the paper's mixed rule by one override
    assert settings.mode_for("tau2") == "facts" and settings.budget_for("tau2") == 512
    assert settings_of(cfg, mode="mixed").mode_for("tau2") == "mixed"
    assert settings_of(cfg, model="Qwen/Qwen3-Embedding-8B").tau_for("tau2") == pytest.approx(0.6)
    for key in (
        "actor_rollout_ref.actor.kl_loss_coef",
        "actor_rollout_ref.actor.optim.lr",
        "actor_rollout_ref.rollout.n",
    ):
        assert OmegaConf.select(cfg, key) == OmegaConf.select(alf, key)
    assert cfg.trainer.experiment_name == "rwml_tau2" != alf.trainer.experiment_name


def test_command_line_overrides_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # composition must not depend on the working directory
    cfg = compose_stage(
        "rwml_tau2",
        [
            MODEL,
            "actor_rollout_ref.actor.optim.lr=3e-6",
            "data.max_response_length=1024",
            "actor_rollout_ref.rollout.n=4",
            "reward.reward_kwargs.tau=0.7",
            "reward.reward_kwargs.mode=cosine",
            "+reward.reward_kwargs.cache_size=128",
        ],
    )
    assert cfg.actor_rollout_ref.actor.optim.lr == pytest.approx(3e-6)
    assert cfg.data.max_response_length == 1024 and cfg.actor_rollout_ref.rollout.n == 4
    settings = settings_of(cfg)
    assert settings.tau_for("tau2") == pytest.approx(0.7) and settings.mode_for("tau2") == "cosine"
    assert settings.cache_size == 128
    # and composing again (re-entrant) gives the defaults back
    assert compose_stage("rwml_tau2", [*SET]).actor_rollout_ref.actor.optim.lr == pytest.approx(1e-6)


def test_verl_loader_builds_our_manager_from_the_stage_config(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer
    from verl.trainer.ppo.reward import load_reward_manager

    from reward_score.reward_manager import SimToRealRewardManager

    cfg = compose_stage("rwml", [f"actor_rollout_ref.model.path={tiny_model_dir}", "reward.reward_kwargs.tau=0.75"])
    manager = load_reward_manager(cfg, AutoTokenizer.from_pretrained(tiny_model_dir))
    assert isinstance(manager, SimToRealRewardManager)
    assert manager.settings.tau_for("alfworld") == pytest.approx(0.75)
    assert manager.settings.budget_for("alfworld") == 100


@pytest.mark.parametrize(
    ("override", "named", "replacement"),
    [
        ("reward_model.reward_manager=naive", "reward_model.reward_manager=naive", "reward.reward_manager.name"),
        ("custom_reward_function.path=/tmp/r.py", "custom_reward_function.path", "reward.custom_reward_function.path"),
        ("+reward_model.reward_kwargs.tau=0.9", "reward_model.reward_kwargs.tau", "reward.reward_kwargs.tau"),
        ("reward_model.enable=true", "reward_model.enable", "reward.reward_model.enable"),
        ("reward_model.model.path=/m", "reward_model.model.path", "reward.reward_model.model_path"),
        ("reward_model.rollout.name=vllm", "reward_model.rollout.name", "reward.reward_model.rollout.name"),
        ("sandbox_fusion.url=http://x", "sandbox_fusion.url", "reward.sandbox_fusion.url"),
    ],
)
def test_legacy_reward_keys_fail_naming_the_replacement(override: str, named: str, replacement: str) -> None:
    lines = problems(compose_stage("rwml", [*SET, override]))
    assert any(named in line and f"use {replacement}" in line for line in lines), lines


def test_reward_settings_verl_would_only_reject_inside_a_worker_fail_now() -> None:
    lines = problems(compose_stage("rwml", [*SET, "+reward.reward_kwargs.taux=0.5"]))
    assert any("unknown reward setting(s) ['taux']" in line for line in lines), lines
    lines = problems(compose_stage("rwml", [*SET, "reward.custom_reward_function.path=/tmp/r.py"]))
    assert "error: reward.custom_reward_function.path=/tmp/r.py is never called by SimToRealRewardManager; " in (
        "\n".join(lines)
    )
    # another reward manager: its reward_kwargs and custom functions are its own business
    naive = ["reward.reward_manager.source=register", "reward.reward_manager.name=naive"]
    assert problems(compose_stage("rwml", [*SET, *naive])) == []


def test_agent_loop_yaml_that_workers_would_not_find_fails_now(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # policy_trainer names the yaml relative to the repository root
    lines = problems(compose_stage("policy", [*SET]))
    assert any("agent_loop_config_path=recipe/rwml/config/agent_loop.yaml is not a file" in line for line in lines)
    absolute = f"actor_rollout_ref.rollout.agent.agent_loop_config_path={CONFIG_DIR / 'agent_loop.yaml'}"
    assert problems(compose_stage("policy", [*SET, absolute])) == []


def test_compose_cli_prints_values_and_rejects_bad_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    files = [MODEL, *(f"data.{k}_files={REPO_ROOT}/tests/fault_corpus/config/{k}.parquet" for k in ("train", "val"))]
    assert run_cli(compose_cli, ["--config-name", "rwml_trainer", *files, "data.max_prompt_length=1024"]) == 0
    out = capsys.readouterr().out
    assert "data.max_prompt_length = 1024" in out and "reward.reward_manager.name = SimToRealRewardManager" in out
    assert run_cli(compose_cli, ["--config-name", "rwml_trainer", "data.no_such_key=1"]) == 2
    assert capsys.readouterr().err.startswith("error: the rwml_trainer config does not compose: Could not override 'da")
    assert run_cli(compose_cli, ["--config-name", "rwml_trainer", *files, "reward_model.reward_manager=naive"]) == 2
    assert capsys.readouterr().err.startswith("error: reward_model.reward_manager=naive -> use reward.reward_manager")


def run_main(*overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_ADDRESS")}
    return subprocess.run(
        [sys.executable, "-m", "recipe.rwml.main_rwml", *overrides],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_main_refuses_legacy_keys_and_hands_the_rest_to_verl() -> None:
    proc = run_main(MODEL, "reward_model.reward_manager=naive")
    assert proc.returncode != 0
    assert "reward_model.reward_manager=naive -> use reward.reward_manager.name" in proc.stderr
    # a config that passes our checks reaches verl's main_ppo, whose validation rejects this batch geometry
    # (3 prompts x 1 sample cannot split over 8 GPUs) before Ray starts
    # the recipe's checks run before verl is handed the config: one line per problem, nothing started
    proc = run_main(MODEL, "data.train_files=/no/such.parquet", "actor_rollout_ref.actor.optim.lr=fast")
    assert proc.returncode == 2 and "ray init kwargs" not in proc.stdout
    assert proc.stderr.splitlines()[-2:] == [
        "error: not a number (verl's FSDPOptimizerConfig.lr is float), actor_rollout_ref.actor.optim.lr = fast, "
        "pass a number, e.g. actor_rollout_ref.actor.optim.lr=1e-6",
        "error: the data file /no/such.parquet does not exist, data.train_files = /no/such.parquet, build it first "
        "or fix the path",
    ]
    corpus = REPO_ROOT / "tests" / "fault_corpus" / "config"
    proc = run_main(
        MODEL,
        f"data.train_files={corpus / 'train.parquet'}",
        f"data.val_files={corpus / 'val.parquet'}",
        "data.train_batch_size=3",
        "actor_rollout_ref.rollout.n=1",
        "actor_rollout_ref.actor.use_dynamic_bsz=false",
        "trainer.n_gpus_per_node=8",
    )
    assert proc.returncode != 0
    assert "real_train_batch_size (3) must be divisible by minimal possible batch size (8)" in proc.stderr
    assert "ray init kwargs" not in proc.stdout


def test_verls_placeholder_paths_are_refused_before_anything_starts() -> None:
    """Without overrides verl fills the model and data with its example paths (DeepSeek, GSM8K): not ours to train."""
    lines = problems(compose_stage("rwml_tau2", []))
    for key in ("actor_rollout_ref.model.path", "data.train_files", "data.val_files"):
        assert any(f"error: {key}=" in line and "verl's example placeholder" in line for line in lines), lines

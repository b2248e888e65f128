"""Compose the recipe's stage configs against the installed verl, and catch keys verl 0.9.1 would ignore.

`compose_stage("rwml" | "rwml_tau2" | "policy", overrides)` gives the DictConfig that
`python -m recipe.rwml.main_rwml --config-name <yaml> <overrides>` trains with. `check_config` is what main_rwml
runs before handing over to verl: legacy reward keys (`reward_model.*`, top-level `custom_reward_function` /
`sandbox_fusion`) are read only by verl's fully-async entry point, so `main_ppo` drops them without a word.

    python -m recipe.rwml.compose --config-name rwml_trainer [OVERRIDES...]

composes and runs every check of recipe/rwml/config_checks.py (verl's dataclass types and `validate_config`, our
ranges, the data files, the embedder) without a GPU or a model, then prints the key values; each problem is one
`error: ...` line, exit status 2. The schedule runs the same checks in-process before its first stage.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from data_prep.cli_errors import ArgumentParser, UsageError, run_cli

CONFIG_DIR = Path(__file__).resolve().parent / "config"

STAGES: dict[str, str] = {
    "rwml": "rwml_trainer",
    "rwml_tau2": "rwml_trainer_tau2",
    "policy": "policy_trainer",
}

OUR_MANAGER = ("importlib", "SimToRealRewardManager")

# Legacy key -> where verl 0.9.1 reads it now (the mapping of verl.experimental.reward_loop.migrate_legacy_reward_impl,
# which main_ppo never calls). A prefix ending in "." maps every key under it.
LEGACY_KEYS: dict[str, str] = {
    "reward_model.num_workers": "reward.num_workers",
    "reward_model.reward_manager": "reward.reward_manager.name (with reward.reward_manager.source)",
    "reward_model.reward_loop_source": "reward.reward_manager.source",
    "reward_model.reward_loop_module_path": "reward.reward_manager.module.path",
    "reward_model.reward_loop_class_name": "reward.reward_manager.name",
    "reward_model.enable": "reward.reward_model.enable",
    "reward_model.enable_resource_pool": "reward.reward_model.enable_resource_pool",
    "reward_model.n_gpus_per_node": "reward.reward_model.n_gpus_per_node",
    "reward_model.nnodes": "reward.reward_model.nnodes",
    "reward_model.model.path": "reward.reward_model.model_path",
    "reward_model.reward_kwargs.": "reward.reward_kwargs.",
    "reward_model.rollout.": "reward.reward_model.rollout.",
    "reward_model.": "reward.reward_model.",
    "custom_reward_function.": "reward.custom_reward_function.",
    "sandbox_fusion.": "reward.sandbox_fusion.",
}


class RecipeConfigError(ValueError):
    """A config verl would accept but not honour; the message names each key and what to use instead."""


def stage_config_name(stage: str) -> str:
    """The yaml name (in recipe/rwml/config) of a stage."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {sorted(STAGES)}")
    return STAGES[stage]


def compose_stage(stage: str, overrides: Sequence[str] | None = None) -> DictConfig:
    """A stage's config composed against the installed verl, as `python -m recipe.rwml.main_rwml` would see it.

    Works from any working directory and can be called repeatedly (hydra's global state is reset around it).
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from recipe.rwml.cpu.precision import register_resolvers

    register_resolvers()  # +platform=cpu reads ${rwml_cpu_dtype:}
    name = stage_config_name(stage)
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
        return compose(config_name=name, overrides=list(overrides or []))


def _leaves(node: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}.{key}")
    else:
        yield prefix, node


def _replacement(key: str) -> str:
    if key in LEGACY_KEYS:
        return LEGACY_KEYS[key]
    for prefix, target in LEGACY_KEYS.items():
        if prefix.endswith(".") and key.startswith(prefix):
            return target + key[len(prefix) :]
    return "no equivalent in verl 0.9.1's reward config"


def legacy_key_errors(cfg: DictConfig) -> list[str]:
    """One line per legacy reward key that is set (not null): `key=value -> use replacement`."""
    errors = []
    for root in ("reward_model", "custom_reward_function", "sandbox_fusion"):
        if root not in cfg or cfg[root] is None:
            continue
        for key, value in _leaves(OmegaConf.to_container(cfg[root], resolve=False), root):
            if value is not None:
                errors.append(f"{key}={value} -> use {_replacement(key)}")
    return errors


def reward_errors(cfg: DictConfig) -> list[str]:
    """Reward settings our manager would reject only inside a Ray reward worker, or silently not use."""
    reward = cfg.get("reward")
    if reward is None:
        return []
    manager = reward.get("reward_manager") or {}
    if (manager.get("source"), manager.get("name")) != OUR_MANAGER:
        return []
    errors = []
    custom = reward.get("custom_reward_function") or {}
    if custom.get("path"):
        errors.append(
            f"reward.custom_reward_function.path={custom.get('path')} is never called by SimToRealRewardManager; "
            "drop it, or select another reward manager"
        )
    from reward_score.settings import RewardSettings

    try:
        RewardSettings.from_mapping(reward.get("reward_kwargs"))
    except (ValueError, TypeError) as exc:
        errors.append(f"reward.reward_kwargs: {exc}")
    return errors


def agent_loop_errors(cfg: DictConfig) -> list[str]:
    """An agent-loop yaml verl would look for only inside its agent-loop workers, after the model is loaded."""
    path = OmegaConf.select(cfg, "actor_rollout_ref.rollout.agent.agent_loop_config_path", default=None)
    if path and not Path(path).is_file():
        return [
            f"actor_rollout_ref.rollout.agent.agent_loop_config_path={path} is not a file (relative paths are read "
            f"from the working directory, now {Path.cwd()}); pass an absolute path, "
            f"e.g. {CONFIG_DIR / 'agent_loop.yaml'}"
        ]
    return []


# What a run must set: left alone, verl's ppo_trainer fills them with its own examples' paths (a DeepSeek model, the
# GSM8K parquet), which compose and validate but train something else.
REQUIRED_KEYS = ("actor_rollout_ref.model.path", "data.train_files", "data.val_files")


def placeholder_errors(cfg: DictConfig) -> list[str]:
    """Required keys still holding verl's placeholder (the value in verl's generated ppo_trainer config)."""
    import verl.trainer.config as verl_config

    defaults = OmegaConf.load(Path(verl_config.__file__).parent / "_generated_ppo_trainer.yaml")
    errors = []
    for key in REQUIRED_KEYS:
        value = OmegaConf.select(cfg, key, default=None)
        if value is not None and value == OmegaConf.select(defaults, key, default=None):
            errors.append(f"{key}={value} is verl's example placeholder -> pass {key}=<yours>")
    return errors


def check_config(cfg: DictConfig) -> None:
    """Raise RecipeConfigError listing every key verl would ignore or reject late; quiet when all is well."""
    from recipe.rwml.cpu.checks import check_rollout_platform

    errors = (
        placeholder_errors(cfg)
        + legacy_key_errors(cfg)
        + reward_errors(cfg)
        + agent_loop_errors(cfg)
        + check_rollout_platform(cfg)
    )
    if errors:
        raise RecipeConfigError(
            "config keys that verl 0.9.1's main_ppo would ignore or reject only after start-up:\n  "
            + "\n  ".join(errors)
        )


SUMMARY_KEYS = (
    "actor_rollout_ref.model.path",
    "data.train_files",
    "data.val_files",
    "data.train_batch_size",
    "actor_rollout_ref.rollout.n",
    "actor_rollout_ref.actor.optim.lr",
    "actor_rollout_ref.actor.kl_loss_coef",
    "actor_rollout_ref.actor.kl_loss_type",
    "actor_rollout_ref.actor.entropy_coeff",
    "data.max_prompt_length",
    "data.max_response_length",
    "trainer.total_epochs",
    "trainer.n_gpus_per_node",
    "trainer.nnodes",
    "trainer.default_local_dir",
    "reward.reward_manager.name",
    "reward.reward_kwargs",
    "actor_rollout_ref.rollout.agent.default_agent_loop",
)


def validate_with_verl(cfg: DictConfig) -> None:
    """verl's own start-up validation (what main_ppo runs before Ray starts); needs no GPU and no model."""
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config

    validate_config(config=cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg))


def compose_checked(config_name: str, overrides: Sequence[str], **checks: Any) -> DictConfig:
    """Compose a stage yaml with its overrides and run every config check (recipe/rwml/config_checks.py).

    Raises UsageError when hydra cannot compose it (an unknown key, a malformed override), ConfigCheckError
    (one line per problem) when a check fails; `checks` go to `config_problems`.
    """
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from recipe.rwml.config_checks import check_all

    stage = {name: stage for stage, name in STAGES.items()}[config_name]
    try:
        cfg = compose_stage(stage, overrides)
    except (HydraException, OmegaConfBaseException) as exc:
        message = " ".join(str(exc).split())
        bad = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") in message] or list(overrides)[-1:]
        where = f"override {bad[0]}" if bad else f"config {config_name}"
        raise UsageError(
            f"the {config_name} config does not compose: {message}", where, "fix or drop that override"
        ) from exc
    check_all(cfg, **checks)
    return cfg


def summary_lines(cfg: DictConfig) -> list[str]:
    """The key values of a composed stage config, as `    key = value` lines."""
    lines = []
    for key in SUMMARY_KEYS:
        value = OmegaConf.select(cfg, key, default="<absent>")
        if OmegaConf.is_config(value):
            value = OmegaConf.to_container(value, resolve=True)
        lines.append(f"    {key} = {value}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(description="Compose, check and validate an RWML stage config; print key values.")
    parser.add_argument("--config-name", required=True, choices=sorted(STAGES.values()))
    parser.add_argument(
        "--promise", action="append", default=[], metavar="PATH",
        help="a data file an earlier step will make: not required to exist yet (repeatable)",
    )  # fmt: skip
    parser.add_argument("overrides", nargs="*", help="hydra overrides, as given to main_rwml")
    args = parser.parse_args(argv)
    from recipe.rwml.config_checks import ConfigCheckError

    try:
        cfg = compose_checked(args.config_name, args.overrides, promised=args.promise)
    except ConfigCheckError as exc:
        for line in exc.lines[:-1]:  # every problem, one line each; run_cli prints the last
            print(line, file=sys.stderr)
        last = exc.problems[-1]
        raise UsageError(last.what, last.where, last.fix) from exc
    print("\n".join(summary_lines(cfg)))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))

"""Legacy reward keys verl 0.9.1's `main_ppo` drops without a word, and where it reads each of them now.

`reward_model.*` and the top-level `custom_reward_function` / `sandbox_fusion` are read only by verl's fully-async
entry point; `main_ppo` (what main_rwml hands over to) ignores them, so a run set up the old way would train with
the defaults. `legacy_key_problems` names each one that is set, with its replacement (recipe/rwml/config_checks.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from omegaconf import DictConfig, OmegaConf

from recipe.rwml.config_problem import ConfigProblem

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


def legacy_key_problems(cfg: DictConfig) -> list[ConfigProblem]:
    """One problem per legacy reward key that is set (not null): `key=value -> use replacement`."""
    problems = []
    for root in ("reward_model", "custom_reward_function", "sandbox_fusion"):
        if root not in cfg or cfg[root] is None:
            continue
        for key, value in _leaves(OmegaConf.to_container(cfg[root], resolve=False), root):
            if value is not None:
                problems.append(ConfigProblem(f"{key}={value} -> use {_replacement(key)}"))
    return problems

"""The reward section of a stage config, checked before any worker starts: our reward manager's settings, its
embedder (present offline, or its endpoint answering) and the judge's endpoint.

verl builds the reward manager only inside its Ray reward workers, after the model is loaded: a bad `reward_kwargs`,
an embedder that is not there or an endpoint that does not answer would fail there, once per worker. Each check here
returns `ConfigProblem`s (recipe/rwml/config_problem.py); `recipe.rwml.config_checks.config_problems` runs them all.
"""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from recipe.rwml.config_problem import PLACEHOLDER, ConfigProblem, answers, at, is_unset

# `reward.reward_manager` (source, name) of the recipe's own manager, reward_score.reward_manager.SimToRealRewardManager
OUR_MANAGER = ("importlib", "SimToRealRewardManager")


def ours(cfg: DictConfig) -> bool:
    """Whether the config's reward manager is ours (another manager's settings are its own business)."""
    manager = OmegaConf.select(cfg, "reward.reward_manager", default=None) or {}
    return (manager.get("source"), manager.get("name")) == OUR_MANAGER


def reward_setting_problems(cfg: DictConfig) -> list[ConfigProblem]:
    """Reward settings our manager would reject only inside a Ray reward worker, or silently not use."""
    reward = cfg.get("reward")
    if reward is None or not ours(cfg):
        return []
    problems = []
    custom = reward.get("custom_reward_function") or {}
    if custom.get("path"):
        problems.append(
            ConfigProblem(
                f"reward.custom_reward_function.path={custom.get('path')} is never called by SimToRealRewardManager; "
                "drop it, or select another reward manager"
            )
        )
    from reward_score.settings import RewardSettings

    try:
        RewardSettings.from_mapping(reward.get("reward_kwargs"))
    except (ValueError, TypeError) as exc:
        problems.append(ConfigProblem(f"reward.reward_kwargs: {exc}"))
    return problems


def _in_hf_cache(model: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    candidates = [model] if "/" in model else [model, f"sentence-transformers/{model}"]
    for repo_id in candidates:
        try:
            if isinstance(try_to_load_from_cache(repo_id, "config.json"), str):
                return True
        except Exception:  # noqa: BLE001 - an id hub would refuse is simply not in the cache
            continue
    return False


def embedder_problems(
    cfg: DictConfig, placeholders_ok: bool = False, check_endpoints: bool = True
) -> list[ConfigProblem]:
    """The reward's embedder: a local model present offline (a folder, or an id in the HF cache), or an endpoint
    that answers. The scorer loads models with local_files_only, so anything else fails in every reward worker."""
    if not ours(cfg):
        return []
    model = OmegaConf.select(cfg, "reward.reward_kwargs.model", default=None)
    base_url = OmegaConf.select(cfg, "reward.reward_kwargs.base_url", default=None)
    if base_url:
        key = "reward.reward_kwargs.base_url"
        if is_unset(base_url):
            if placeholders_ok:
                return []
            name = base_url.removeprefix(PLACEHOLDER)
            return [ConfigProblem("the embedding endpoint is not set", at(key, base_url), f"set {name}")]
        if check_endpoints and not answers(str(base_url)):
            models = str(base_url).removesuffix("/") + "/models"
            return [
                ConfigProblem(
                    f"the embedding endpoint does not answer GET {models}",
                    at(key, base_url),
                    "start the server, or fix the URL (it ends in /v1)",
                )
            ]
        return []
    if not model:
        return []
    from reward_score.embedders import resolve_model

    path, key = resolve_model(str(model)), "reward.reward_kwargs.model"
    if Path(path).expanduser().exists():
        return []
    looks_like_path = path.startswith(("/", ".", "~")) or path.count("/") > 1 or os.sep != "/" and os.sep in path
    if looks_like_path:
        return [
            ConfigProblem(
                f"the embedder folder {path} does not exist",
                at(key, model),
                "pass an existing model folder, an id in the local HF cache, or set reward.reward_kwargs.base_url",
            )
        ]
    if not _in_hf_cache(path):
        return [
            ConfigProblem(
                f"the embedder '{model}' is not in the local HF cache (models load offline only)",
                at(key, model),
                f"download it first (huggingface-cli download {model}), pass a folder, or serve it and set "
                "reward.reward_kwargs.base_url",
            )
        ]
    return []


def judge_problems(cfg: DictConfig, placeholders_ok: bool = False, check_endpoints: bool = True) -> list[ConfigProblem]:
    """Reward mode `judge`: its chat endpoint set and answering (the reward workers would fail on every sample)."""
    mode = OmegaConf.select(cfg, "reward.reward_kwargs.mode", default=None)
    modes = OmegaConf.to_container(mode) if isinstance(mode, DictConfig) else {"default": mode}
    if "judge" not in (modes or {}).values():
        return []
    key = "reward.reward_kwargs.judge_base_url"
    url = OmegaConf.select(cfg, key, default=None)
    if not url or is_unset(url):
        if placeholders_ok and url:
            return []
        return [ConfigProblem("reward mode judge has no judge endpoint", at(key, url), "set JUDGE_BASE_URL")]
    if check_endpoints and not answers(str(url)):
        models = str(url).removesuffix("/") + "/models"
        return [ConfigProblem(f"the judge endpoint does not answer GET {models}", at(key, url),
                              "start the judge's server, or fix the URL (it ends in /v1)")]  # fmt: skip
    return []

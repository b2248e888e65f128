"""Refuse, before Ray starts, a config the CPU backend cannot run, naming the setting to change."""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points
from typing import Any

from omegaconf import OmegaConf

from recipe.rwml.cpu.precision import choose_precision

PLUGIN_MODULE = "recipe.rwml.cpu"
ENTRY_POINT = "rwml_cpu"
# What a process needs in its environment to train on the CPU backend (the schedule exports it under PLATFORM=cpu).
CPU_ENV = {"VERL_PLATFORM": "cpu", "VERL_ENGINE_DEVICE": "cuda", "VERL_USE_EXTERNAL_MODULES": PLUGIN_MODULE}


def _get(cfg: Any, key: str) -> Any:
    return OmegaConf.select(cfg, key, default=None)


def plugin_errors() -> list[str]:
    """The plugin must import here and reach every Ray worker (verl swallows a plugin's import error there)."""
    errors = []
    try:
        importlib.import_module(PLUGIN_MODULE)
    except Exception as exc:  # noqa: BLE001 - any import failure would be hidden by verl in the workers
        errors.append(
            f"{PLUGIN_MODULE} does not import ({type(exc).__name__}: {exc}); verl would hide this in its workers"
        )
    named = PLUGIN_MODULE in [m.strip() for m in os.environ.get("VERL_USE_EXTERNAL_MODULES", "").split(",")]
    policy = os.environ.get("VERL_USE_EXTERNAL_PLUGINS", "auto").strip().lower()
    found = any(ep.name == ENTRY_POINT for ep in entry_points(group="verl.plugins"))
    by_entry_point = found and (policy == "auto" or ENTRY_POINT in policy.split(","))
    if not (named or by_entry_point):
        errors.append(
            f"verl's workers would not load the CPU backend: set VERL_USE_EXTERNAL_MODULES={PLUGIN_MODULE} "
            f"(or install the project so its verl.plugins entry point {ENTRY_POINT} is found)"
        )
    if os.environ.get("VERL_ENGINE_DEVICE", "") != "cuda":
        errors.append("set VERL_ENGINE_DEVICE=cuda: verl registers its FSDP engines for cuda; they run on the CPU too")
    return errors


def cpu_config_errors(cfg: Any) -> list[str]:
    """Settings of a composed stage config that the CPU backend does not support."""
    errors = []
    rollout = _get(cfg, "actor_rollout_ref.rollout.name")
    if rollout != "hf":
        errors.append(f"actor_rollout_ref.rollout.name={rollout}: on the cpu platform use hf (add +platform=cpu)")
    for key in ("actor_rollout_ref.actor.strategy", "actor_rollout_ref.ref.strategy"):
        if _get(cfg, key) not in (None, "fsdp2"):
            errors.append(f"{key}={_get(cfg, key)}: use fsdp2 (FSDP1 syncs module states through an accelerator)")
    for key in ("tensor_model_parallel_size", "data_parallel_size", "pipeline_model_parallel_size"):
        value = _get(cfg, f"actor_rollout_ref.rollout.{key}")
        if value not in (None, 1):
            errors.append(f"actor_rollout_ref.rollout.{key}={value}: the hf rollout serves one copy per rank; set 1")
    attn = _get(cfg, "actor_rollout_ref.model.override_config.attn_implementation")
    if attn not in ("sdpa", "eager"):
        errors.append(
            f"actor_rollout_ref.model.override_config.attn_implementation={attn}: use sdpa "
            "(flash attention is CUDA-only)"
        )
    if _get(cfg, "trainer.device") != "cpu":
        errors.append(f"trainer.device={_get(cfg, 'trainer.device')}: set cpu")
    if _get(cfg, "critic.enable"):
        errors.append("critic.enable=true: the CPU backend runs GRPO without a critic")
    if _get(cfg, "trainer.v1.sampler.custom_sampler.name") == "CPUReplayBuffer":
        mode = _get(cfg, "trainer.v1.trainer_mode")
        if mode not in (None, "sync"):
            errors.append(
                f"trainer.v1.trainer_mode={mode}: the CPU backend's replay buffer is verl's sync one; use sync, or "
                "set trainer.v1.sampler.custom_sampler.path=null trainer.v1.sampler.custom_sampler.name=null"
            )
        if _get(cfg, "algorithm.filter_groups.enable") or _get(cfg, "trainer.v1.sampler.sync_refill_failed_groups"):
            errors.append(
                "algorithm.filter_groups.enable / trainer.v1.sampler.sync_refill_failed_groups: verl gives a custom "
                "replay buffer no group filtering; set trainer.v1.sampler.custom_sampler.path=null "
                "trainer.v1.sampler.custom_sampler.name=null to use verl's own (it polls every 2 s)"
            )
    try:
        choose_precision()
    except ValueError as exc:
        errors.append(f"{exc} (the compute dtype of every engine and server)")
    ranks = int(_get(cfg, "trainer.n_gpus_per_node") or 0) * int(_get(cfg, "trainer.nnodes") or 1)
    logical = _get(cfg, "ray_kwargs.ray_init.num_gpus")
    if logical is None or int(logical) < ranks:
        errors.append(
            f"ray_kwargs.ray_init.num_gpus={logical}: declare at least trainer.n_gpus_per_node x nnodes = {ranks} "
            "logical GPUs (one per FSDP rank)"
        )
    return errors


def check_rollout_platform(cfg: Any) -> list[str]:
    """Every error for this config and environment: the cpu platform's needs, or hf rollout without the platform."""
    on_cpu = os.environ.get("VERL_PLATFORM", "").strip().lower() == "cpu"
    if on_cpu:
        return plugin_errors() + cpu_config_errors(cfg)
    if _get(cfg, "actor_rollout_ref.rollout.name") == "hf":
        return [
            "actor_rollout_ref.rollout.name=hf needs the CPU platform: run with VERL_PLATFORM=cpu "
            "VERL_ENGINE_DEVICE=cuda (as scripts/run_rwml_cpu.sh does)"
        ]
    return []

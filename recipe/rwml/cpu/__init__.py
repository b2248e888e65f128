"""A CPU backend for verl 0.9.1: the `cpu` platform, the `hf` rollout server, and the two runtime patches verl needs.

verl imports this package in every process (driver, trainer ranks, rollout servers, agent-loop and reward workers)
because it is named in `VERL_USE_EXTERNAL_MODULES=recipe.rwml.cpu` or found as the `verl.plugins` entry point
`rwml_cpu`. Importing it registers the platform and the rollout backend, which is harmless on a GPU machine; the
patches (`verl_gaps`) apply only where `VERL_PLATFORM=cpu` selects the platform. The compute dtype and threads of a
CPU run are chosen in `precision`. A run switches it on with

    VERL_PLATFORM=cpu VERL_ENGINE_DEVICE=cuda VERL_USE_EXTERNAL_MODULES=recipe.rwml.cpu \
        python -m recipe.rwml.main_rwml --config-name rwml_trainer +platform=cpu ...

(`VERL_ENGINE_DEVICE=cuda` picks verl's FSDP engines, which are registered for cuda and run on any torch device.)
"""

from __future__ import annotations

import os

from verl.workers.rollout.base import _ROLLOUT_REGISTRY
from verl.workers.rollout.replica import RolloutReplicaRegistry

from recipe.rwml.cpu import verl_gaps
from recipe.rwml.cpu.platform import PLATFORM_NAME, PlatformCPU
from recipe.rwml.cpu.precision import export_to_workers, register_resolvers
from recipe.rwml.cpu.rollout import ROLLOUT_NAME, HFReplica


def _load_replica() -> type:
    return HFReplica


def cpu_selected() -> bool:
    return os.environ.get("VERL_PLATFORM", "").strip().lower() == PLATFORM_NAME


register_resolvers()  # ${rwml_cpu_dtype:}, ${rwml_cpu_threads:} in config/platform/cpu.yaml and sft_trainer_cpu.yaml
RolloutReplicaRegistry.register(ROLLOUT_NAME, _load_replica)
_ROLLOUT_REGISTRY[(ROLLOUT_NAME, "async")] = "recipe.rwml.cpu.rollout.HFServerAdapter"
if cpu_selected():
    export_to_workers()  # before Ray or torchrun start a worker: each inherits the dtype and thread count
    verl_gaps.apply()

__all__ = ["PLATFORM_NAME", "ROLLOUT_NAME", "PlatformCPU", "cpu_selected"]

"""The places where verl 0.9.1 cannot run on a CPU platform and offers no hook; each is patched here, and only here.

1. `verl.utils.distributed.initialize_global_process_group_ray` builds the backend "cpu:gloo,{device}:{backend}",
   which on the CPU platform is "cpu:gloo,cpu:gloo" and torch refuses ("Duplicate device type cpu"). The patch
   changes the function's default backend to "gloo" (every caller that passes none gets it, whatever it imported).
   Its torchrun twin `initialize_global_process_group` (the SFT trainer's `run_sft`, which imports it at call time)
   hard-codes the same string with no parameter; the patch replaces it in `verl.utils.distributed` with the same
   steps on "gloo".
2. `FSDPEngine._build_fsdp_module` gives a forward-only (reference) model `CPUOffloadPolicy(pin_memory=True)`;
   pinning needs an accelerator ("Cannot access accelerator device"). The patch swaps in a policy that never pins.

`tests/test_cpu_backend.py` reproduces each failure on unpatched verl: when a verl release fixes one, its test
fails, and the patch can go.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta

GLOO = "gloo"


def initialize_global_process_group_gloo(timeout_second: int = 36000) -> tuple[int, int, int]:
    """verl's `initialize_global_process_group` (torchrun ranks: the SFT trainer) with the backend "gloo"; the rank
    computes on the run's threads (torchrun sets OMP_NUM_THREADS=1 for more than one rank per node)."""
    import torch.distributed

    from recipe.rwml.cpu.precision import use_compute_threads

    use_compute_threads()
    torch.distributed.init_process_group(
        backend=GLOO,
        timeout=timedelta(seconds=timeout_second),
        init_method=os.environ.get("DIST_INIT_METHOD", None),
    )
    return int(os.environ["LOCAL_RANK"]), int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])


def _unpinned_offload_policy() -> type:
    from verl.utils.fsdp_utils import CPUOffloadPolicy

    class UnpinnedCPUOffloadPolicy(CPUOffloadPolicy):
        """FSDP2's CPU offload policy with pinning off: there is no accelerator to pin for."""

        def __init__(self, pin_memory: bool = False) -> None:
            super().__init__(pin_memory=False)

    return UnpinnedCPUOffloadPolicy


def apply() -> None:
    """Patch every gap in this process (idempotent)."""
    import verl.utils.distributed as distributed
    import verl.utils.fsdp_utils as fsdp_utils

    fn = distributed.initialize_global_process_group_ray
    fn.__defaults__ = (fn.__defaults__[0], GLOO)  # (timeout_second, backend)
    distributed.initialize_global_process_group = initialize_global_process_group_gloo

    if not getattr(fsdp_utils.CPUOffloadPolicy, "_rwml_unpinned", False):
        policy = _unpinned_offload_policy()
        policy._rwml_unpinned = True
        fsdp_utils.CPUOffloadPolicy = policy
        engine = sys.modules.get("verl.workers.engine.fsdp.transformer_impl")
        if engine is not None:  # imported before us: patch its own reference too
            engine.CPUOffloadPolicy = policy

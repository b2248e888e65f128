"""verl's `cpu` platform: gloo for collectives, torch.device("cpu") for placement, logical GPUs for Ray's scheduler.

Registered with `verl.plugin.platform.PlatformRegistry` and chosen by `VERL_PLATFORM=cpu`. verl schedules its
workers by the platform's Ray resource name and counts only GPU/NPU resources
(`single_controller/ray/base.py:226`), so the platform answers "GPU" and a run declares as many logical GPUs as it
wants FSDP ranks (`+ray_kwargs.ray_init.num_gpus=N`); nothing ever touches CUDA.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import torch
from verl.plugin.platform import PlatformBase, PlatformRegistry

PLATFORM_NAME = "cpu"


def _cpu_device_module() -> SimpleNamespace:
    """What verl calls on `torch.cuda` (via `get_torch_device()`), answered for the CPU: RNG state is torch's own,
    memory figures come from the process and the machine, synchronisation and caches are no-ops."""

    def mem_get_info(device: Any = None) -> tuple[int, int]:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        return free, pages

    def _rss(device: Any = None) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    noop = lambda *args, **kwargs: None  # noqa: E731
    return SimpleNamespace(
        is_available=lambda: True,
        device_count=lambda: 1,
        current_device=lambda: torch.device("cpu"),
        set_device=noop,
        synchronize=noop,
        empty_cache=noop,
        ipc_collect=noop,
        set_per_process_memory_fraction=noop,
        manual_seed=torch.manual_seed,
        manual_seed_all=torch.manual_seed,
        get_rng_state=lambda device=None: torch.get_rng_state(),
        set_rng_state=lambda state, device=None: torch.set_rng_state(state),
        mem_get_info=mem_get_info,
        memory_allocated=_rss,
        max_memory_allocated=_rss,
        memory_reserved=_rss,
        max_memory_reserved=_rss,
        reset_peak_memory_stats=noop,
        get_device_name=lambda device=None: "cpu",
        current_stream=lambda device=None: SimpleNamespace(synchronize=noop, wait_stream=noop),
    )


@PlatformRegistry.register(platform=PLATFORM_NAME)
class PlatformCPU(PlatformBase):
    """The host CPU as verl's accelerator."""

    _device_module = _cpu_device_module()

    @property
    def device_name(self) -> str:
        return "cpu"

    @property
    def vendor_name(self) -> str:
        return "cpu"

    @property
    def device_module(self) -> Any:
        return self._device_module

    def is_available(self) -> bool:
        return True

    def is_platform_available(self, use_smi_check: bool = False) -> bool:
        return False  # never auto-detected: only VERL_PLATFORM=cpu selects it

    def current_device(self) -> Any:
        return torch.device("cpu")  # call sites pass it to .to(); an int would mean a CUDA index

    def device_count(self) -> int:
        return 1

    def set_device(self, device_index: int) -> None:
        return None

    def synchronize(self, device_index: int | None = None) -> None:
        return None

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings: str) -> None:
        return None

    def empty_cache(self) -> None:
        return None

    def get_device_capability(self, device_index: int = 0) -> tuple[int | None, int | None]:
        return None, None

    def communication_backend_name(self) -> str:
        return "gloo"

    def visible_devices_envvar(self) -> str:
        return "CUDA_VISIBLE_DEVICES"

    @contextmanager
    def nvtx_range(self, msg: str):
        yield

    def profiler_start(self) -> None:
        return None

    def profiler_stop(self) -> None:
        return None

    def ray_resource_name(self) -> str:
        return "GPU"

    def ray_noset_envvars(self) -> list[str]:
        return []

    def is_ipc_supported(self) -> bool:
        return False

    def cudart(self) -> Any:
        return None

"""The CPU backend's compute dtype and thread count: chosen from what this processor does natively, once per run.

A CPU with AVX512-BF16 or AMX-BF16 multiplies bf16 matrices in hardware (AMD Zen 4, Intel Sapphire Rapids and later);
one without (AMD Zen 3, most AVX2 machines) emulates them in ATen's fallback gemm, about 10x slower than fp32 through
MKL. So `auto` picks bf16 on the first kind and fp32 on the second, for every verl engine (the actor's and reference's
FSDP2 mixed precision, verl's SFT trainer) and for the HF servers (the rollout and the OpenAI-compatible server), so
the model that samples computes like the model that trains. `RWML_CPU_DTYPE=fp32|bf16` forces either.

Threads: Ray starts an actor with OMP_NUM_THREADS=1 unless its environment sets it, so verl's FSDP worker trained on
one core of many. The plugin's import in the driver (`export_to_workers`, before Ray starts) sets OMP_NUM_THREADS to
`RWML_CPU_THREADS` (default: the cores this process may use) and RWML_CPU_DTYPE to the choice, and every Ray worker
and torchrun rank inherits both; the reward's embedder, which runs while the rollout server generates, takes one
thread (`RWML_EMBED_THREADS` in config/platform/cpu.yaml), so the two do not fight for the same cores.

The config files read the dtype through an OmegaConf resolver registered on import (`${rwml_cpu_dtype:}`), so
`python -m recipe.rwml.main_rwml ... +platform=cpu` gets it without a wrapper script.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

import torch
from omegaconf import OmegaConf

DTYPE_ENV = "RWML_CPU_DTYPE"
THREADS_ENV = "RWML_CPU_THREADS"
DTYPES = ("auto", "fp32", "bf16")
# /proc/cpuinfo flags of native bf16 matrix arithmetic (x86: AVX512-BF16 dot products, AMX tiles; Arm: BF16)
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")
TORCH_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
_EXPORTED: Precision | None = None  # what export_to_workers chose in this process


@dataclass(frozen=True)
class Precision:
    """The compute dtype of a CPU run and why it was chosen."""

    dtype: str  # "fp32" | "bf16"
    reason: str

    @property
    def torch_dtype(self) -> torch.dtype:
        return TORCH_DTYPES[self.dtype]

    def line(self) -> str:
        threads = compute_threads()
        return f"cpu backend: compute dtype {self.dtype} ({self.reason}); {threads} threads per compute process"


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    """The feature flags of the first processor in `cpuinfo` (x86 `flags`, Arm `Features`); empty if unreadable."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            return set(value.split())
    return set()


def choose_precision(requested: str | None = None, flags: set[str] | None = None) -> Precision:
    """`requested` (default: $RWML_CPU_DTYPE, else auto) resolved against the CPU's flags (default: /proc/cpuinfo)."""
    value = (requested if requested is not None else os.environ.get(DTYPE_ENV, "")).strip().lower() or "auto"
    if value not in DTYPES:
        raise ValueError(f"{DTYPE_ENV}={value}: expected one of {', '.join(DTYPES)}")
    if value != "auto":
        return Precision(value, f"forced by {DTYPE_ENV}={value}")
    flags = cpu_flags() if flags is None else flags
    native = sorted(f for f in NATIVE_BF16_FLAGS if f in flags)
    if native:
        return Precision("bf16", f"auto: the CPU computes bf16 natively ({', '.join(native)})")
    return Precision("fp32", "auto: the CPU has no native bf16 (no avx512_bf16 / amx_bf16), bf16 would be emulated")


def compute_threads(environ: Mapping[str, str] | None = None) -> int:
    """$RWML_CPU_THREADS, else the number of cores this process may run on."""
    value = (os.environ if environ is None else environ).get(THREADS_ENV, "").strip()
    if value:
        try:
            threads = int(value)
        except ValueError:
            raise ValueError(f"{THREADS_ENV}={value}: expected a whole number of threads") from None
        if threads < 1:
            raise ValueError(f"{THREADS_ENV}={value}: expected at least 1")
        return threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def use_compute_threads() -> int:
    """Give this (compute) process the run's thread count; returns it."""
    threads = compute_threads()
    torch.set_num_threads(threads)
    return threads


def register_resolvers() -> None:
    """`${rwml_cpu_dtype:}` for the CPU config files (idempotent)."""
    if not OmegaConf.has_resolver("rwml_cpu_dtype"):
        OmegaConf.register_new_resolver("rwml_cpu_dtype", lambda: choose_precision().dtype)


def export_to_workers(environ: MutableMapping[str, str] | None = None) -> Precision | None:
    """Fix this run's dtype and threads in `environ` (default: os.environ), for every process started after it:
    RWML_CPU_DTYPE resolved (fp32|bf16, so no process decides alone), RWML_CPU_THREADS and OMP_NUM_THREADS, and
    Ray's worker prestart off. None (and nothing set) when RWML_CPU_DTYPE or RWML_CPU_THREADS is not valid."""
    global _EXPORTED
    environ = os.environ if environ is None else environ
    try:
        precision = choose_precision(environ.get(DTYPE_ENV, ""))
        threads = str(compute_threads(environ))
    except ValueError:
        return None  # left as the user set it: the config checks name the bad value (recipe/rwml/cpu/checks.py)
    environ[DTYPE_ENV] = precision.dtype
    environ[THREADS_ENV] = threads
    environ["OMP_NUM_THREADS"] = threads
    # Ray prestarts one idle Python worker per logical CPU (the platform declares 16 for scheduling) when the first
    # driver connects: ~15 s of start-up on 2 cores for workers no actor uses
    environ.setdefault("RAY_prestart_worker_first_driver", "0")
    if environ is os.environ:
        _EXPORTED = precision
    return precision


def run_precision() -> Precision:
    """This run's choice with its first reason (after `export_to_workers` the environment only says "forced")."""
    return _EXPORTED or choose_precision()

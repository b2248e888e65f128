"""Before a run starts anything: do the stage configs pass their checks, are the GPUs and vLLM there, and does
every endpoint setting answer?

Each check returns lines naming what is wrong; the runner prints them all and stops before the first stage. The
config checks (recipe/rwml/config_checks.py, composed in-process) run in a dry run too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from omegaconf import DictConfig

from data_prep.cli_errors import UsageError, error_line
from recipe.rwml.config_problem import ConfigCheckError, answers
from recipe.rwml.schedule.settings import Settings
from recipe.rwml.schedule.stages import Stage
from recipe.rwml.schedule.steps import ConfigCheck

__all__ = ["answers", "config_problems", "endpoint_problems", "gpu_problems"]


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """os.environ as the stage commands see it (the CPU backend's checks read VERL_* variables), then restored."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def config_problems(
    stages: Sequence[Stage], s: Settings, env: Mapping[str, str], check_endpoints: bool = True
) -> tuple[list[str], dict[tuple[str, ...], DictConfig]]:
    """Every running stage's config composed with its overrides and checked, before anything runs: `error: ...`
    lines naming the stage, and the composed configs (keyed by config name + overrides) for the runner to print.

    An input an earlier running stage makes need not exist yet; `UNSET_<NAME>` values are left to the plan's needs.
    `check_endpoints=False` (a dry run) does not ask the embedding / judge endpoints: they may not be up yet.
    """
    from recipe.rwml.compose import compose_checked

    lines: list[str] = []
    composed: dict[tuple[str, ...], DictConfig] = {}
    promised: list[str] = []
    with _environment(env):
        for stage in stages:
            for step in stage.steps(s):
                if not isinstance(step, ConfigCheck):
                    continue
                try:
                    cfg = compose_checked(
                        step.config, step.overrides, promised=promised, placeholders_ok=True,
                        check_endpoints=check_endpoints,
                    )  # fmt: skip
                except ConfigCheckError as exc:
                    lines += [error_line(f"stage {stage.name}: {p.what}", p.where, p.fix) for p in exc.problems]
                except UsageError as exc:
                    lines.append(error_line(f"stage {stage.name}: {exc.what}", exc.where, exc.fix))
                else:
                    composed[(step.config, *step.overrides)] = cfg
            promised += stage.outputs(s)
    return lines, composed


def gpu_problems(s: Settings) -> list[str]:
    """NVIDIA GPUs (N_GPUS of them, per nvidia-smi) and the vLLM executable."""
    problems = []
    if not shutil.which("nvidia-smi"):
        problems.append(f"GPUs: nvidia-smi not found (training and serving need {s['N_GPUS']} NVIDIA GPUs per node)")
    else:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False).stdout
        have = sum(line.startswith("GPU") for line in listed.splitlines())
        if not s["N_GPUS"].isdigit() or have < int(s["N_GPUS"]):
            problems.append(f"GPUs: N_GPUS={s['N_GPUS']} but nvidia-smi lists {have}")
    if not shutil.which(s["VLLM"]):
        problems.append(f"vLLM: '{s['VLLM']}' not found (make install-gpu, or set VLLM)")
    return problems


def endpoint_problems(stages: Sequence[Stage], s: Settings) -> list[str]:
    """Each endpoint setting the running stages call, asked once: GET <url>/models must answer."""
    problems, asked = [], set()
    for stage in stages:
        for name in stage.endpoints(s):
            url = s[name]
            if name in asked or not url:
                continue
            asked.add(name)
            if not answers(url):
                models = url.removesuffix("/") + "/models"
                why = "(is the server up? is the URL right, with /v1?)"
                problems.append(f"stage {stage.name}: {name}={url} does not answer GET {models} {why}")
    return problems

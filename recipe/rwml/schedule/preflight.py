"""Before a real run starts anything: are the GPUs and vLLM there, and does every endpoint setting answer?

Each check returns lines naming what is wrong; the runner prints them all and stops before the first stage.
"""

from __future__ import annotations

import shutil
import subprocess
import urllib.request
from collections.abc import Sequence

from recipe.rwml.schedule.settings import Settings
from recipe.rwml.schedule.stages import Stage


def answers(url: str, timeout: float = 10) -> bool:
    """Whether GET <url>/models answers with a success status."""
    try:
        with urllib.request.urlopen(url.removesuffix("/") + "/models", timeout=timeout) as response:
            return response.status < 400
    except (OSError, ValueError):
        return False


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

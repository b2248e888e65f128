"""Shared fixtures: offline settings for every test, paths to the bundled and shared data, the tiny model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_ALFWORLD = REPO_ROOT.parent / "shared" / "alfworld"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_alfworld() -> Path:
    """The real ALFWorld games beside the repo; tests that need them skip where they are absent."""
    if not (SHARED_ALFWORLD / "json_2.1.1").is_dir():
        pytest.skip(f"real ALFWorld games not found at {SHARED_ALFWORLD}")
    return SHARED_ALFWORLD


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from recipe.rwml.base_models import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny_model"))


def sft_on_cpu(model: Path, chat: list[dict], folder: Path, steps: int, lr: float) -> subprocess.CompletedProcess:
    """verl's SFT trainer (torchrun, recipe/rwml/config/sft_trainer_cpu.yaml) on the CPU backend: `steps` steps of
    batch 4 on 8 copies of `chat`; the parquet files and the checkpoints (`folder/ckpt`) go in `folder`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from recipe.rwml.cpu.checks import CPU_ENV

    for name in ("train", "val"):
        pq.write_table(pa.Table.from_pylist([{"messages": chat}] * 8), folder / f"{name}.parquet")
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1"]
    argv += ["-m", "verl.trainer.sft_trainer", "--config-path", str(REPO_ROOT / "recipe/rwml/config")]
    argv += ["--config-name", "sft_trainer_cpu", f"model.path={model}", f"optim.lr={lr}"]
    argv += [f"data.train_files={folder}/train.parquet", f"data.val_files={folder}/val.parquet"]
    argv += ["data.train_batch_size=4", "data.max_length=256", f"trainer.total_training_steps={steps}"]
    argv += [f"trainer.default_local_dir={folder}/ckpt", "trainer.project_name=t", "trainer.experiment_name=t"]
    env = {**os.environ, **CPU_ENV, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, env=env)

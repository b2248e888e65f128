"""Shared fixtures: offline settings for every test, paths to the bundled and shared data, the tiny model."""

from __future__ import annotations

import os
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

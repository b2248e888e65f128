"""RWML as a verl 0.9.1 recipe: stage-1 world-model RL and stage-2 policy RL (the env agent loop), with configs."""

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent / "config"  # the stage yamls, hydra's config dir

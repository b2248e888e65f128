"""Entry point of the RWML recipe: compose a stage config, refuse keys verl would ignore, run verl's PPO trainer.

    python -m recipe.rwml.main_rwml --config-name rwml_trainer actor_rollout_ref.model.path=... data.train_files=...
    python -m recipe.rwml.main_rwml --config-name rwml_trainer_tau2 ...
    python -m recipe.rwml.main_rwml --config-name policy_trainer ...     # stage 2

Every value is a hydra override, exactly as with `python -m verl.trainer.main_ppo`.
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from recipe.rwml.compose import RecipeConfigError, check_config


@hydra.main(config_path="config", config_name="rwml_trainer", version_base=None)
def main(config: DictConfig) -> None:
    try:
        check_config(config)
    except RecipeConfigError as exc:
        sys.exit(f"main_rwml: {exc}")

    from verl.trainer.main_ppo import main as verl_main

    verl_main(config)  # a hydra.main function called with a config runs on it: validation, then the Ray trainer


if __name__ == "__main__":
    main()

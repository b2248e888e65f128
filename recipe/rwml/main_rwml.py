"""Entry point of the RWML recipe: compose a stage config, run every config check, then verl's PPO trainer.

    python -m recipe.rwml.main_rwml --config-name rwml_trainer actor_rollout_ref.model.path=... data.train_files=...
    python -m recipe.rwml.main_rwml --config-name rwml_trainer_tau2 ...
    python -m recipe.rwml.main_rwml --config-name policy_trainer ...     # stage 2

Every value is a hydra override, exactly as with `python -m verl.trainer.main_ppo`. The checks of
recipe/rwml/config_checks.py run first: a bad value stops here (`error: ...` lines, exit 2), before Ray asks for GPUs.
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from data_prep.cli_errors import EXIT_ERROR
from recipe.rwml.config_checks import config_problems


@hydra.main(config_path="config", config_name="rwml_trainer", version_base=None)
def main(config: DictConfig) -> None:
    if problems := config_problems(config):
        print("\n".join(p.line for p in problems), file=sys.stderr)
        sys.exit(EXIT_ERROR)

    from verl.trainer.main_ppo import main as verl_main

    from recipe.rwml.cpu import cpu_selected

    if cpu_selected():
        from recipe.rwml.cpu.precision import run_precision

        print(run_precision().line(), flush=True)

    verl_main(config)  # a hydra.main function called with a config runs on it: validation, then the Ray trainer


if __name__ == "__main__":
    main()

"""Entry point of the RWML recipe: compose a stage config, run every config check, then verl's PPO trainer.

    python -m recipe.rwml.main_rwml --config-name rwml_trainer actor_rollout_ref.model.path=... data.train_files=...
    python -m recipe.rwml.main_rwml --config-name rwml_trainer_tau2 ...
    python -m recipe.rwml.main_rwml --config-name policy_trainer ...     # stage 2

Every value is a hydra override, exactly as with `python -m verl.trainer.main_ppo`. The checks of
recipe/rwml/config_checks.py run first: a bad value stops here (`error: ...` lines, exit 2), before Ray asks for GPUs.
One trainer per checkpoint folder: the run holds a lock beside `trainer.default_local_dir` (data_prep/output_lock.py);
a second run on the same folder stops at once, naming the first.
"""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from data_prep.cli_errors import EXIT_ERROR, error_line
from data_prep.output_lock import OutputLock, OutputLockedError
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

    try:  # one trainer per checkpoint folder: a second one would resume from and overwrite the same steps
        lock = OutputLock(config.trainer.default_local_dir)
    except OutputLockedError as err:
        print(error_line(err.what, err.where, err.fix), file=sys.stderr)
        sys.exit(EXIT_ERROR)
    try:
        verl_main(config)  # a hydra.main function called with a config runs on it: validation, then the Ray trainer
    finally:
        lock.release()


if __name__ == "__main__":
    main()

"""Compose the recipe's stage configs against the installed verl, and check them before anything starts.

`compose_stage("rwml" | "rwml_tau2" | "policy", overrides)` gives the DictConfig that
`python -m recipe.rwml.main_rwml --config-name <yaml> <overrides>` trains with; `compose_checked` composes it and runs
`recipe.rwml.config_checks.config_problems`, the checks main_rwml runs before handing over to verl.

    python -m recipe.rwml.compose --config-name rwml_trainer [OVERRIDES...]

composes and runs every check of recipe/rwml/config_checks.py (verl's dataclass types and `validate_config`, our
ranges, the data files, the embedder) without a GPU or a model, then prints the key values; each problem is one
`error: ...` line, exit status 2. The schedule runs the same checks in-process before its first stage.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from data_prep.cli_errors import ArgumentParser, UsageError, run_cli
from recipe.rwml import CONFIG_DIR
from recipe.rwml.config_checks import check_all
from recipe.rwml.config_problem import ConfigCheckError

STAGES: dict[str, str] = {
    "rwml": "rwml_trainer",
    "rwml_tau2": "rwml_trainer_tau2",
    "policy": "policy_trainer",
}


def stage_config_name(stage: str) -> str:
    """The yaml name (in recipe/rwml/config) of a stage."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {sorted(STAGES)}")
    return STAGES[stage]


def compose_stage(stage: str, overrides: Sequence[str] | None = None) -> DictConfig:
    """A stage's config composed against the installed verl, as `python -m recipe.rwml.main_rwml` would see it.

    Works from any working directory and can be called repeatedly (hydra's global state is reset around it).
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from recipe.rwml.cpu.precision import register_resolvers

    register_resolvers()  # +platform=cpu reads ${rwml_cpu_dtype:}
    name = stage_config_name(stage)
    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
        return compose(config_name=name, overrides=list(overrides or []))


SUMMARY_KEYS = (
    "actor_rollout_ref.model.path",
    "data.train_files",
    "data.val_files",
    "data.train_batch_size",
    "actor_rollout_ref.rollout.n",
    "actor_rollout_ref.actor.optim.lr",
    "actor_rollout_ref.actor.kl_loss_coef",
    "actor_rollout_ref.actor.kl_loss_type",
    "actor_rollout_ref.actor.entropy_coeff",
    "data.max_prompt_length",
    "data.max_response_length",
    "trainer.total_epochs",
    "trainer.n_gpus_per_node",
    "trainer.nnodes",
    "trainer.default_local_dir",
    "reward.reward_manager.name",
    "reward.reward_kwargs",
    "actor_rollout_ref.rollout.agent.default_agent_loop",
)


def compose_checked(config_name: str, overrides: Sequence[str], **checks: Any) -> DictConfig:
    """Compose a stage yaml with its overrides and run every config check (recipe/rwml/config_checks.py).

    Raises UsageError when hydra cannot compose it (an unknown key, a malformed override), ConfigCheckError
    (one line per problem) when a check fails; `checks` go to `config_problems`.
    """
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    stage = {name: stage for stage, name in STAGES.items()}[config_name]
    try:
        cfg = compose_stage(stage, overrides)
    except (HydraException, OmegaConfBaseException) as exc:
        message = " ".join(str(exc).split())
        bad = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") in message] or list(overrides)[-1:]
        where = f"override {bad[0]}" if bad else f"config {config_name}"
        raise UsageError(
            f"the {config_name} config does not compose: {message}", where, "fix or drop that override"
        ) from exc
    check_all(cfg, **checks)
    return cfg


def summary_lines(cfg: DictConfig) -> list[str]:
    """The key values of a composed stage config, as `    key = value` lines."""
    lines = []
    for key in SUMMARY_KEYS:
        value = OmegaConf.select(cfg, key, default="<absent>")
        if OmegaConf.is_config(value):
            value = OmegaConf.to_container(value, resolve=True)
        lines.append(f"    {key} = {value}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(description="Compose, check and validate an RWML stage config; print key values.")
    parser.add_argument("--config-name", required=True, choices=sorted(STAGES.values()))
    parser.add_argument(
        "--promise", action="append", default=[], metavar="PATH",
        help="a data file an earlier step will make: not required to exist yet (repeatable)",
    )  # fmt: skip
    parser.add_argument("overrides", nargs="*", help="hydra overrides, as given to main_rwml")
    args = parser.parse_args(argv)
    try:
        cfg = compose_checked(args.config_name, args.overrides, promised=args.promise)
    except ConfigCheckError as exc:
        for line in exc.lines[:-1]:  # every problem, one line each; run_cli prints the last
            print(line, file=sys.stderr)
        last = exc.problems[-1]
        raise UsageError(last.what, last.where, last.fix) from exc
    print("\n".join(summary_lines(cfg)))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))

"""Config checks run before any GPU is asked for: types, ranges, files and the embedder, one error line each.

`config_problems(cfg)` is the one entry: `python -m recipe.rwml.main_rwml` runs it on the config it is handed,
`python -m recipe.rwml.compose` and the schedule's preflight through `compose.compose_checked`. Types come from
verl 0.9.1's own config dataclasses (every node with a `_target_`, each value converted as
`verl.utils.config.omega_conf_to_dataclass` would), then verl's `validate_config` and `omega_conf_to_dataclass` on
the rollout (and critic); keys verl would ignore or read only after start-up (legacy reward keys, its placeholder
paths, the agent-loop yaml, the CPU backend's settings), ranges, the data files, the trainer's loggers and the reward
section (reward_checks.py: settings, embedder, judge) are ours, where verl checks nothing before its workers start.
Each problem is a `ConfigProblem` and prints as `error: <what>, <key = value>, <what to do>`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import io
import types
import typing
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from omegaconf.nodes import BooleanNode, FloatNode, IntegerNode, StringNode

from recipe.rwml import CONFIG_DIR
from recipe.rwml.config_problem import ConfigCheckError, ConfigProblem, at, is_unset
from recipe.rwml.legacy_keys import legacy_key_problems
from recipe.rwml.reward_checks import embedder_problems, judge_problems, reward_setting_problems

_NODES: dict[type, Callable[..., Any]] = {int: IntegerNode, float: FloatNode, bool: BooleanNode, str: StringNode}
_KIND = {int: "a whole number", float: "a number", bool: "true or false", str: "a string"}

# Values verl reads without a range check: key -> (type, lowest allowed, whether the lowest itself is allowed, example).
BOUNDS: dict[str, tuple[type, float, bool, str]] = {
    "data.train_batch_size": (int, 1, True, "32"),
    "data.max_prompt_length": (int, 1, True, "1500"),
    "data.max_response_length": (int, 1, True, "512"),
    "actor_rollout_ref.rollout.n": (int, 1, True, "8"),
    "actor_rollout_ref.actor.ppo_mini_batch_size": (int, 1, True, "16"),
    "actor_rollout_ref.actor.ppo_epochs": (int, 1, True, "1"),
    "actor_rollout_ref.actor.optim.lr": (float, 0, False, "1e-6"),
    "actor_rollout_ref.rollout.temperature": (float, 0, True, "1.0"),
    "actor_rollout_ref.rollout.tensor_model_parallel_size": (int, 1, True, "1"),
    "trainer.total_epochs": (int, 1, True, "2"),
    "trainer.n_gpus_per_node": (int, 1, True, "8"),
    "trainer.nnodes": (int, 1, True, "1"),
}
DATA_FILES = ("data.train_files", "data.val_files")
# What a run must set: left alone, verl's ppo_trainer fills them with its own examples' paths (a DeepSeek model, the
# GSM8K parquet), which compose and validate but train something else.
REQUIRED_KEYS = ("actor_rollout_ref.model.path", "data.train_files", "data.val_files")


# ------------------------------------------------------------------------------------------------ verl's types


def _scalar_type(hint: Any) -> type | None:
    """int / float / bool / str for a field typed so (or Optional of it); None for anything else."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _scalar_type(args[0]) if len(args) == 1 else None
    return hint if hint in _NODES else None


def _target_nodes(node: DictConfig, path: str = "") -> Iterator[tuple[str, DictConfig]]:
    """Every config node that names a verl dataclass in `_target_`, with its dotted path."""
    if "_target_" in node and isinstance(node._get_node("_target_")._value(), str):
        yield path, node
    for key in node.keys():
        child = node._get_node(key)
        if isinstance(child, DictConfig) and not child._is_none() and not child._is_missing():
            yield from _target_nodes(child, f"{path}.{key}" if path else str(key))


def _dataclass_of(target: str) -> type | None:
    from hydra.utils import get_class

    try:
        cls = get_class(target)
    except Exception:  # noqa: BLE001 - not importable here: verl reports it where it instantiates
        return None
    return cls if dataclasses.is_dataclass(cls) else None


def verl_type_problems(cfg: DictConfig) -> list[ConfigProblem]:
    """Values that verl's config dataclasses would refuse to convert (a float `lr=fast`, an int `n=x`, ...)."""
    problems = []
    for path, node in _target_nodes(cfg):
        cls = _dataclass_of(node._get_node("_target_")._value())
        if cls is None:
            continue
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # noqa: BLE001 - a hint that does not resolve here: leave the node to verl
            continue
        for field in dataclasses.fields(cls):
            kind = _scalar_type(hints.get(field.name))
            child = node._get_node(field.name) if field.name in node else None
            if kind is None or child is None or child._is_interpolation() or child._is_missing():
                continue
            value = child._value()
            if value is None or OmegaConf.is_config(child):
                continue
            try:
                _NODES[kind](value=value)
            except OmegaConfBaseException:
                key = f"{path}.{field.name}"
                example = f", e.g. {key}={BOUNDS[key][3]}" if key in BOUNDS else ""
                problems.append(
                    ConfigProblem(
                        f"not {_KIND[kind]} (verl's {cls.__name__}.{field.name} is {kind.__name__})",
                        at(key, value),
                        f"pass {_KIND[kind]}{example}",
                    )
                )
    return problems


def verl_validation_problems(cfg: DictConfig) -> list[ConfigProblem]:
    """verl's own start-up checks: `validate_config` (actor, batch geometry), the rollout and critic dataclasses."""
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import omega_conf_to_dataclass, validate_config

    with warnings.catch_warnings():  # "Disabled critic as algorithm.adv_estimator != gae": GRPO has none
        warnings.simplefilter("ignore")
        critic = need_critic(cfg)
    checks: list[tuple[str, Callable[[], Any]]] = [
        ("actor_rollout_ref.rollout", lambda: omega_conf_to_dataclass(cfg.actor_rollout_ref.rollout)),
        ("validate_config", lambda: validate_config(cfg, need_reference_policy(cfg), critic)),
    ]
    if critic:
        checks.insert(1, ("critic", lambda: omega_conf_to_dataclass(cfg.critic)))
    for where, check in checks:
        said = io.StringIO()
        try:
            with contextlib.redirect_stdout(said):  # verl prints its notices; "[validate_config] ... passed" is noise
                check()
        except Exception as exc:  # noqa: BLE001 - verl raises ValueError, AssertionError, TypeError, ...
            message = " ".join(str(exc).split()) or type(exc).__name__
            fix = "change the values it names"
            return [ConfigProblem(f"verl rejects the config: {message}", f"verl's {where}", fix)]
        finally:
            notices = [line for line in said.getvalue().splitlines() if not line.startswith("[validate_config]")]
            if notices:
                print("\n".join(notices))
    return []


# ------------------------------------------------------------------------------------------------ ours


def _convert(kind: type, value: Any) -> Any:
    return _NODES[kind](value=value)._value()


def bound_problems(cfg: DictConfig, skip: Iterable[str] = ()) -> list[ConfigProblem]:
    """The types and ranges of `BOUNDS` (a batch size of -8, zero samples per prompt, a learning rate of 0)."""
    problems, skip = [], set(skip)
    for key, (kind, low, inclusive, example) in BOUNDS.items():
        value = OmegaConf.select(cfg, key, default=None, throw_on_resolution_failure=False)
        if value is None or key in skip:
            continue
        try:
            number = _convert(kind, value)
        except OmegaConfBaseException:
            fix = f"pass {_KIND[kind]}, e.g. {key}={example}"
            problems.append(ConfigProblem(f"not {_KIND[kind]}", at(key, value), fix))
            continue
        if isinstance(value, bool) or number < low or (number == low and not inclusive):
            bound = f"at least {low}" if inclusive else f"above {low}"
            fix = f"pass a value {bound}, e.g. {key}={example}"
            problems.append(ConfigProblem(f"out of range: must be {bound}", at(key, value), fix))
    n_gpus = _safe_int(cfg, "trainer.n_gpus_per_node") * _safe_int(cfg, "trainer.nnodes")
    tp = _safe_int(cfg, "actor_rollout_ref.rollout.tensor_model_parallel_size")
    if n_gpus > 0 and tp > 0 and n_gpus % tp:
        divisors = [str(d) for d in range(1, n_gpus + 1) if n_gpus % d == 0]
        problems.append(
            ConfigProblem(
                f"tensor parallelism {tp} does not divide the {n_gpus} GPUs: {n_gpus % tp} would idle",
                at("actor_rollout_ref.rollout.tensor_model_parallel_size", tp),
                f"use one of {', '.join(divisors)}",
            )
        )
    return problems


def _safe_int(cfg: DictConfig, key: str) -> int:
    value = OmegaConf.select(cfg, key, default=None, throw_on_resolution_failure=False)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def logger_problems(cfg: DictConfig) -> list[ConfigProblem]:
    """trainer.logger names verl's tracking backends (verl raises on an unknown one only after the workers start)."""
    from verl.utils.tracking import Tracking

    value = OmegaConf.select(cfg, "trainer.logger", default=None)
    names = [value] if isinstance(value, str) else list(value or [])
    known = list(Tracking.supported_backend)
    problems = []
    for name in names:
        if name in known:
            continue
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        problems.append(
            ConfigProblem(f"unknown logger '{name}'", at("trainer.logger", value), f"{hint}use {', '.join(known)}")
        )
    return problems


def data_file_problems(
    cfg: DictConfig, promised: Iterable[str] = (), placeholders_ok: bool = False, skip: Iterable[str] = ()
) -> list[ConfigProblem]:
    """The parquet files a run reads exist (or an earlier stage of the schedule makes them: `promised`)."""
    promised = [p.rstrip("/") for p in promised]
    problems = []
    for key in DATA_FILES:
        value = OmegaConf.select(cfg, key, default=None)
        if value is None or key in skip:
            continue
        for path in [value] if isinstance(value, str) else list(value):
            path = str(path)
            if "://" in path or (placeholders_ok and is_unset(path)):
                continue
            if any(path == p or path.startswith(p + "/") for p in promised):
                continue
            if not Path(path).expanduser().is_file():
                where = "is not a file" if Path(path).expanduser().exists() else "does not exist"
                problems.append(
                    ConfigProblem(f"the data file {path} {where}", at(key, value), "build it first or fix the path")
                )
    return problems


def _parquet_rows(paths: list[str]) -> int | None:
    """Rows of these parquet files, from their footers; None when one is not a readable local parquet file."""
    import pyarrow.parquet as pq

    rows = 0
    for path in paths:
        try:
            rows += pq.ParquetFile(Path(path).expanduser()).metadata.num_rows
        except Exception:  # noqa: BLE001 - missing or unreadable: data_file_problems (or the loader) names it
            return None
    return rows


def batch_size_problems(cfg: DictConfig) -> list[ConfigProblem]:
    """A train batch larger than the train rows gives verl's dataloader (drop_last) no batch at all: "Total training
    steps: 0", then a ZeroDivisionError inside `fit` after the workers started. The same for a set val batch size."""
    problems = []
    for files_key, batch_key in (
        ("data.train_files", "data.train_batch_size"),
        ("data.val_files", "data.val_batch_size"),
    ):
        files, batch = OmegaConf.select(cfg, files_key, default=None), OmegaConf.select(cfg, batch_key, default=None)
        if files is None or not isinstance(batch, int) or isinstance(batch, bool):
            continue
        paths = [str(files)] if isinstance(files, str) else [str(f) for f in files]
        rows = None if any("://" in p for p in paths) else _parquet_rows(paths)  # remote files: not counted
        if rows is not None and batch > rows:
            problems.append(
                ConfigProblem(
                    f"{batch_key} {batch} is larger than the {rows} rows of {files_key}: not one batch to train on",
                    at(batch_key, batch),
                    f"set {batch_key} <= {rows}, or build more rows",
                )
            )
    return problems


# ------------------------------------------------------------------------------------------------ keys verl reads late


def placeholder_problems(cfg: DictConfig) -> list[ConfigProblem]:
    """Required keys still holding verl's placeholder (the value in verl's generated ppo_trainer config)."""
    import verl.trainer.config as verl_config

    defaults = OmegaConf.load(Path(verl_config.__file__).parent / "_generated_ppo_trainer.yaml")
    problems = []
    for key in REQUIRED_KEYS:
        value = OmegaConf.select(cfg, key, default=None)
        if value is not None and value == OmegaConf.select(defaults, key, default=None):
            problems.append(ConfigProblem(f"{key}={value} is verl's example placeholder -> pass {key}=<yours>"))
    return problems


def agent_loop_problems(cfg: DictConfig) -> list[ConfigProblem]:
    """An agent-loop yaml verl would look for only inside its agent-loop workers, after the model is loaded."""
    path = OmegaConf.select(cfg, "actor_rollout_ref.rollout.agent.agent_loop_config_path", default=None)
    if path and not Path(path).is_file():
        return [
            ConfigProblem(
                f"actor_rollout_ref.rollout.agent.agent_loop_config_path={path} is not a file (relative paths are "
                f"read from the working directory, now {Path.cwd()}); pass an absolute path, "
                f"e.g. {CONFIG_DIR / 'agent_loop.yaml'}"
            )
        ]
    return []


def recipe_problems(cfg: DictConfig) -> list[ConfigProblem]:
    """Keys verl 0.9.1's main_ppo would ignore or reject only after start-up: verl's placeholder paths, legacy reward
    keys, our reward manager's settings, the agent-loop yaml, and what the CPU backend cannot run."""
    from recipe.rwml.cpu.checks import check_rollout_platform

    return [
        *placeholder_problems(cfg),
        *legacy_key_problems(cfg),
        *reward_setting_problems(cfg),
        *agent_loop_problems(cfg),
        *(ConfigProblem(error) for error in check_rollout_platform(cfg)),
    ]


# ------------------------------------------------------------------------------------------------ all of them


def _keys_named(problems: Iterable[ConfigProblem]) -> set[str]:
    named = set()
    for problem in problems:
        text = problem.where or problem.what
        named.add(text.split(" = ", 1)[0].split("=", 1)[0].strip())
    return named


def config_problems(
    cfg: DictConfig,
    *,
    promised: Iterable[str] = (),
    placeholders_ok: bool = False,
    check_endpoints: bool = True,
) -> list[ConfigProblem]:
    """Every problem of a composed stage config that would otherwise surface only after GPUs are allocated.

    `promised`: paths an earlier stage of the schedule makes (not required to exist yet); `placeholders_ok`:
    values `UNSET_<NAME>` pass (the schedule's preflight names those settings itself); `check_endpoints`: ask the
    embedding endpoint (GET /models).
    """
    recipe = recipe_problems(cfg)
    types_ = verl_type_problems(cfg)
    bounds = bound_problems(cfg, skip=_keys_named(types_))
    problems = [*recipe, *types_, *bounds, *logger_problems(cfg)]
    problems += data_file_problems(cfg, promised, placeholders_ok, skip=_keys_named(recipe))
    if not bounds:
        problems += batch_size_problems(cfg)
    problems += embedder_problems(cfg, placeholders_ok, check_endpoints)
    problems += judge_problems(cfg, placeholders_ok, check_endpoints)
    if not types_ and not bounds:  # verl's own checks assume the types are right
        problems += verl_validation_problems(cfg)
    return problems


def check_all(cfg: DictConfig, **kwargs: Any) -> None:
    """Raise ConfigCheckError (one line per problem) when `config_problems` finds any; quiet otherwise."""
    problems = config_problems(cfg, **kwargs)
    if problems:
        raise ConfigCheckError(problems)

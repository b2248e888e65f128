"""The evaluation's episodes: which suites and tasks, one job per (task, run), played on the env worker pool."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from data_prep.episode_store import EpisodeStore, iter_episode_dicts
from data_prep.policies import openai_spec
from data_prep.rollout import run_episode_job
from envs.base import EnvError, TaskSpec
from envs.registry import list_tasks, spread_tasks
from envs.user_sim_args import tau2_env_kwargs
from recipe.rwml.evaluate.errors import EvalError

REPO_ROOT = Path(__file__).resolve().parents[3]


def eval_episode_job(job: dict[str, Any], cache: dict[str, Any]) -> dict[str, Any]:
    """Pool job: play one (task, run) with collection's episode runner; envs and policies are built once per worker."""
    ep = run_episode_job({**job, "episode_index": job["run"]}, cache)
    ep["episode_id"] = job["episode_id"]
    ep["suite"] = job["suite"]
    ep["run"] = job["run"]
    return ep


# how the pool's workers find eval_episode_job
EVAL_JOB = f"{eval_episode_job.__module__}:{eval_episode_job.__qualname__}"


# ----------------------------------------------------------------------------------------------- planning


def suites_for(args: argparse.Namespace) -> list[tuple[str, str, str | None, str]]:
    """(suite name, env, tau2 domain, split) for every requested suite."""
    envs = args.envs or {"expert": ["alfworld"], "random": ["alfworld"], "gold": ["tau2"]}.get(
        args.policy, ["alfworld", "tau2"]
    )
    out: list[tuple[str, str, str | None, str]] = []
    if "alfworld" in envs:
        out += [(f"alfworld/{s}", "alfworld", None, s) for s in args.alfworld_splits]
    if "tau2" in envs:
        out += [(f"tau2/{d}", "tau2", d, args.tau2_split) for d in args.tau2_domains]
    return out


def plan_tasks(args: argparse.Namespace) -> dict[str, list[TaskSpec]]:
    """The tasks of each suite; a missing split is skipped with a warning unless no suite has tasks."""
    planned: dict[str, list[TaskSpec]] = {}
    problems: list[str] = []
    for suite, env, domain, split in suites_for(args):
        try:
            tasks = list_tasks(env, split, data_root=args.data_root, domain=domain)
        except EnvError as err:
            problems.append(f"{suite}: {err}")
            continue
        if not tasks:
            problems.append(f"{suite}: no tasks in split {split!r}")
            continue
        try:
            planned[suite] = spread_tasks(tasks, args.max_tasks, seed=args.seed)
        except EnvError as err:
            raise EvalError(str(err)) from err
    if not planned:
        raise EvalError(f"no requested suite has tasks ({'; '.join(problems)}); check --data-root and the suites")
    for p in problems:
        warnings.warn(f"skipping {p}", stacklevel=1)
        print(f"warning: skipping {p}", file=sys.stderr)
    return planned


def policy_spec(args: argparse.Namespace, env: str) -> dict[str, Any]:
    """The `data_prep.policies.make_policy` spec of the evaluated policy in `env`."""
    if args.policy == "expert":
        return {"name": "expert", "epsilon": 0.0, "source": args.expert_source}
    if args.policy == "gold":
        return {"name": "gold", "epsilon": 0.0}
    if args.policy == "random":
        return {"name": "random"}
    return openai_spec(args, args.alfworld_history if env == "alfworld" else args.tau2_history)


def env_kwargs(args: argparse.Namespace, env: str) -> dict[str, Any]:
    """Keyword arguments of `make_env(env, ...)`: for tau2, what collection gives it too (`tau2_env_kwargs`)."""
    if env == "alfworld":
        return {}  # the game files come with the tasks (TaskSpec.kwargs)
    return tau2_env_kwargs(args, args.policy)


def make_jobs(args: argparse.Namespace, planned: dict[str, list[TaskSpec]]) -> list[dict[str, Any]]:
    """One pool job per (suite, task, run)."""
    jobs = []
    for suite, tasks in planned.items():
        for task in tasks:
            for run in range(args.runs):
                jobs.append(
                    {
                        "episode_id": f"{suite}/{task.task_id}/{run}",
                        "suite": suite,
                        "task": task.to_dict(),
                        "run": run,
                        "max_steps": args.max_steps,
                        "policy": policy_spec(args, task.env),
                        "env_kwargs": env_kwargs(args, task.env),
                        "seed": args.seed,
                    }
                )
    return jobs


# ----------------------------------------------------------------------------------------------- running


def run_episodes(args: argparse.Namespace, jobs: list[dict[str, Any]], store: EpisodeStore) -> None:
    """Play the jobs `store` does not hold yet, appending each episode as it finishes."""
    from tqdm import tqdm

    from envs.pool import EnvWorkerPool

    todo = [j for j in jobs if j["episode_id"] not in store.done]
    print(f"{len(jobs)} episodes planned, {len(jobs) - len(todo)} already in {store.path}, {len(todo)} to run")
    if not todo:
        return
    pythonpath = os.pathsep.join(p for p in [str(REPO_ROOT), os.getcwd(), os.environ.get("PYTHONPATH")] if p)
    with EnvWorkerPool(
        EVAL_JOB,
        num_workers=min(args.workers, len(todo)),
        worker_env={"PYTHONPATH": pythonpath},
    ) as pool:
        wins = 0
        with tqdm(total=len(todo), desc="episodes", unit="ep") as bar:  # closed before an error line
            for n, (_job, episode) in enumerate(pool.run(todo), start=1):
                store.append(episode)
                wins += bool(episode["success"])
                bar.update(1)
                bar.set_postfix(success=f"{wins / n:.0%}")


def load_episodes(path: Path, wanted: Iterable[str]) -> list[dict[str, Any]]:
    """The episodes in `path` whose ids are in `wanted`."""
    wanted = set(wanted)
    return [d for _, d in iter_episode_dicts(path) if d["episode_id"] in wanted]

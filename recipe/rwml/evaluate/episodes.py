"""The evaluation's episodes: which suites and tasks, one job per (task, run), played on the env worker pool.

`EpisodeSettings` holds what they depend on, typed (`recipe.rwml.evaluate.cli` builds it from its flags); who plays
each env comes from `data_prep.episode_spec`, the function collection builds its episodes with too.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_prep.episode_spec import PolicySettings, episode_spec
from data_prep.episode_store import EpisodeStore, iter_episode_dicts
from data_prep.play_episode import run_episode_job
from envs.base import EnvError, TaskSpec
from envs.registry import list_tasks, spread_tasks
from envs.user_sim_args import UserSimFlags
from recipe.rwml.evaluate.errors import EvalError

REPO_ROOT = Path(__file__).resolve().parents[3]
ALFWORLD_SPLITS = ("valid_seen", "valid_unseen")
TAU2_DOMAINS = ("retail", "telecom", "airline")


@dataclass(frozen=True)
class EpisodeSettings:
    """What the evaluation's episodes depend on: the suites, their tasks, the runs, and who plays."""

    policy: PolicySettings
    user: UserSimFlags
    envs: tuple[str, ...] = ()  # empty: alfworld for expert/random, tau2 for gold, both for openai
    alfworld_splits: tuple[str, ...] = ALFWORLD_SPLITS
    tau2_domains: tuple[str, ...] = TAU2_DOMAINS
    tau2_split: str = "test"
    data_root: str | None = None  # ALFWorld's data root (None: $ALFWORLD_DATA)
    max_tasks: int | None = None  # per suite, spread over task types
    runs: int = 3  # episodes per task
    max_steps: int = 30
    workers: int = 2  # env workers; 0 runs in this process
    seed: int = 0


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


def suites_for(settings: EpisodeSettings) -> list[tuple[str, str, str | None, str]]:
    """(suite name, env, tau2 domain, split) for every requested suite."""
    envs = settings.envs or {"expert": ["alfworld"], "random": ["alfworld"], "gold": ["tau2"]}.get(
        settings.policy.name, ["alfworld", "tau2"]
    )
    out: list[tuple[str, str, str | None, str]] = []
    if "alfworld" in envs:
        out += [(f"alfworld/{s}", "alfworld", None, s) for s in settings.alfworld_splits]
    if "tau2" in envs:
        out += [(f"tau2/{d}", "tau2", d, settings.tau2_split) for d in settings.tau2_domains]
    return out


def plan_tasks(settings: EpisodeSettings) -> dict[str, list[TaskSpec]]:
    """The tasks of each suite; a missing split is skipped with a warning unless no suite has tasks."""
    planned: dict[str, list[TaskSpec]] = {}
    problems: list[str] = []
    for suite, env, domain, split in suites_for(settings):
        try:
            tasks = list_tasks(env, split, data_root=settings.data_root, domain=domain)
        except EnvError as err:
            problems.append(f"{suite}: {err}")
            continue
        if not tasks:
            problems.append(f"{suite}: no tasks in split {split!r}")
            continue
        try:
            planned[suite] = spread_tasks(tasks, settings.max_tasks, seed=settings.seed)
        except EnvError as err:
            raise EvalError(str(err)) from err
    if not planned:
        raise EvalError(f"no requested suite has tasks ({'; '.join(problems)}); check --data-root and the suites")
    for p in problems:
        warnings.warn(f"skipping {p}", stacklevel=1)
        print(f"warning: skipping {p}", file=sys.stderr)
    return planned


def make_jobs(settings: EpisodeSettings, planned: dict[str, list[TaskSpec]]) -> list[dict[str, Any]]:
    """One pool job per (suite, task, run), its policy and env built as collection builds them."""
    jobs = []
    for suite, tasks in planned.items():
        for task in tasks:
            spec = episode_spec(task.env, settings.policy, settings.user)
            for run in range(settings.runs):
                jobs.append(
                    {
                        "episode_id": f"{suite}/{task.task_id}/{run}",
                        "suite": suite,
                        "task": task.to_dict(),
                        "run": run,
                        "max_steps": settings.max_steps,
                        "policy": spec.policy,
                        "env_kwargs": spec.env_kwargs,
                        "seed": settings.seed,
                    }
                )
    return jobs


# ----------------------------------------------------------------------------------------------- running


def run_episodes(settings: EpisodeSettings, jobs: list[dict[str, Any]], store: EpisodeStore) -> None:
    """Play the jobs `store` does not hold yet, appending each episode as it finishes."""
    from tqdm import tqdm

    from envs.ray_workers import EnvWorkerPool

    todo = [j for j in jobs if j["episode_id"] not in store.done]
    print(f"{len(jobs)} episodes planned, {len(jobs) - len(todo)} already in {store.path}, {len(todo)} to run")
    if not todo:
        return
    pythonpath = os.pathsep.join(p for p in [str(REPO_ROOT), os.getcwd(), os.environ.get("PYTHONPATH")] if p)
    with EnvWorkerPool(
        EVAL_JOB,
        num_workers=min(settings.workers, len(todo)),
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

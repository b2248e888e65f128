"""A pool of environment workers as Ray actors: the same code on a laptop or a Ray cluster.

Jobs are plain dicts run by a job function named by import path ("module:function"), so the pool knows
nothing about episodes. A worker keeps its environments alive between jobs (ALFWorld resets are much
cheaper on a warm env). When a worker process dies, Ray restarts the actor and the pool resubmits the job
to it; a job is only given up after `max_retries` deaths, and then the pool raises -- a job is never
silently dropped. `num_workers=0` runs jobs in this process, without Ray (debugging, tiny runs).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

logger = logging.getLogger(__name__)

JobFn = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


class WorkerLostError(RuntimeError):
    """A job killed its worker more times than the pool retries."""


def load_job_fn(path: str) -> JobFn:
    """Resolve "package.module:function"."""
    module_name, _, fn_name = path.partition(":")
    if not fn_name:
        raise ValueError(f"job function must look like 'module:function', got {path!r}")
    return getattr(importlib.import_module(module_name), fn_name)


class _LocalRunner:
    """Runs jobs in-process; `cache` is the per-worker state the job function may keep (envs, clients)."""

    def __init__(self, job_fn_path: str) -> None:
        self.job_fn = load_job_fn(job_fn_path)
        self.cache: dict[str, Any] = {}

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        return self.job_fn(job, self.cache)

    def pid(self) -> int:
        return os.getpid()


class EnvWorkerPool:
    """Run jobs on `num_workers` Ray actors (restarted on death) and yield results as they finish."""

    def __init__(
        self,
        job_fn: str,
        num_workers: int = 2,
        *,
        max_retries: int = 3,
        cpus_per_worker: float = 1.0,
        ray_address: str | None = None,
        worker_env: dict[str, str] | None = None,
    ) -> None:
        self.job_fn = job_fn
        self.num_workers = num_workers
        self.max_retries = max_retries
        self.restarts = 0
        self._workers: list[Any] = []
        if num_workers <= 0:
            self._local = _LocalRunner(job_fn)
            return
        self._local = None
        import ray

        if not ray.is_initialized():
            address = ray_address or os.environ.get("RAY_ADDRESS")
            init_kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": True}
            if address:
                init_kwargs["address"] = address
            else:
                init_kwargs["num_cpus"] = max(os.cpu_count() or 1, int(num_workers * cpus_per_worker + 0.999))
            # The driver's cwd holds the project; workers import the job function from it.
            env_vars = {"PYTHONPATH": os.pathsep.join(p for p in [os.getcwd(), os.environ.get("PYTHONPATH")] if p)}
            env_vars.update(worker_env or {})
            init_kwargs["runtime_env"] = {"env_vars": env_vars}
            ray.init(**init_kwargs)
        actor_cls = ray.remote(max_restarts=-1, max_task_retries=0, num_cpus=cpus_per_worker)(_LocalRunner)
        self._workers = [actor_cls.remote(job_fn) for _ in range(num_workers)]

    def run(self, jobs: Iterable[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Yield `(job, result)` pairs in completion order."""
        if self._local is not None:
            for job in jobs:
                yield job, self._local.run(job)
            return

        import ray
        from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError

        pending = iter(jobs)
        in_flight: dict[Any, tuple[int, dict[str, Any], int]] = {}  # ref -> (worker index, job, attempt)
        idle = list(range(len(self._workers)))

        def submit(worker: int, job: dict[str, Any], attempt: int) -> None:
            in_flight[self._workers[worker].run.remote(job)] = (worker, job, attempt)

        for w in list(idle):
            job = next(pending, None)
            if job is None:
                break
            idle.remove(w)
            submit(w, job, 0)

        while in_flight:
            done, _ = ray.wait(list(in_flight), num_returns=1)
            ref = done[0]
            worker, job, attempt = in_flight.pop(ref)
            try:
                result = ray.get(ref)
            except (RayActorError, ActorDiedError, ActorUnavailableError) as err:
                self.restarts += 1
                if attempt >= self.max_retries:
                    raise WorkerLostError(
                        f"worker {worker} died {attempt + 1} times running job {_job_name(job)}; giving up"
                    ) from err
                logger.warning(
                    "worker %d died running %s (%s); retrying on the restarted worker",
                    worker,
                    _job_name(job),
                    type(err).__name__,
                )
                submit(worker, job, attempt + 1)
                continue
            yield job, result
            nxt = next(pending, None)
            if nxt is not None:
                submit(worker, nxt, 0)

    def _wait_restarted(self, worker: int, timeout_s: float = 120.0) -> None:
        """Block until Ray has brought the actor back (it answers `pid`), so the retry is not lost too."""
        import time

        import ray
        from ray.exceptions import ActorUnavailableError, GetTimeoutError

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                ray.get(self._workers[worker].pid.remote(), timeout=10)
                return
            except (ActorUnavailableError, GetTimeoutError):
                if time.monotonic() > deadline:
                    raise WorkerLostError(f"worker {worker} did not come back within {timeout_s:.0f} s") from None
                time.sleep(0.5)

    def close(self) -> None:
        if self._workers:
            import ray

            for w in self._workers:
                ray.kill(w, no_restart=True)
            self._workers = []

    def __enter__(self) -> EnvWorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _job_name(job: dict[str, Any]) -> str:
    return str(job.get("name") or job.get("episode_id") or sorted(job)[:3])

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


RAY_ADDRESS_PROBE_S = 5.0  # an unreachable RAY_ADDRESS is reported after this long instead of hanging in ray.init
FEWER_WORKERS = "--workers 0 runs without Ray"


class PoolError(RuntimeError):
    """The pool cannot run the jobs; the message says what failed and what to do, on one line."""


class WorkerLostError(PoolError):
    """A job killed its worker more times than the pool retries."""


class RayStartError(PoolError):
    """Ray could not be started or reached (RAY_ADDRESS pointing at nothing, a node start-up that timed out)."""


def check_ray_address(address: str, timeout_s: float = RAY_ADDRESS_PROBE_S) -> None:
    """Raise RayStartError unless something listens at `address` ("host:port" or "ray://host:port").

    `ray.init(address=...)` retries an unreachable address for minutes; a TCP connect answers in seconds.
    "auto" and "local" are left to Ray, which answers those quickly.
    """
    import socket

    if address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    if "://" not in address:  # Ray connects to the node's IP for "localhost" / "127.0.0.1": probe what it will use
        try:
            from ray._private.services import canonicalize_bootstrap_address

            hostport = canonicalize_bootstrap_address(address) or hostport
        except Exception:  # noqa: BLE001 - a private helper; the literal address is a fine fallback
            pass
    host, _, port = hostport.rpartition(":")
    fix = f"start the cluster (`ray start --head`), fix RAY_ADDRESS, or unset it to start a local Ray; {FEWER_WORKERS}"
    if not host or not port.isdigit():
        raise RayStartError(f"error: RAY_ADDRESS={address!r} is not host:port, RAY_ADDRESS, {fix}")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as err:
        raise RayStartError(f"error: no Ray cluster answers at {address} ({err}), RAY_ADDRESS, {fix}") from err


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
            if address:
                check_ray_address(address)
            try:
                ray.init(**init_kwargs)
            except Exception as err:  # noqa: BLE001 - Ray raises bare Exception (node start-up timed out), OSError, ...
                ray.shutdown()
                where = f"RAY_ADDRESS={address}" if address else "the local Ray node"
                first = (str(err).strip() or type(err).__name__).splitlines()[0]
                raise RayStartError(
                    f"error: Ray did not start ({first}), {where}, use fewer --workers, check the machine's load "
                    f"(a busy machine can time out Ray's start-up), or point RAY_ADDRESS at a running cluster; "
                    f"{FEWER_WORKERS}"
                ) from err
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
                        f"error: job {_job_name(job)} keeps killing its env worker (worker {worker} died "
                        f"{attempt + 1} times running it: out of memory, or a crash inside the env), "
                        f"{self.job_fn}, finished results are kept: check memory (`dmesg`, fewer --workers) and "
                        "rerun the same command, or leave that task out"
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

"""The Ray env-worker pool: results for every job, and a dead worker's job retried, never dropped."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from envs.ray_workers import EnvWorkerPool, WorkerLostError


def square_job(job: dict[str, Any], cache: dict[str, Any]) -> dict[str, Any]:
    cache["calls"] = cache.get("calls", 0) + 1
    return {"x": job["x"] ** 2, "pid": os.getpid(), "calls": cache["calls"]}


def die_once_job(job: dict[str, Any], cache: dict[str, Any]) -> dict[str, Any]:
    """Kills its worker process the first time it sees job `die`, then succeeds."""
    marker = Path(job["marker"])
    if job.get("die") and not marker.exists():
        marker.write_text("died")
        os._exit(1)
    return {"x": job["x"], "pid": os.getpid()}


def always_die_job(job: dict[str, Any], cache: dict[str, Any]) -> dict[str, Any]:
    os._exit(1)


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray")
    yield ray
    ray.shutdown()


def test_local_pool_runs_every_job_and_keeps_worker_state():
    pool = EnvWorkerPool("tests.test_ray_workers:square_job", num_workers=0)
    results = [r for _, r in pool.run({"x": i} for i in range(5))]
    assert sorted(r["x"] for r in results) == [0, 1, 4, 9, 16]
    assert [r["calls"] for r in results] == [1, 2, 3, 4, 5]  # one cache for the in-process worker


def test_ray_pool_runs_on_two_workers_and_retries_a_dead_one(ray_session, tmp_path):
    jobs = [{"name": f"j{i}", "x": i, "marker": str(tmp_path / "died"), "die": i == 3} for i in range(6)]
    with EnvWorkerPool("tests.test_ray_workers:die_once_job", num_workers=2, cpus_per_worker=0.5) as pool:
        results = {job["x"]: r for job, r in pool.run(jobs)}
        # Ray may report one death more than once while the actor comes back; each report is retried.
        assert pool.restarts >= 1
    assert sorted(results) == list(range(6))  # the job that killed its worker was retried and finished
    assert (tmp_path / "died").read_text() == "died"
    assert len({r["pid"] for r in results.values()}) >= 2


def test_ray_pool_gives_up_loudly_after_max_retries(ray_session):
    with EnvWorkerPool(
        "tests.test_ray_workers:always_die_job", num_workers=1, max_retries=1, cpus_per_worker=0.5
    ) as pool:
        with pytest.raises(WorkerLostError, match="died 2 times"):
            list(pool.run([{"name": "doomed"}]))

"""Env workers of the stage-2 agent loop: process-wide threads for env calls and a pool of idle envs.

verl runs many trajectories concurrently on one event loop per agent-loop worker; env calls block (TextWorld,
tau2's user simulator), so they run in these threads, and an env is reused by the next trajectory once released.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from envs.base import TextEnv
from envs.registry import make_env

logger = logging.getLogger(__name__)

# Envs whose calls must not overlap across threads: TextWorld's PDDL backend (ALFWorld) parses game files and
# generates feedback text with module-global tatsu parsers, which break when two threads use them at once. Their
# calls take turns within one agent-loop worker; verl's agent-loop workers (rollout.agent.num_workers, separate
# processes) still run in parallel.
SERIAL_ENVS = frozenset({"alfworld"})


class EnvWorkers:
    """Process-wide threads for env calls and a pool of idle envs, reused across trajectories.

    Each env copy is used by one trajectory at a time. Envs in SERIAL_ENVS share one lock per env kind.
    """

    _lock = threading.Lock()
    _serial: dict[str, threading.Lock] = {name: threading.Lock() for name in SERIAL_ENVS}
    _executor: ThreadPoolExecutor | None = None
    _idle: dict[str, list[TextEnv]] = defaultdict(list)

    @classmethod
    def executor(cls, threads: int) -> ThreadPoolExecutor:
        with cls._lock:
            if cls._executor is None:
                cls._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rwml-env")
            return cls._executor

    @classmethod
    def call(cls, name: str, fn: Any, *args: Any) -> Any:
        """`fn(*args)`, taking the env kind's lock when its envs are not thread-safe."""
        lock = cls._serial.get(name)
        if lock is None:
            return fn(*args)
        with lock:
            return fn(*args)

    @classmethod
    def acquire(cls, name: str, kwargs: dict[str, Any]) -> TextEnv:
        key = _env_key(name, kwargs)
        with cls._lock:
            if cls._idle[key]:
                return cls._idle[key].pop()
        return make_env(name, **kwargs)

    @classmethod
    def release(cls, name: str, kwargs: dict[str, Any], env: TextEnv, *, healthy: bool) -> None:
        if not healthy:
            try:
                cls.call(name, env.close)
            except Exception:  # noqa: BLE001 - a broken env is dropped either way
                logger.warning("closing a failed %s env raised", name, exc_info=True)
            return
        with cls._lock:
            cls._idle[_env_key(name, kwargs)].append(env)


def _env_key(name: str, kwargs: dict[str, Any]) -> str:
    return f"{name}:{json.dumps(kwargs, sort_keys=True, default=str)}"

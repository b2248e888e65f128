"""Coalesce concurrent embedding requests into batches; an LRU cache of embeddings by text.

verl awaits `run_single` once per sample with many calls in flight on one event loop. Each call hands its
texts to `MicroBatcher.embed`; requests are pooled until `max_batch` texts are waiting or the first has
waited `max_wait_s`, then embedded in one call on a worker thread (the event loop stays free to pool the
next batch meanwhile). An embedding failure is raised in every request of the batch.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np


class EmbeddingCache:
    """A thread-safe LRU map text -> embedding row."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            row = self._items.get(key)
            if row is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return row

    def put(self, key: str, row: np.ndarray) -> None:
        if self.max_items <= 0:
            return
        with self._lock:
            self._items[key] = row
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


EmbedFn = Callable[[list[str]], np.ndarray]


class MicroBatcher:
    """Pools `embed(texts)` calls from concurrent coroutines into calls of `fn` on a thread.

    Bound to the event loop it is first used on; `fn(texts)` returns one row per text.
    """

    def __init__(self, fn: EmbedFn, max_batch: int, max_wait_s: float, max_concurrent: int = 1) -> None:
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self._pending: list[tuple[list[str], asyncio.Future[np.ndarray]]] = []
        self._pending_texts = 0
        self._timer: asyncio.TimerHandle | None = None
        self._slots = asyncio.Semaphore(max_concurrent)
        self._executor = ThreadPoolExecutor(max_workers=max_concurrent, thread_name_prefix="reward-embed")
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batch_sizes: list[int] = []  # texts per fn call, for tests and benchmarks

    async def embed(self, texts: list[str]) -> np.ndarray:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError("MicroBatcher used from two event loops; build one per loop")
        fut: asyncio.Future[np.ndarray] = loop.create_future()
        self._pending.append((texts, fut))
        self._pending_texts += len(texts)
        if self._pending_texts >= self.max_batch:
            self._dispatch_full()
        if self._pending and self._timer is None:
            self._timer = loop.call_later(self.max_wait_s, self._on_timer)
        return await fut

    def _dispatch(self) -> None:
        """Send the oldest pending requests, up to max_batch texts (at least one request), to a worker."""
        take, n = 0, 0
        while take < len(self._pending) and (n == 0 or n + len(self._pending[take][0]) <= self.max_batch):
            n += len(self._pending[take][0])
            take += 1
        batch, self._pending = self._pending[:take], self._pending[take:]
        self._pending_texts -= n
        asyncio.ensure_future(self._run(batch))

    def _dispatch_full(self) -> None:
        while self._pending_texts >= self.max_batch:
            self._dispatch()
        if not self._pending and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        while self._pending:
            self._dispatch()

    async def _run(self, batch: list[tuple[list[str], asyncio.Future[np.ndarray]]]) -> None:
        texts = [t for req in batch for t in req[0]]
        async with self._slots:
            try:
                rows = await asyncio.get_running_loop().run_in_executor(self._executor, self.fn, texts)
            except BaseException as e:  # noqa: BLE001 - every waiting sample must see the failure
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(e)
                if not isinstance(e, Exception):
                    raise
                return
        self.batch_sizes.append(len(texts))
        at = 0
        for req_texts, fut in batch:
            if not fut.done():
                fut.set_result(rows[at : at + len(req_texts)])
            at += len(req_texts)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

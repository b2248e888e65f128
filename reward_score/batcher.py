"""Coalesce concurrent requests into batches run on a worker thread; an LRU cache of embeddings by text.

verl awaits `run_single` once per sample with many calls in flight on one event loop. Each call hands its
sample to `MicroBatcher.submit`, which only queues it: requests are pooled until `max_batch` units (the
scorer counts a sample as the two texts it may embed) are waiting or the first has waited `max_wait_s`, then
the whole batch goes to `fn` in one call on a worker thread -- the scorer decodes, parses, embeds and scores it
there, so the event loop stays free to pool the next batch meanwhile. A failure of `fn` is raised in every
request of the batch.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")
R = TypeVar("R")


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


class MicroBatcher(Generic[T, R]):
    """Pools `submit(item)` calls from concurrent coroutines into calls of `fn(items)` on a worker thread.

    Bound to the event loop it is first used on. `fn(items)` returns one result per item, in order; each item
    counts `weight(item)` units toward `max_batch` (1 unless given). At most `max_concurrent` calls of `fn`
    run at once; the next batch keeps pooling while they do.
    """

    def __init__(
        self,
        fn: Callable[[list[T]], Sequence[R]],
        max_batch: int,
        max_wait_s: float,
        max_concurrent: int = 1,
        weight: Callable[[T], int] | None = None,
    ) -> None:
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.weight = weight or (lambda _: 1)
        self._pending: list[tuple[T, int, asyncio.Future[R]]] = []
        self._pending_weight = 0
        self._timer: asyncio.TimerHandle | None = None
        self._slots = asyncio.Semaphore(max_concurrent)
        self._executor = ThreadPoolExecutor(max_workers=max_concurrent, thread_name_prefix="reward-batch")
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batch_sizes: list[int] = []  # items per fn call, for tests and benchmarks

    async def submit(self, item: T) -> R:
        """Queue `item` (nothing else runs on the event loop) and wait for its result from its batch's `fn` call."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError("MicroBatcher used from two event loops; build one per loop")
        fut: asyncio.Future[R] = loop.create_future()
        w = self.weight(item)
        self._pending.append((item, w, fut))
        self._pending_weight += w
        if self._pending_weight >= self.max_batch:
            self._dispatch_full()
        if self._pending and self._timer is None:
            self._timer = loop.call_later(self.max_wait_s, self._on_timer)
        return await fut

    def _dispatch(self) -> None:
        """Send the oldest pending requests, up to max_batch units (at least one request), to a worker."""
        take, n = 0, 0
        while take < len(self._pending) and (n == 0 or n + self._pending[take][1] <= self.max_batch):
            n += self._pending[take][1]
            take += 1
        batch, self._pending = self._pending[:take], self._pending[take:]
        self._pending_weight -= n
        asyncio.ensure_future(self._run(batch))

    def _dispatch_full(self) -> None:
        while self._pending_weight >= self.max_batch:
            self._dispatch()
        if not self._pending and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        while self._pending:
            self._dispatch()

    def _call(self, items: list[T]) -> list[R]:
        out = list(self.fn(items))
        if len(out) != len(items):
            raise RuntimeError(f"MicroBatcher: fn returned {len(out)} results for {len(items)} items")
        return out

    async def _run(self, batch: list[tuple[T, int, asyncio.Future[R]]]) -> None:
        items = [item for item, _, _ in batch]
        async with self._slots:
            try:
                results = await asyncio.get_running_loop().run_in_executor(self._executor, self._call, items)
            except BaseException as e:  # noqa: BLE001 - every waiting sample must see the failure
                for _, _, fut in batch:
                    if not fut.done():
                        fut.set_exception(e)
                if not isinstance(e, Exception):
                    raise
                return
        self.batch_sizes.append(len(items))
        for (_, _, fut), result in zip(batch, results, strict=True):
            if not fut.done():
                fut.set_result(result)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

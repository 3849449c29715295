"""Keeping Discord's order: one queue per channel, worked through one job at a time.

discord.py runs each event handler as its own task, so two messages that arrive back to back
can overtake each other at their first ``await``. A job is queued synchronously, before any
await, in the queue of its channel (a thread shares its parent's queue, so a thread never
starts before the message it grew from), and each queue runs its jobs strictly in order.

A job that fails is logged with its traceback the first time for its kind of failure (the
exception's type and where it was raised), at DEBUG after that: one odd payload that keeps
coming does not fill the log with the same traceback.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

log = logging.getLogger("bridge.relay.order")
Job = Callable[[], Awaitable[None]]


class ChannelQueues:
    def __init__(self) -> None:
        self._queues: dict[Hashable, deque[Job]] = {}
        self._workers: dict[Hashable, asyncio.Task] = {}
        self.failures: dict[tuple[str, str, int], int] = {}  # by kind: type, file, line

    def submit(self, key: Hashable, job: Job) -> None:
        """Queue ``job`` behind everything already queued for ``key``."""
        self._queues.setdefault(key, deque()).append(job)
        if key not in self._workers:
            self._workers[key] = asyncio.create_task(self._drain(key), name=f"relay-{key}")

    async def _drain(self, key: Hashable) -> None:
        queue = self._queues[key]
        try:
            while queue:
                job = queue.popleft()
                try:
                    await job()
                except Exception as error:
                    self._failed(key, error)
        finally:
            del self._workers[key]
            if not queue:
                del self._queues[key]

    def _failed(self, key: Hashable, error: Exception) -> None:
        frames = traceback.extract_tb(error.__traceback__)
        where = (frames[-1].filename, frames[-1].lineno or 0) if frames else ("", 0)
        kind = (type(error).__name__, *where)
        count = self.failures[kind] = self.failures.get(kind, 0) + 1
        if count == 1:
            log.error(
                "A relay job for channel %s failed (later failures like it are logged at DEBUG)",
                key,
                exc_info=error,
            )
        else:
            log.debug("A relay job for channel %s failed: %r", key, error, exc_info=error)

    async def idle(self) -> None:
        """Wait until every queued job has run (shutdown, tests)."""
        while self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def cancel(self) -> None:
        """Drop every queued job and cancel the running ones (shutdown, when they can never
        run: Discord never sent READY); returns once the workers have ended."""
        for queue in self._queues.values():
            queue.clear()
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

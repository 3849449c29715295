"""Pushing every stored event to the appservice, as a homeserver does (batched, in order)."""

from __future__ import annotations

import asyncio
import itertools
import time

from .state import BATCH, Store, log


class Pusher(Store):
    """The transactions (``PUT {url}/_matrix/app/v1/transactions/{txn}``), one in flight."""

    _in_flight = False

    async def drained(self, timeout: float = 30) -> None:
        """Wait until every stored event was pushed (and acknowledged)."""
        deadline = time.monotonic() + timeout
        while self.outbox or (self.push_task is not None and self._in_flight):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.outbox)} events not pushed")
            await asyncio.sleep(0.01)

    async def _push_forever(self) -> None:
        assert self.session is not None
        txn = itertools.count(1)
        delay = 0.05
        while True:
            if not self.outbox:
                self.outbox_ready.clear()
                await self.outbox_ready.wait()
            batch = self.outbox[:BATCH]
            number = next(txn)
            url = f"{self.as_url}/_matrix/app/v1/transactions/stub{number}"
            headers = {"Authorization": f"Bearer {self.hs_token}"}
            self._in_flight = True
            sent = time.monotonic()
            for event in batch:
                self.pushed_at.setdefault(event["event_id"], sent)
            while True:
                try:
                    async with self.session.put(
                        url, json={"events": batch}, headers=headers
                    ) as answer:
                        await answer.read()
                        if answer.status == 200:
                            break
                        log.debug("transaction %s: HTTP %s", number, answer.status)
                except (TimeoutError, OSError) as error:
                    log.debug("transaction %s: %s", number, error)
                self.stats_data.push_failures += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            delay = 0.05
            del self.outbox[: len(batch)]
            self._in_flight = False
            self.stats_data.transactions += 1
            self.stats_data.pushed_events += len(batch)

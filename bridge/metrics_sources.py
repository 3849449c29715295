"""Where the metrics that are not relay counts come from.

- Discord rate-limit waits: an :class:`aiohttp.TraceConfig` given to discord.py as the
  client's documented ``http_trace`` option. discord.py handles 429s inside its HTTP client
  (discord/http.py ``HTTPClient.request``; webhooks in discord/webhook/async_.py, which use the
  same client session when made with ``client=``) and offers no event for them; its warnings
  are log lines whose level the user's logging config may raise. The trace sees every answer
  whatever the logging config, so the waits are read from the answers' rate-limit headers.
- The gateway state: discord.py's ``connect``/``ready``/``resumed``/``disconnect`` events,
  seen by :class:`GatewayWatch` through ``BridgeDiscordClient.gateway_listeners``.
- Import progress: read from the running import jobs at scrape time (:class:`ImportCollector`).
- Ghosts and rooms: counted in the database at most every ``interval`` seconds, however often
  Prometheus scrapes (:class:`DatabaseCounts`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .metrics import PREFIX, BridgeMetrics

if TYPE_CHECKING:
    from mautrix.util.async_db import Database

    from .actions.admin.imports import ImportJob

log = logging.getLogger("bridge.metrics")


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def observe_ratelimit(metrics: BridgeMetrics, status: int, headers: Mapping[str, str]) -> None:
    """Count the wait an answer of Discord's API makes discord.py take, if any.

    A 429 that discord.py retries (it needs ``Via``, else it takes the answer for a Cloudflare
    ban and raises; discord/http.py) waits ``X-RateLimit-Reset-After`` seconds (the body's
    ``retry_after``; ``Retry-After`` rounds it up); cause ``global`` with
    ``X-RateLimit-Global``, else ``rate_limited``. Any other answer with
    ``X-RateLimit-Remaining: 0`` makes discord.py hold the bucket for ``Reset-After``
    seconds before its next request (``Ratelimit.__aexit__``): cause ``bucket_exhausted``.
    Discord's headers: https://discord.com/developers/docs/topics/rate-limits#header-format
    """
    reset_after = _seconds(headers.get("X-RateLimit-Reset-After"))
    if status == 429:
        if not headers.get("Via"):
            return
        waited = reset_after if reset_after is not None else _seconds(headers.get("Retry-After"))
        is_global = headers.get("X-RateLimit-Global", "").lower() == "true"
        cause = "global" if is_global else "rate_limited"
    elif headers.get("X-RateLimit-Remaining") == "0" and reset_after is not None:
        waited, cause = reset_after, "bucket_exhausted"
    else:
        return
    metrics.ratelimit_waits.labels(cause).inc()
    metrics.ratelimit_seconds.labels(cause).inc(max(waited or 0.0, 0.0))


def ratelimit_trace(metrics: BridgeMetrics) -> aiohttp.TraceConfig:
    """A trace for ``discord.Client(http_trace=...)`` that feeds :func:`observe_ratelimit`."""
    trace = aiohttp.TraceConfig()

    async def on_request_end(
        _session: aiohttp.ClientSession, _context: Any, params: aiohttp.TraceRequestEndParams
    ) -> None:
        observe_ratelimit(metrics, params.response.status, params.response.headers)

    trace.on_request_end.append(on_request_end)
    return trace


class GatewayWatch:
    """The Discord gateway's state from discord.py's events, into the metrics.

    ``ready``/``resumed`` → connected (a second READY or any RESUMED counts a reconnect);
    ``disconnect`` → resuming while discord.py reconnects, disconnected once the client is
    closed (discord/client.py ``Client.connect``).
    """

    def __init__(self, metrics: BridgeMetrics) -> None:
        self.metrics = metrics
        self.state = "disconnected"
        self._was_connected = False

    def observe(self, event: str, closed: bool) -> None:
        """One gateway event (``connect``, ``ready``, ``resumed``, ``disconnect``)."""
        if event in ("ready", "resumed"):
            if self._was_connected and self.state != "connected":
                self.metrics.gateway_reconnects.inc()
            self._set("connected")
            self._was_connected = True
        elif event == "disconnect":
            self._set("disconnected" if closed else "resuming")

    def closed(self) -> None:
        """The client was closed (the bridge stops)."""
        self._set("disconnected")

    def _set(self, state: str) -> None:
        if state != self.state:
            log.debug("Discord gateway: %s", state)
        self.state = state
        self.metrics.gateway_state.state(state)


class ImportCollector(Collector):
    """History imports of this process, read from their jobs when Prometheus scrapes."""

    def __init__(self, jobs: Callable[[], Iterable[ImportJob]]) -> None:
        self.jobs = jobs

    def describe(self) -> Iterable[Metric]:
        return list(self._families())

    def collect(self) -> Iterable[Metric]:
        return list(self._families(self.jobs()))

    @staticmethod
    def _families(jobs: Iterable[ImportJob] = ()) -> Iterator[Metric]:
        imported = CounterMetricFamily(
            PREFIX + "import_messages",
            "Messages sent into Matrix by history imports run in this process, by guild.",
            labels=["guild"],
        )
        running = GaugeMetricFamily(
            PREFIX + "import_jobs_running", "History imports running, by guild.", labels=["guild"]
        )
        handled = GaugeMetricFamily(
            PREFIX + "import_channel_handled_messages",
            "Messages a running import has gone through (sent, or found sent before), by "
            "guild and channel.",
            labels=["guild", "channel"],
        )
        expected = GaugeMetricFamily(
            PREFIX + "import_channel_expected_messages",
            "Messages in the history a running import goes through, by guild and channel, "
            "once counted.",
            labels=["guild", "channel"],
        )
        sent: dict[str, int] = {}
        runs: dict[str, int] = {}
        for job in jobs:
            guild = str(job.guild_id)
            channels = job.progress.channels
            sent[guild] = sent.get(guild, 0) + sum(entry.done for entry in channels.values())
            if job.state != "running":
                continue
            runs[guild] = runs.get(guild, 0) + 1
            for channel_id, entry in channels.items():
                handled.add_metric([guild, str(channel_id)], entry.handled)
                if entry.total is not None:
                    expected.add_metric([guild, str(channel_id)], entry.total)
        for guild, count in sent.items():
            imported.add_metric([guild], count)
            running.add_metric([guild], runs.get(guild, 0))
        yield from (imported, running, handled, expected)


COUNTS_QUERY = (
    "SELECT (SELECT COUNT(*) FROM puppet) AS ghosts,"
    " (SELECT COUNT(*) FROM portal WHERE room_id IS NOT NULL) AS portals,"
    " (SELECT COUNT(*) FROM guild WHERE space_room_id IS NOT NULL) AS spaces"
)


class DatabaseCounts(Collector):
    """Ghosts and rooms (portals, spaces) counted in the database.

    :meth:`refresh` (awaited before each scrape) queries at most once per ``interval``
    seconds, one query at a time however many scrapes come at once; :meth:`collect` serves
    the last counts. A failed query keeps the previous counts and is logged.
    """

    def __init__(self, database: Callable[[], Database | None], interval: float = 30.0) -> None:
        self.database = database
        self.interval = interval
        self.counts: dict[str, int] | None = None
        self._at = float("-inf")
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._lock:
            database = self.database()
            if database is None or time.monotonic() - self._at < self.interval:
                return
            self._at = time.monotonic()
            try:
                row = await database.fetchrow(COUNTS_QUERY)
            except Exception as error:  # any driver's error: the scrape goes on
                log.warning("Could not count ghosts and rooms for the metrics: %s", error)
                return
            if row is not None:
                self.counts = {key: int(row[key]) for key in ("ghosts", "portals", "spaces")}

    def describe(self) -> Iterable[Metric]:
        return list(self._families({}))

    def collect(self) -> Iterable[Metric]:
        return list(self._families(self.counts or {}))

    @staticmethod
    def _families(counts: dict[str, int]) -> Iterator[Metric]:
        ghosts = GaugeMetricFamily(
            PREFIX + "ghosts", "Matrix ghost users of Discord users (from the database)."
        )
        rooms = GaugeMetricFamily(
            PREFIX + "rooms",
            "Rooms the bridge made, by kind: portal (a channel's room), space (a guild's).",
            labels=["kind"],
        )
        if counts:
            ghosts.add_metric([], counts["ghosts"])
            rooms.add_metric(["portal"], counts["portals"])
            rooms.add_metric(["space"], counts["spaces"])
        yield from (ghosts, rooms)

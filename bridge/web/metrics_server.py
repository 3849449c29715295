"""The metrics listener (``metrics.listen_address``): ``/metrics``, ``/live`` and ``/ready``.

A listener of its own, apart from the appservice port the homeserver talks to, so that it
can stay on loopback (or a monitoring network) while the appservice port is reachable by the
homeserver. ``/metrics`` is Prometheus' text format (prometheus-client's ``generate_latest``);
``/live`` answers 200 while the process runs; ``/ready`` answers 200 once the bridge has
started and Discord's gateway is connected, else 503 with ``{"ready": false, "reason": ...}``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..metrics import BridgeMetrics
from ..metrics_sources import DatabaseCounts, ImportCollector
from ..migration.progress_metrics import MigrationGauges
from ..startup_hints import metrics_listen_failure

if TYPE_CHECKING:
    from ..app import Bridge

log = logging.getLogger("bridge.metrics")

#: None when ready, else a short reason for people ("starting", "Discord gateway resuming").
Readiness = Callable[[], str | None]
BeforeScrape = Callable[[], Awaitable[None]]


def split_listen_address(address: str) -> tuple[str, int]:
    """``host:port`` (an IPv6 host in brackets, ``[::1]:29335``) as (host, port).

    Raises ValueError naming ``metrics.listen_address`` and what it expects.
    """
    host, sep, port = address.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(
            f"metrics.listen_address: expected host:port, e.g. 127.0.0.1:29335, got {address!r}"
        )
    return host, int(port)


class MetricsServer:
    """The aiohttp application and its listener."""

    def __init__(
        self,
        metrics: BridgeMetrics,
        readiness: Readiness,
        before_scrape: Sequence[BeforeScrape] = (),
    ) -> None:
        self.metrics = metrics
        self.readiness = readiness
        self.before_scrape = list(before_scrape)
        self.app = web.Application()
        self.app.router.add_get("/metrics", self._metrics)
        self.app.router.add_get("/live", self._live)
        self.app.router.add_get("/ready", self._ready)
        self._runner: web.AppRunner | None = None

    async def _metrics(self, _request: web.Request) -> web.Response:
        for refresh in self.before_scrape:
            await refresh()
        self.metrics.ready.set(1 if self.readiness() is None else 0)
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _live(self, _request: web.Request) -> web.Response:
        return web.json_response({"live": True})

    async def _ready(self, _request: web.Request) -> web.Response:
        reason = self.readiness()
        if reason is None:
            return web.json_response({"ready": True})
        return web.json_response({"ready": False, "reason": reason}, status=503)

    async def start(self, listen_address: str) -> None:
        """Listen on ``host:port``; raises startup_hints.ListenFailed (an OSError) naming
        metrics.listen_address if the port is taken, e.g. by a bridge already running."""
        host, port = split_listen_address(listen_address)
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, host, port).start()
        except OSError as error:
            await self._runner.cleanup()
            self._runner = None
            raise metrics_listen_failure(error, listen_address) from error
        log.info("Metrics on http://%s/metrics (and /live, /ready)", listen_address)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def bridge_readiness(bridge: Bridge) -> str | None:
    """None when the bridge is ready (started, Discord gateway connected), else why not."""
    if not bridge.started:
        return "the bridge is starting or stopping"
    if bridge.gateway.state != "connected":
        return f"the Discord gateway is {bridge.gateway.state}"
    return None


async def start_metrics_server(bridge: Bridge, counts_interval: float = 30.0) -> MetricsServer:
    """Serve the bridge's metrics at ``metrics.listen_address``, with the import progress of
    its jobs and the ghost and room counts of its database (at most every
    ``counts_interval`` seconds). Raises OSError naming the key if the address is taken."""
    metrics = bridge.metrics
    counts = DatabaseCounts(
        lambda: bridge.database.pool if bridge.database else None, interval=counts_interval
    )
    metrics.registry.register(counts)
    metrics.registry.register(
        ImportCollector(lambda: bridge.admin.imports.all() if bridge.admin else [])
    )
    # Migration progress per guild (bridge/migration), computed at most once a minute.
    migration = MigrationGauges(lambda: bridge.admin)
    metrics.registry.register(migration)
    server = MetricsServer(
        metrics, lambda: bridge_readiness(bridge), [counts.refresh, migration.refresh]
    )
    await server.start(str(bridge.config["metrics.listen_address"]))
    return server

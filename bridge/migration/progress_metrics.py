"""Migration progress as Prometheus gauges, per bridged guild: members active in the last 30
days, how many of them linked a Matrix account, and the share of messages sent from Matrix
in the last 7 days.

The numbers need the aggregating query of bridge/migration/progress_query.py, so they are
computed at most once per ``interval`` seconds (one query for all guilds), however often
Prometheus scrapes; each scrape serves the last numbers. A failure keeps them and is logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ..actions.admin.services import ActionError, AdminServices
from ..metrics import PREFIX
from .progress import report_from, trend
from .progress_query import activity_rows, fetch_progress_inputs, history_start_ms

log = logging.getLogger("bridge.metrics")

#: Seconds between two computations of the gauges.
INTERVAL_S = 60.0


class MigrationGauges(Collector):
    """``discord_bridge_migration_{active_members,linked_members,matrix_share}{guild}``.

    :meth:`refresh` is awaited before each scrape (bridge/web/metrics_server.py);
    ``services`` gives the admin services, None while the bridge starts.
    """

    def __init__(
        self, services: Callable[[], AdminServices | None], interval: float = INTERVAL_S
    ) -> None:
        self.services = services
        self.interval = interval
        # guild id → (active, linked, Matrix share of the last 7 days)
        self.values: dict[int, tuple[int, int, float]] = {}
        self._at = float("-inf")
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._lock:
            services = self.services()
            if services is None or time.monotonic() - self._at < self.interval:
                return
            self._at = time.monotonic()
            try:
                self.values = await self._compute(services)
            except Exception:  # any driver's error, or a bug: the scrape goes on
                log.exception("Could not compute the migration progress for the metrics")

    @staticmethod
    async def _compute(services: AdminServices) -> dict[int, tuple[int, int, float]]:
        now_ms = int(time.time() * 1000)
        guilds = await services.tables.guilds.find()
        if not guilds:
            return {}
        # Read once for every guild: the recent messages and the links.
        rows = await activity_rows(services.tables, history_start_ms(now_ms))
        links = await services.tables.account_links.find()
        values = {}
        for guild in guilds:
            try:
                inputs = await fetch_progress_inputs(
                    services,
                    guild.discord_id,
                    now_ms=now_ms,
                    rows=rows,
                    links=links,
                    with_cutover=False,
                )
            except ActionError:  # unbridged meanwhile
                continue
            report = report_from(guild.discord_id, inputs)
            share = trend(report.days).matrix_share.now
            values[guild.discord_id] = (report.active, report.linked, share)
        return values

    def describe(self) -> Iterable[Metric]:
        return list(self._families({}))

    def collect(self) -> Iterable[Metric]:
        return list(self._families(self.values))

    @staticmethod
    def _families(values: dict[int, tuple[int, int, float]]) -> Iterator[Metric]:
        active = GaugeMetricFamily(
            PREFIX + "migration_active_members",
            "Discord members who sent a message in the guild in the last 30 days (either side).",
            labels=["guild"],
        )
        linked = GaugeMetricFamily(
            PREFIX + "migration_linked_members",
            "Of the active members, how many linked a Matrix account.",
            labels=["guild"],
        )
        share = GaugeMetricFamily(
            PREFIX + "migration_matrix_share",
            "Share (0-1) of the guild's messages of the last 7 days sent from Matrix.",
            labels=["guild"],
        )
        for guild_id, (active_count, linked_count, matrix_share) in values.items():
            active.add_metric([str(guild_id)], active_count)
            linked.add_metric([str(guild_id)], linked_count)
            share.add_metric([str(guild_id)], matrix_share)
        yield from (active, linked, share)

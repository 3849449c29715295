"""Counts of relayed messages and the last error, per guild, for ``status`` (in memory).

Counts start with the process; the last hour is a sliding window of timestamps. With a
:class:`bridge.metrics.BridgeMetrics`, every relayed event (any kind, with its latency) and
every failure (by reason) is also counted for Prometheus.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .metrics import BridgeMetrics

HOUR_SECONDS = 3600.0
TO_MATRIX = "discord→matrix"
TO_DISCORD = "matrix→discord"
# Kinds counted per guild for ``status`` (messages); every kind goes to the metrics.
STATUS_KINDS = frozenset({"message", "poll"})


@dataclass
class LastError:
    text: str
    at: float  # s since the epoch


@dataclass
class GuildCounts:
    """One guild's counters: messages each way, since start and in the last hour."""

    total: dict[str, int] = field(default_factory=lambda: {TO_MATRIX: 0, TO_DISCORD: 0})
    recent: dict[str, deque[float]] = field(
        default_factory=lambda: {TO_MATRIX: deque(), TO_DISCORD: deque()}
    )
    last_error: LastError | None = None


class RelayStats:
    """Messages relayed per guild and direction, and each guild's last relay error."""

    def __init__(
        self, clock: object = time.monotonic, metrics: BridgeMetrics | None = None
    ) -> None:
        self._clock = clock
        self._guilds: dict[int, GuildCounts] = {}
        self.metrics = metrics

    def _counts(self, guild_id: int) -> GuildCounts:
        return self._guilds.setdefault(guild_id, GuildCounts())

    def relayed(
        self,
        guild_id: int | None,
        direction: str,
        kind: str = "message",
        origin_ms: float | None = None,
    ) -> None:
        """One event relayed (``TO_MATRIX`` or ``TO_DISCORD``) in a guild's channel.

        ``kind`` is one of :data:`bridge.metrics.KINDS`; ``origin_ms`` the event's own time
        (ms since the epoch: Discord snowflake or edit time, Matrix ``origin_server_ts``),
        for the latency metric. Only messages count for ``status``.
        """
        if self.metrics is not None:
            self.metrics.relayed(direction, kind, origin_ms)
        if guild_id is None or kind not in STATUS_KINDS:
            return
        counts = self._counts(guild_id)
        counts.total[direction] += 1
        counts.recent[direction].append(self._clock())  # type: ignore[operator]

    def failed(
        self,
        guild_id: int | None,
        text: str,
        *,
        direction: str | None = None,
        error: BaseException | None = None,
    ) -> None:
        """A relay failure in a guild: kept as its last error, with the wall-clock time; with
        ``direction`` and ``error``, counted in the metrics under a short reason."""
        if self.metrics is not None and direction is not None and error is not None:
            self.metrics.failed(direction, error)
        if guild_id is not None:
            self._counts(guild_id).last_error = LastError(text, time.time())

    def since_start(self, guild_id: int, direction: str) -> int:
        counts = self._guilds.get(guild_id)
        return counts.total[direction] if counts else 0

    def last_hour(self, guild_id: int, direction: str) -> int:
        counts = self._guilds.get(guild_id)
        if counts is None:
            return 0
        recent = counts.recent[direction]
        cutoff = self._clock() - HOUR_SECONDS  # type: ignore[operator]
        while recent and recent[0] < cutoff:
            recent.popleft()
        return len(recent)

    def last_error(self, guild_id: int) -> LastError | None:
        counts = self._guilds.get(guild_id)
        return counts.last_error if counts else None

    def forget(self, guild_id: int) -> None:
        """An unbridged guild's counters go."""
        self._guilds.pop(guild_id, None)

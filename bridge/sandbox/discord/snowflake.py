"""Discord snowflakes: 64-bit ids whose top 42 bits are milliseconds since the Discord epoch."""

from __future__ import annotations

import time
from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1420070400000
_LOW_BITS = 22
_LOW_MASK = (1 << _LOW_BITS) - 1


def snowflake_ms(snowflake: int) -> int:
    """Unix time in milliseconds at which ``snowflake`` was made."""
    return (snowflake >> _LOW_BITS) + DISCORD_EPOCH_MS


def snowflake_time(snowflake: int) -> datetime:
    """Aware UTC datetime at which ``snowflake`` was made."""
    return datetime.fromtimestamp(snowflake_ms(snowflake) / 1000, UTC)


def snowflake_from_ms(unix_ms: int, low: int = 0) -> int:
    """The snowflake for ``unix_ms`` with the given low 22 bits (worker, process, increment)."""
    return ((unix_ms - DISCORD_EPOCH_MS) << _LOW_BITS) | (low & _LOW_MASK)


def to_ms(when: datetime | float | int | None) -> int:
    """Milliseconds since the Unix epoch for a datetime, a float of seconds or int milliseconds."""
    if when is None:
        return int(time.time() * 1000)
    if isinstance(when, datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return int(when.timestamp() * 1000)
    if isinstance(when, float):
        return int(when * 1000)
    return when


class SnowflakeGenerator:
    """Unique snowflakes, increasing for "now", and also placeable in the past for seeded history.

    Ids made for "now" strictly increase even within one millisecond. Ids made for a given past
    time carry that time exactly; their low bits come from a counter so that they stay unique.
    """

    def __init__(self) -> None:
        self._last = 0
        self._counter = 0

    def next(self, when: datetime | float | int | None = None) -> int:
        """A new snowflake; ``when`` (datetime, seconds as float, or int ms) defaults to now."""
        self._counter = (self._counter + 1) & _LOW_MASK
        if when is None:
            candidate = snowflake_from_ms(to_ms(None), self._counter)
            self._last = max(candidate, self._last + 1)
            return self._last
        return snowflake_from_ms(to_ms(when), self._counter)

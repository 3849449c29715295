"""Read-only admin actions: the guilds the bot is in, and round-trip times."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from mautrix.api import Method, Path
from mautrix.errors import MatrixError

from .services import AdminServices


@dataclass(frozen=True)
class GuildInfo:
    """A guild the bot is in (or one still bridged that it has left)."""

    guild_id: int
    name: str
    bridged: bool
    room_count: int  # rooms and sub-spaces, the guild's space not counted
    space_room_id: str | None
    bot_in_guild: bool = True


async def list_guilds(services: AdminServices) -> list[GuildInfo]:
    """Every guild the bot is in, and every bridged one, by name."""
    rows = {row.discord_id: row for row in await services.tables.guilds.find()}
    counts: dict[int, int] = {}
    for portal in await services.tables.portals.find("room_id IS NOT NULL"):
        if portal.guild_id is not None:
            counts[portal.guild_id] = counts.get(portal.guild_id, 0) + 1
    found = []
    for guild in services.discord.guilds:
        row = rows.pop(guild.id, None)
        found.append(
            GuildInfo(
                guild.id,
                guild.name,
                row is not None,
                counts.get(guild.id, 0),
                row.space_room_id if row else None,
            )
        )
    for row in rows.values():  # bridged, but the bot is no longer in it (an export's guild)
        found.append(
            GuildInfo(
                row.discord_id,
                row.name,
                True,
                counts.get(row.discord_id, 0),
                row.space_room_id,
                bot_in_guild=False,
            )
        )
    return sorted(found, key=lambda info: (info.name.lower(), info.guild_id))


@dataclass(frozen=True)
class PingResult:
    """Round trips in ms; None where the call failed (``errors`` says why)."""

    gateway_ms: float | None
    homeserver_ms: float | None
    database_ms: float | None
    errors: tuple[str, ...] = ()


async def ping(services: AdminServices) -> PingResult:
    """The gateway's heartbeat latency, a homeserver request and a database query, timed."""
    errors = []
    latency = services.discord.latency
    gateway_ms = latency * 1000 if services.discord.is_ready() and math.isfinite(latency) else None
    if gateway_ms is None:
        errors.append("the Discord gateway is not connected")
    homeserver_ms: float | None = None
    started = time.perf_counter()
    try:
        await services.bot.api.request(Method.GET, Path.v3.account.whoami)
        homeserver_ms = (time.perf_counter() - started) * 1000
    except MatrixError as error:
        errors.append(f"the homeserver answered: {error}")
    database_ms: float | None = None
    started = time.perf_counter()
    try:
        await services.tables.db.fetchval("SELECT 1")
        database_ms = (time.perf_counter() - started) * 1000
    except Exception as error:  # any driver's error: reported, not raised
        errors.append(f"the database failed: {error}")
    return PingResult(gateway_ms, homeserver_ms, database_ms, tuple(errors))

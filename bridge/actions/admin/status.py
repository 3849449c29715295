"""The bridge's state per guild: rooms, messages relayed, the last error, imports, gateway."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from ...stats import TO_DISCORD, TO_MATRIX, LastError
from .services import ActionError, AdminServices


@dataclass(frozen=True)
class Relayed:
    """Messages relayed one way: in the last hour and since the bridge started."""

    last_hour: int
    since_start: int

    def to_json(self) -> dict[str, int]:
        return {"last_hour": self.last_hour, "since_start": self.since_start}


@dataclass(frozen=True)
class GuildStatus:
    """One bridged guild."""

    guild_id: int
    name: str
    space_room_id: str | None
    rooms: int
    to_matrix: Relayed
    to_discord: Relayed
    last_error: LastError | None
    import_state: str  # e.g. "none", "running: 40/120 messages", "finished for 3 channels"
    bot_in_guild: bool = True

    def to_json(self) -> dict[str, Any]:
        error = self.last_error
        return {
            "guild_id": str(self.guild_id),
            "name": self.name,
            "space_room_id": self.space_room_id,
            "rooms": self.rooms,
            "bot_in_guild": self.bot_in_guild,
            "relayed": {
                "discord_to_matrix": self.to_matrix.to_json(),
                "matrix_to_discord": self.to_discord.to_json(),
            },
            "last_error": {"text": error.text, "at": error.at} if error else None,
            "import": self.import_state,
        }


@dataclass(frozen=True)
class StatusReport:
    """The gateway's state and every bridged guild's (or the one asked for)."""

    gateway_state: str  # "connected", "connecting" or "closed"
    gateway_latency_ms: float | None
    started_at: float  # s since the epoch
    guilds: list[GuildStatus] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "gateway": {"state": self.gateway_state, "latency_ms": self.gateway_latency_ms},
            "started_at": self.started_at,
            "uptime_seconds": max(0.0, time.time() - self.started_at),
            "guilds": [guild.to_json() for guild in self.guilds],
        }


def _gateway(services: AdminServices) -> tuple[str, float | None]:
    client = services.discord
    if client.is_closed():
        return "closed", None
    if not client.is_ready():
        return "connecting", None
    latency = client.latency
    return "connected", latency * 1000 if math.isfinite(latency) else None


async def _import_state(services: AdminServices, guild_id: int, channel_ids: set[int]) -> str:
    running = services.imports.running_for(guild_id)
    if running:
        job = running[0]
        data = job.to_json()
        total = data.get("messages_total")
        of = f"/{total}" if total is not None else ""
        return f"running (import {job.job_id}): {data.get('messages_done', 0)}{of} messages"
    checkpoints = [
        row
        for row in await services.tables.import_checkpoints.find()
        if row.channel_id in channel_ids
    ]
    if not checkpoints:
        return "none"
    finished = sum(1 for row in checkpoints if row.finished)
    imported = sum(row.imported_count for row in checkpoints)
    if finished == len(checkpoints):
        return f"finished for {finished} channels ({imported} messages)"
    return (
        f"stopped: {finished} of {len(checkpoints)} channels finished ({imported} messages); "
        "run import again to resume"
    )


async def status(services: AdminServices, guild_id: int | None = None) -> StatusReport:
    """The state of every bridged guild, or of ``guild_id`` only.

    Raises :class:`ActionError` (404) when ``guild_id`` is not bridged.
    """
    rows = await services.tables.guilds.find(order="discord_id")
    if guild_id is not None:
        rows = [row for row in rows if row.discord_id == guild_id]
        if not rows:
            raise ActionError(
                f"Guild {guild_id} is not bridged; `guilds` lists the bridged ones.", 404
            )
    state, latency = _gateway(services)
    report = StatusReport(state, latency, services.started_at)
    for row in rows:
        portals = await services.tables.portals.find("guild_id = $1", row.discord_id)
        channel_ids = {portal.discord_id for portal in portals}
        stats = services.stats
        report.guilds.append(
            GuildStatus(
                row.discord_id,
                row.name,
                row.space_room_id,
                sum(1 for portal in portals if portal.room_id),
                Relayed(
                    stats.last_hour(row.discord_id, TO_MATRIX),
                    stats.since_start(row.discord_id, TO_MATRIX),
                ),
                Relayed(
                    stats.last_hour(row.discord_id, TO_DISCORD),
                    stats.since_start(row.discord_id, TO_DISCORD),
                ),
                stats.last_error(row.discord_id),
                await _import_state(services, row.discord_id, channel_ids),
                services.discord.get_guild(row.discord_id) is not None,
            )
        )
    return report

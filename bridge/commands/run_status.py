"""Executor of ``status``: the bridge's state per guild, as a reply."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from ..actions.admin.status import StatusReport, status
from .context import CommandContext
from .render import Reply


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def status_reply(report: StatusReport) -> Reply:
    """The report as markdown: the gateway, then one block per guild (pure)."""
    latency = (
        f", heartbeat {report.gateway_latency_ms:.0f} ms"
        if report.gateway_latency_ms is not None
        else ""
    )
    lines = [
        f"**Discord gateway:** {report.gateway_state}{latency}. Running since "
        f"{_when(report.started_at)}.",
    ]
    if not report.guilds:
        lines += [
            "",
            "No guild is bridged yet: `guilds` lists the bot's, `bridge GUILD_ID` bridges one.",
        ]
    for guild in report.guilds:
        error = (
            f"{guild.last_error.text} ({_when(guild.last_error.at)})"
            if guild.last_error
            else "none"
        )
        absent = " — the bot is no longer in this guild" if not guild.bot_in_guild else ""
        lines += [
            "",
            f"**{guild.name}** (`{guild.guild_id}`){absent}",
            f"- rooms: {guild.rooms}, space `{guild.space_room_id}`",
            f"- Discord → Matrix: {guild.to_matrix.last_hour} in the last hour, "
            f"{guild.to_matrix.since_start} since start",
            f"- Matrix → Discord: {guild.to_discord.last_hour} in the last hour, "
            f"{guild.to_discord.since_start} since start",
            f"- last error: {error}",
            f"- import: {guild.import_state}",
        ]
    return Reply("\n".join(lines))


async def run_status(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    return status_reply(await status(context.services, arguments.guild))

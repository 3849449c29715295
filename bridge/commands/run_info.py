"""Executors of the informational commands: help, version, ping, guilds."""

from __future__ import annotations

import argparse

from .. import __version__
from ..actions.admin import info
from ..plural import counted
from .context import CommandContext
from .render import Reply, help_reply


def matrix_to(room_id: str, server: str) -> str:
    """A matrix.to link to a room, by ID with the server to join through."""
    return f"https://matrix.to/#/{room_id}?via={server}"


async def run_help(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    return help_reply(context.level, context.prefix, context.management_room)


async def run_version(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    return Reply(f"Discord → Matrix migration bridge, version **{__version__}**.")


def _ms(value: float | None) -> str:
    return "unavailable" if value is None else f"{value:.0f} ms"


async def run_ping(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    result = await info.ping(context.services)
    lines = [
        "**Pong.** Round trips:",
        "",
        f"- Discord gateway (heartbeat): {_ms(result.gateway_ms)}",
        f"- homeserver: {_ms(result.homeserver_ms)}",
        f"- database: {_ms(result.database_ms)}",
    ]
    lines += [f"- ⚠️ {error}" for error in result.errors]
    return Reply("\n".join(lines))


async def run_guilds(context: CommandContext, arguments: argparse.Namespace) -> Reply:
    guilds = await info.list_guilds(context.services)
    if not guilds:
        return Reply(
            "The Discord bot is in no guild yet. Invite it with the link in the README "
            "(Create the Discord application and bot), then send `guilds` again."
        )
    server = context.services.config["homeserver.domain"]
    lines = ["**Guilds**", ""]
    for guild in guilds:
        if guild.bridged and guild.space_room_id:
            where = (
                f"bridged, {counted(guild.room_count, 'room')}, space "
                f"[{guild.space_room_id}]({matrix_to(guild.space_room_id, server)})"
            )
        else:
            where = f"not bridged: `{context.line(f'bridge {guild.guild_id}')}`"
        if not guild.bot_in_guild:
            where += " (the bot is no longer in it)"
        lines.append(f"- **{guild.name}** (`{guild.guild_id}`): {where}")
    return Reply("\n".join(lines))

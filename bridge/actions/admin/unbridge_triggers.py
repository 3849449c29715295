"""Guilds unbridged without a command: the bot removed from a guild (GUILD_DELETE), and a
guild the config bridged that is no longer in ``bridge.guilds``. Both archive the rooms,
log why, and say why in every room (the space too)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import discord

from .services import Actor, AdminServices
from .unbridging import unbridge

log = logging.getLogger("bridge.admin.unbridge")

REMOVED_FROM_GUILD = "the bridge's bot was removed from the Discord server"
REMOVED_FROM_CONFIG = "the server was removed from bridge.guilds in the bridge's config"


def watch_guild_removal(client: discord.Client, services: AdminServices) -> None:
    """Unbridge a bridged guild when the bot is removed from it (``on_guild_remove``).

    discord.py calls ``on_guild_remove`` for a GUILD_DELETE without ``unavailable`` (an
    outage's unavailable guild is ``on_guild_unavailable`` and unbridges nothing). A handler
    registered before under that name keeps being called: ``client.event`` keeps one per name.
    """
    previous: Callable[..., Awaitable[Any]] | None = getattr(client, "on_guild_remove", None)

    async def on_guild_remove(guild: discord.Guild) -> None:
        if previous is not None:
            await previous(guild)
        await unbridge_removed_guild(services, guild.id)

    client.event(on_guild_remove)


async def unbridge_removed_guild(services: AdminServices, guild_id: int) -> None:
    """The bot left the guild: archive it if it was bridged (never raises)."""
    try:
        if await services.tables.guilds.get(guild_id) is None:
            return
        log.warning("The bot was removed from the bridged guild %s: unbridging it", guild_id)
        await unbridge(
            services,
            guild_id,
            delete_rooms=False,
            actor=Actor("discord"),
            reason=REMOVED_FROM_GUILD,
        )
    except Exception:
        log.exception("Could not unbridge guild %s after the bot was removed from it", guild_id)


async def unbridge_unconfigured(services: AdminServices, configured: Iterable[int]) -> list[int]:
    """Archive the guilds that the config bridged (``bridged_by == "config"``) and that are
    no longer in ``bridge.guilds``; guilds bridged otherwise stay. Returns their IDs."""
    wanted = set(configured)
    rows = await services.tables.guilds.find("bridged_by = $1", "config", order="discord_id")
    dropped = [row.discord_id for row in rows if row.discord_id not in wanted]
    for guild_id in dropped:
        log.warning("Guild %s is no longer in bridge.guilds: unbridging it", guild_id)
        try:
            await unbridge(
                services,
                guild_id,
                delete_rooms=False,
                actor=Actor("config"),
                reason=REMOVED_FROM_CONFIG,
            )
        except Exception:
            log.exception("Could not unbridge guild %s", guild_id)
    return dropped

"""Which guilds the bot is in, worded for the admin who named one it is not in.

One text for every place that meets such an ID: ``import --guild`` (the real run and the dry
run) and ``bridge.guilds`` at start-up.
"""

from __future__ import annotations

from collections.abc import Iterable

import discord

INVITE_HINT = "invite the bot with the URL of the README's step 3 (“Invite the bot”)"


class NotInGuild(Exception):
    """The bot is not in the guild asked for (or no such guild exists); the message names
    the guilds it is in."""


def guild_list_text(guilds: Iterable[discord.Guild]) -> str:
    """``Name (id), Name (id)`` ordered by name, or ``no guild``."""
    named = sorted(guilds, key=lambda guild: (guild.name or "", guild.id))
    if not named:
        return "no guild"
    return ", ".join(f"{guild.name} ({guild.id})" for guild in named)


def not_in_guild_text(guild_id: int, guilds: Iterable[discord.Guild]) -> str:
    """``the bot is not in guild X; it is in: A (1), B (2)`` (Discord answers 403 or 404 for
    a guild the bot is not in, alike for one that does not exist)."""
    guilds = list(guilds)
    if not guilds:
        return f"the bot is not in guild {guild_id}; it is in no guild yet: {INVITE_HINT}"
    return f"the bot is not in guild {guild_id}; it is in: {guild_list_text(guilds)}"


async def not_in_guild(client: discord.Client, guild_id: int) -> NotInGuild:
    """The error for ``guild_id``, listing the bot's guilds over REST (``GET
    /users/@me/guilds``; works before the gateway connects). A failing listing is named
    instead of the guilds."""
    try:
        guilds = [guild async for guild in client.fetch_guilds(limit=None)]
    except discord.HTTPException as error:
        return NotInGuild(
            f"the bot is not in guild {guild_id} (listing its guilds failed too: {error})"
        )
    return NotInGuild(not_in_guild_text(guild_id, guilds))


async def fetch_guild_of_bot(client: discord.Client, guild_id: int) -> discord.Guild:
    """``GET /guilds/{id}``; raises :class:`NotInGuild` for 403 or 404 (the bot is not in
    it, or there is no such guild), other :class:`discord.HTTPException` as they come."""
    try:
        return await client.fetch_guild(guild_id)
    except (discord.NotFound, discord.Forbidden):
        raise await not_in_guild(client, guild_id) from None

"""Matrix reactions on Discord: the bridge bot reacts, once per emoji and message.

Discord shows one reaction per user and emoji, so the bot reacts when the first Matrix user
reacts with an emoji and takes its reaction back only when the last one's is redacted. Keys
are compared in Discord's form (``👍\\uFE0F`` and ``👍`` are one emoji) and sent in it.
"""

from __future__ import annotations

import logging
from contextlib import suppress

import discord
from mautrix.types import ReactionEvent

from ...convert.reaction_keys import discord_form, same_reaction
from ...db.rows import MatrixReactionRow, PortalRow
from .lookups import custom_emoji_of
from .services import M2DServices

log = logging.getLogger("bridge.m2d.reactions")


async def _discord_emoji(
    services: M2DServices, portal: PortalRow, key: str, shortcode: str | None
) -> str | None:
    """A unicode key in Discord's form; an image key (mxc) as the guild's custom emoji, if any."""
    if not key.startswith("mxc://"):
        return discord_form(key)
    guild = services.discord.get_guild(portal.guild_id) if portal.guild_id else None
    if guild is None:
        return None
    emoji = await custom_emoji_of(services, guild, key)
    if emoji is None:
        name = (shortcode or "").strip(":")
        emoji = discord.utils.get(guild.emojis, name=name) if name else None
    return f"{emoji.name}:{emoji.id}" if emoji else None


async def _reactions_with(
    services: M2DServices, discord_message_id: int, emoji: str
) -> list[MatrixReactionRow]:
    """The Matrix reactions relayed to a Discord message with ``emoji``, in any spelling."""
    rows = await services.tables.matrix_reactions.find(
        "discord_message_id = $1", discord_message_id
    )
    return [row for row in rows if same_reaction(row.emoji_key, emoji)]


def _message(services: M2DServices, channel_id: int, message_id: int) -> discord.PartialMessage:
    channel = services.discord.get_partial_messageable(channel_id)
    return channel.get_partial_message(message_id)


async def react(services: M2DServices, portal: PortalRow, event: ReactionEvent) -> None:
    relates = event.content.relates_to
    target = await services.tables.message_part_by_event(
        portal.room_id or "", str(relates.event_id)
    )
    if target is None:
        return
    raw = event.content.serialize()
    emoji = await _discord_emoji(
        services, portal, str(relates.key), raw.get("com.beeper.reaction.shortcode")
    )
    if emoji is None:
        log.info("No Discord emoji for the reaction %s; not relayed", relates.key)
        return
    if not await _reactions_with(services, target.discord_message_id, emoji):
        await _message(services, target.channel_id, target.discord_message_id).add_reaction(emoji)
    # A unicode emoji is kept as the Matrix key, so Discord's reactions can join that key.
    stored = emoji if str(relates.key).startswith("mxc://") else str(relates.key)
    await services.tables.matrix_reactions.upsert(
        MatrixReactionRow(
            portal.room_id or "",
            str(event.event_id),
            target.discord_message_id,
            stored,
            str(event.sender),
        )
    )


async def unreact(services: M2DServices, portal: PortalRow, reaction_event_id: str) -> None:
    row = await services.tables.matrix_reactions.get(portal.room_id or "", reaction_event_id)
    if row is None:
        return
    await services.tables.matrix_reactions.delete(row.room_id, row.event_id)
    if await _reactions_with(services, row.discord_message_id, row.emoji_key):
        return
    parts = await services.tables.message_parts_of(row.discord_message_id)
    channel_id = parts[0].channel_id if parts else portal.discord_id
    bot_user = services.discord.user
    assert bot_user is not None
    with suppress(discord.NotFound):
        await _message(services, channel_id, row.discord_message_id).remove_reaction(
            discord_form(row.emoji_key), discord.Object(bot_user.id)
        )

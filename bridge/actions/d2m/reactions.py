"""Relaying Discord reactions: each user's emoji on a message as their ghost's m.reaction."""

from __future__ import annotations

import logging

import discord
from mautrix.errors import MatrixError
from mautrix.types import EventID, EventType, RoomID

from ...convert.d2m.puppet import user_ghost_id
from ...convert.model import UserSnapshot
from ...convert.reaction_keys import discord_form, matrix_key
from ...db.rows import ReactionRow
from ...discord.user_snapshots import member_snapshot, user_snapshot
from ...matrix.homeserver_wait import waits_for_homeserver
from ...migration.double_puppet import acting_intent
from ...stats import TO_MATRIX
from .lookups import first_part, upload_custom_emoji
from .routing import destination
from .services import RelayServices

log = logging.getLogger("bridge.relay.reactions")


def emoji_key(emoji: discord.PartialEmoji) -> str:
    """How a reaction's emoji is stored: a unicode emoji in Discord's form, or a custom emoji's id."""
    return str(emoji.id) if emoji.id else discord_form(str(emoji.name))


async def reaction_content(
    services: RelayServices, emoji: discord.PartialEmoji, event_id: str, key: str | None = None
) -> dict:
    """The m.reaction content; a custom emoji becomes its uploaded image's mxc as the key.

    ``key`` overrides a unicode emoji's key (the spelling already used on Matrix for it).
    """
    relates = {"rel_type": "m.annotation", "event_id": event_id}
    if emoji.id is None:
        return {"m.relates_to": {**relates, "key": key or emoji.name}}
    media = await upload_custom_emoji(services, emoji.id, emoji.name, emoji.animated)
    if media is None:
        return {"m.relates_to": {**relates, "key": f":{emoji.name}:"}}
    return {
        "m.relates_to": {**relates, "key": media.mxc},
        "com.beeper.reaction.shortcode": f":{emoji.name}:",
    }


async def _matrix_key(services: RelayServices, emoji: discord.PartialEmoji, message_id: int) -> str:
    """A unicode emoji's key on Matrix: the spelling a Matrix user already used on the message."""
    rows = await services.tables.matrix_reactions.find("discord_message_id = $1", message_id)
    return matrix_key(str(emoji.name), (row.emoji_key for row in rows))


async def _reactor(
    services: RelayServices, payload: discord.RawReactionActionEvent
) -> UserSnapshot:
    if payload.member is not None:
        return user_snapshot(payload.member)
    user = services.discord.get_user(payload.user_id) or await services.discord.fetch_user(
        payload.user_id
    )
    return user_snapshot(user)


@waits_for_homeserver
async def on_raw_reaction_add(
    services: RelayServices, payload: discord.RawReactionActionEvent
) -> None:
    if services.discord.user and payload.user_id == services.discord.user.id:
        return  # the bridge's own reactions mirror Matrix ones
    where = await destination(services.tables, services.discord, payload.channel_id)
    if where is None:
        return
    async with services.room_locks(where.room_id):
        key = emoji_key(payload.emoji)
        if await services.tables.reactions.get(payload.message_id, payload.user_id, key):
            return
        target = await first_part(services, payload.message_id)
        if target is None:
            return  # not bridged (the message is older than the bridge, or failed)
        if target.room_id != where.room_id:
            return  # in a room this one replaced (handover), kept as it is: no relation there
        user = await _reactor(services, payload)
        member = member_snapshot(payload.member) if payload.member else None
        intent = await acting_intent(
            services.puppets, services.double_puppets, user, where.room_id, member=member
        )
        key_on_matrix = (
            None
            if payload.emoji.id
            else await _matrix_key(services, payload.emoji, payload.message_id)
        )
        content = await reaction_content(services, payload.emoji, target.event_id, key_on_matrix)
        txn = f"dc_react_{payload.message_id}_{payload.user_id}_{key}"
        event_id = await intent.send_message_event(
            RoomID(where.room_id), EventType.REACTION, content, txn_id=txn
        )
        await services.tables.reactions.upsert(
            ReactionRow(payload.message_id, payload.user_id, key, where.room_id, event_id)
        )
    services.stats.relayed(where.guild_id, TO_MATRIX, "reaction")


async def on_raw_reaction_remove(
    services: RelayServices, payload: discord.RawReactionActionEvent
) -> None:
    row = await services.tables.reactions.get(
        payload.message_id, payload.user_id, emoji_key(payload.emoji)
    )
    if row is not None:
        await redact_reactions(services, [row])


async def on_raw_reaction_clear(
    services: RelayServices, payload: discord.RawReactionClearEvent
) -> None:
    rows = await services.tables.reactions.find("discord_message_id = $1", payload.message_id)
    await redact_reactions(services, rows)


async def on_raw_reaction_clear_emoji(
    services: RelayServices, payload: discord.RawReactionClearEmojiEvent
) -> None:
    rows = await services.tables.reactions.find(
        "discord_message_id = $1 AND emoji_key = $2", payload.message_id, emoji_key(payload.emoji)
    )
    await redact_reactions(services, rows)


@waits_for_homeserver
async def redact_reactions(services: RelayServices, rows: list[ReactionRow]) -> None:
    """Redact bridged Discord reactions and forget them: each from the member's own account
    (double puppeting), else from its ghost, else (the other one sent it) from the bot."""
    for row in rows:
        async with services.room_locks(row.room_id):
            double = services.double_puppets
            own = await double.intent_for(row.discord_user_id) if double else None
            ghost = services.puppets.intent(user_ghost_id(row.discord_user_id))
            actors = [own, ghost, services.bot] if own else [ghost, services.bot]
            for place, intent in enumerate(actors, start=1):
                try:
                    await intent.redact(
                        RoomID(row.room_id), EventID(row.event_id), reason="Reaction removed"
                    )
                    break
                except MatrixError as error:
                    level = logging.WARNING if place == len(actors) else logging.DEBUG
                    log.log(level, "%s could not redact %s: %s", intent.mxid, row.event_id, error)
            await services.tables.reactions.delete(
                row.discord_message_id, row.discord_user_id, row.emoji_key
            )
        services.stats.relayed(None, TO_MATRIX, "reaction_removal")

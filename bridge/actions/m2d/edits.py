"""Matrix edits and redactions, carried to the Discord messages they became."""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

import discord
from mautrix.types import MessageEvent, RedactionEvent

from ...convert.m2d.formatting import matrix_to_discord
from ...convert.m2d.split import split_for_discord
from ...db.rows import MessagePartRow, PortalRow
from .lookups import conversion_context, identity
from .reactions import unreact
from .send import discord_mentions
from .services import M2DServices

log = logging.getLogger("bridge.m2d.edits")


def is_edit(event: MessageEvent) -> bool:
    relation = event.content.serialize().get("m.relates_to") or {}
    return relation.get("rel_type") == "m.replace"


async def edit(services: M2DServices, portal: PortalRow, event: MessageEvent) -> None:
    """The Discord messages of the original take the new text; extra chunks come and go."""
    raw: dict[str, Any] = event.content.serialize()
    original = raw["m.relates_to"]["event_id"]
    rows = await services.tables.message_parts_by_event(portal.room_id or "", original)
    if not rows:
        return
    if rows[0].sender_mxid != str(event.sender) or not rows[0].kind.startswith("matrix:"):
        # Only the author edits their message, and only one the webhook posted: a member's
        # own Discord message shown through double puppeting is edited on Discord.
        return
    new_content = raw.get("m.new_content") or {}
    if new_content.get("msgtype") not in (None, "m.text", "m.notice", "m.emote"):
        return  # a file does not change
    who = await identity(services, portal.room_id or "", str(event.sender), portal.guild_id)
    context = await conversion_context(services, portal, new_content, str(event.sender), who.name)
    text = await matrix_to_discord(new_content, context)
    chunks = split_for_discord(text.content) if text.content.strip() else []
    for row, chunk in zip(rows, chunks, strict=False):
        await services.webhooks.edit(
            portal.discord_id,
            row.discord_message_id,
            thread_id=row.thread_id,
            content=chunk,
            allowed_mentions=discord_mentions(text),
        )
    for row in rows[len(chunks) :]:
        await _delete_on_discord(services, portal, row)
    if len(chunks) > len(rows):
        log.info("Edit of %s is longer than the original; the rest is not sent", original)


async def redact(services: M2DServices, portal: PortalRow, event: RedactionEvent) -> None:
    """A redacted message is deleted on Discord; a redacted reaction may lift the bot's."""
    target = str(event.redacts)
    room_id = portal.room_id or ""
    if await services.tables.matrix_reactions.get(room_id, target):
        await unreact(services, portal, target)
        return
    for row in await services.tables.message_parts_by_event(room_id, target):
        await _delete_on_discord(services, portal, row)


async def _delete_on_discord(services: M2DServices, portal: PortalRow, row: MessagePartRow) -> None:
    """Forget the mapping, then delete the Discord message.

    In that order: Discord's MESSAGE_DELETE for it may come before the answer to the delete,
    and a mapping still there would make the Discord → Matrix side redact the Matrix event
    (the whole of it, when only a surplus chunk of an edit goes).
    """
    await services.tables.message_parts.delete(row.discord_message_id, row.part)
    with suppress(discord.NotFound):  # already gone on Discord
        await services.webhooks.delete(
            portal.discord_id, row.discord_message_id, thread_id=row.thread_id
        )

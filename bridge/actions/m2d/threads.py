"""Replies and threads from Matrix, in a Discord that has no replies for webhooks."""

from __future__ import annotations

import logging
from typing import Any

import discord
from mautrix.types import EventID, RoomID

from ...convert.m2d.reply import reply_line
from ...db.rows import MessagePartRow, PortalRow
from .lookups import discord_name, identity
from .services import M2DServices

log = logging.getLogger("bridge.m2d.threads")
THREAD_NAME_LIMIT = 100


def _relation(raw: dict[str, Any]) -> dict[str, Any]:
    return raw.get("m.relates_to") or {}


async def thread_for(services: M2DServices, portal: PortalRow, raw: dict[str, Any]) -> int | None:
    """The Discord thread a Matrix thread message goes to, started from its root if needed."""
    relation = _relation(raw)
    if relation.get("rel_type") != "m.thread":
        return None
    root = await services.tables.message_part_by_event(portal.room_id or "", relation["event_id"])
    if root is None:
        return None
    if root.thread_id is not None:
        return root.thread_id  # the root is itself in a Discord thread
    existing = services.discord.get_channel(root.discord_message_id)
    if isinstance(existing, discord.Thread):
        return existing.id
    try:
        return (await services.discord.fetch_channel(root.discord_message_id)).id
    except discord.NotFound:
        pass
    channel = services.discord.get_channel(portal.discord_id)
    if not isinstance(channel, discord.TextChannel):
        return None
    name = await _thread_name(services, portal, root)
    thread = await channel.get_partial_message(root.discord_message_id).create_thread(name=name)
    log.info("Started Discord thread %s for a Matrix thread in %s", thread.id, portal.room_id)
    return thread.id


async def _thread_name(services: M2DServices, portal: PortalRow, root: MessagePartRow) -> str:
    body = await _body_of(services, portal, root.event_id)
    first_line = (body.strip().splitlines() or ["Thread"])[0]
    return first_line[:THREAD_NAME_LIMIT] or "Thread"


async def _body_of(services: M2DServices, portal: PortalRow, event_id: str) -> str:
    try:
        event = await services.bot.get_event(RoomID(portal.room_id or ""), EventID(event_id))
    except Exception:
        return ""
    content = event.content.serialize() if hasattr(event.content, "serialize") else {}
    new_content = content.get("m.new_content") or content
    return str(new_content.get("body") or "")


async def reply_target(services: M2DServices, portal: PortalRow, raw: dict[str, Any]) -> str:
    """The quoted reply line to put first (webhooks cannot reply natively), or ""."""
    relation = _relation(raw)
    reply_to = (relation.get("m.in_reply_to") or {}).get("event_id")
    if not reply_to or relation.get("is_falling_back"):
        return ""
    target = await services.tables.message_part_by_event(portal.room_id or "", reply_to)
    if target is None:
        return ""
    if services.puppets.is_ghost(target.sender_mxid):
        author = await discord_name(services, portal, target.sender_mxid)
    else:
        room_id = portal.room_id or ""
        author = (await identity(services, room_id, target.sender_mxid, portal.guild_id)).name
    excerpt = await _body_of(services, portal, target.event_id)
    jump = (
        f"https://discord.com/channels/{portal.guild_id}/{target.channel_id}/"
        f"{target.discord_message_id}"
        if portal.guild_id
        else None
    )
    return reply_line(author, excerpt, jump) + "\n"

"""Sending a Matrix user's message to Discord through the channel's webhook, as them."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Sequence
from typing import Any

import discord
from mautrix.types import ContentURI, EventType, MessageEvent

from ...convert.m2d.context import M2DContext
from ...convert.m2d.formatting import DiscordText, matrix_to_discord
from ...convert.m2d.names import webhook_username
from ...convert.m2d.reply import location_text, media_fallback, media_is_spoiler
from ...convert.m2d.split import split_for_discord
from ...db.rows import MessagePartRow, PortalRow
from .delivery import Delivery
from .failures import DeliveryRefused
from .lookups import Identity, conversion_context, identity
from .services import M2DServices
from .threads import reply_target, thread_for

log = logging.getLogger("bridge.m2d.send")
MEDIA_TYPES = {"m.image", "m.file", "m.video", "m.audio"}


def discord_mentions(text: DiscordText) -> discord.AllowedMentions:
    """Exactly what was converted may ping, never more."""
    return discord.AllowedMentions(
        everyone=text.mention_everyone,
        users=[discord.Object(user_id) for user_id in text.mentioned_user_ids],
        roles=False,
        replied_user=False,
    )


async def send(
    services: M2DServices,
    portal: PortalRow,
    event: MessageEvent,
    replay_since_ms: int | None = None,
) -> None:
    """Post a Matrix message through the channel's webhook and record what it became.

    ``replay_since_ms``: the inbox arrival (ms since the epoch) of an event relayed again at
    start-up, whose messages may be on Discord already; None for a live event."""
    raw: dict[str, Any] = event.content.serialize()
    msgtype = raw.get("msgtype")
    if msgtype == "m.notice" and not services.options.relay_notices:
        return
    room_id = str(event.room_id)
    # An event already relayed (pushed again) never gets here: handle._already_relayed.
    who = await identity(services, room_id, str(event.sender), portal.guild_id)
    thread_id = await thread_for(services, portal, raw)
    prefix = await reply_target(services, portal, raw)
    sent = Delivery(services, event, thread_id or portal.discord_id, replay_since_ms)
    await sent.begin()  # a replay first looks for what the attempt before the restart posted
    try:
        await _send(services, portal, event, raw, who, thread_id, prefix, sent)
    finally:
        # What reached Discord is remembered even if a later piece failed.
        await remember_sent(services, portal, event, sent.sent, thread_id)


async def _send(
    services: M2DServices,
    portal: PortalRow,
    event: MessageEvent,
    raw: dict[str, Any],
    who: Identity,
    thread_id: int | None,
    prefix: str,
    sent: Delivery,
) -> None:
    msgtype = raw.get("msgtype")
    if event.type == EventType.STICKER or msgtype in MEDIA_TYPES:
        await _send_media(services, portal, raw, who, thread_id, prefix, sent)
    else:
        if msgtype == "m.location":
            text = DiscordText(location_text(raw))
        else:
            context = await conversion_context(services, portal, raw, str(event.sender), who.name)
            text = await matrix_to_discord(raw, context)
        await _send_text(services, portal, text, who, thread_id, prefix, sent)


async def _send_text(
    services: M2DServices,
    portal: PortalRow,
    text: DiscordText,
    who: Identity,
    thread_id: int | None,
    prefix: str,
    sent: Delivery,
    files: list[discord.File] | None = None,
) -> None:
    """The text in as many Discord messages as it needs; files go with the last one.

    Each message sent is added to ``sent`` at once, so a failure later loses none of them.
    """
    full = prefix + text.content
    chunks = split_for_discord(full) if full.strip() else []
    if not chunks and not files:
        return
    for index, chunk in enumerate(chunks or [""]):
        last = index == max(len(chunks), 1) - 1
        await sent.post(
            portal.discord_id,
            thread_id=thread_id,
            content=chunk,
            username=webhook_username(who.name, "Matrix user"),
            avatar_url=who.avatar(services),
            allowed_mentions=discord_mentions(text),
            **({"files": files} if last and files else {}),
        )


async def _send_media(
    services: M2DServices,
    portal: PortalRow,
    raw: dict[str, Any],
    who: Identity,
    thread_id: int | None,
    prefix: str,
    sent: Delivery,
) -> None:
    """The file itself, uploaded to Discord; a file over the limit becomes a line of text,
    linking to the file through the bridge when it has a public address."""
    filename = str(raw.get("filename") or raw.get("body") or "file")
    has_caption = bool(raw.get("filename")) and raw.get("body") != raw.get("filename")
    size = (raw.get("info") or {}).get("size") or 0
    limit = _upload_limit(services, portal)
    url = str(raw.get("url") or "")
    if not url:
        raise DeliveryRefused("the file is encrypted or has no URL")
    data = None if size > limit else await services.bot.download_media(ContentURI(url))
    if data is None or len(data) > limit:  # over the guild's or the config's limit
        link = services.file_links.url_for(url, filename) if services.file_links else None
        fallback = DiscordText(media_fallback(filename, link))
        await _send_text(services, portal, fallback, who, thread_id, prefix, sent)
        return
    spoiler = media_is_spoiler(raw)
    file = discord.File(io.BytesIO(data), filename=filename, spoiler=spoiler)
    caption = DiscordText("")
    if has_caption:  # a captioned file: the caption is a message like any other
        caption = await matrix_to_discord({**raw, "msgtype": "m.text"}, M2DContext())
    await _send_text(services, portal, caption, who, thread_id, prefix, sent, files=[file])


def _upload_limit(services: M2DServices, portal: PortalRow) -> int:
    guild = services.discord.get_guild(portal.guild_id) if portal.guild_id else None
    limit = guild.filesize_limit if guild else services.options.max_file_size
    return min(limit, services.options.max_file_size)


async def remember_sent(
    services: M2DServices,
    portal: PortalRow,
    event: Any,
    messages: Sequence[discord.Message | None],
    thread_id: int | None,
) -> None:
    """Record the Discord messages a Matrix event became (part 0 each, ``kind`` matrix:<n>),
    then mark the event read as the bot: it reached Discord (once per backlog of the room:
    ``read_markers``). ``event`` is any Matrix event with ``room_id``, ``event_id``,
    ``sender``, ``type`` and ``timestamp`` (ms). None stands for a message posted whose id
    is unknown (an answer without it): not recorded, but the event did reach Discord."""
    rows = [
        MessagePartRow(
            discord_message_id=message.id,
            part=0,
            channel_id=thread_id or portal.discord_id,
            room_id=str(event.room_id),
            event_id=str(event.event_id),
            sender_mxid=str(event.sender),
            timestamp=event.timestamp or int(time.time() * 1000),
            thread_id=thread_id,
            kind=f"matrix:{index}",
            event_type=str(event.type),
        )
        for index, message in enumerate(messages)
        if message is not None
    ]
    await services.tables.message_parts.upsert_many(rows)
    if messages:
        # A read receipt from the bot: the message reached Discord.
        services.read_markers.relayed(str(event.room_id), str(event.event_id))

"""Polls from Matrix (MSC3381): a Discord poll sent by the channel's webhook as the poll's
author, or text with the answers when Discord cannot show it as a poll; the poll's end as a
text reply with the counted answers.

A webhook's poll cannot be ended early by the bot (``POST /channels/{id}/polls/{message_id}/
expire`` needs the poll to be the bot's own), so the end is always posted as text; the Discord
poll closes by itself after its duration.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from mautrix.types import EventID, GenericEvent, RoomID, UserID

from ...convert.m2d.names import webhook_username
from ...convert.m2d.polls import (
    MatrixPoll,
    discord_poll,
    parse_poll_start,
    poll_end_text,
    poll_results,
    poll_start_of_end,
    poll_text,
)
from ...convert.m2d.reply import reply_line
from ...convert.m2d.split import split_for_discord
from ...db.rows import PortalRow
from .lookups import identity
from .send import remember_sent
from .services import M2DServices
from .threads import thread_for

log = logging.getLogger("bridge.m2d.polls")
NO_PINGS = discord.AllowedMentions.none()


def _content(event: GenericEvent) -> dict[str, Any]:
    content = event.content
    return content.serialize() if hasattr(content, "serialize") else dict(content or {})


async def start(services: M2DServices, portal: PortalRow, event: GenericEvent) -> None:
    """Send an ``m.poll.start`` to Discord; a poll without question or answers is skipped."""
    content = _content(event)
    poll = parse_poll_start(content)
    if poll is None:
        log.info("Poll %s has no question or answers: not relayed", event.event_id)
        return
    thread_id = await thread_for(services, portal, content)
    as_poll = discord_poll(poll)
    if as_poll is not None:
        await _send(services, portal, event, thread_id, [""], poll=as_poll)
    else:
        await _send(services, portal, event, thread_id, split_for_discord(poll_text(poll)))


async def end(services: M2DServices, portal: PortalRow, event: GenericEvent) -> None:
    """Post the end of a bridged poll as a reply quoting it: its results if the end event
    carries them, else "Poll ended.". An end by neither the poll's author nor someone who may
    redact others' events is ignored (MSC3381)."""
    content = _content(event)
    room_id = str(event.room_id)
    start_id = poll_start_of_end(content)
    target = await services.tables.message_part_by_event(room_id, start_id) if start_id else None
    if target is None or start_id is None:
        return  # the poll never reached Discord
    if str(event.sender) != target.sender_mxid and not await _may_redact(services, event):
        log.info("%s may not end the poll %s: ignored", event.sender, start_id)
        return
    poll = await _poll_of(services, room_id, start_id)
    author = (await identity(services, room_id, target.sender_mxid, portal.guild_id)).name
    jump = (
        f"https://discord.com/channels/{portal.guild_id}/{target.channel_id}/"
        f"{target.discord_message_id}"
        if portal.guild_id
        else None
    )
    quote = reply_line(author, poll.question if poll else "", jump)
    text = quote + "\n" + poll_end_text(poll, poll_results(content))
    await _send(services, portal, event, target.thread_id, split_for_discord(text))


async def _poll_of(services: M2DServices, room_id: str, event_id: str) -> MatrixPoll | None:
    try:
        start_event = await services.bot.get_event(RoomID(room_id), EventID(event_id))
    except Exception as error:
        log.debug("Poll %s unreadable: %s", event_id, error)
        return None
    content = start_event.content
    raw = content.serialize() if hasattr(content, "serialize") else dict(content or {})
    return parse_poll_start(raw)


async def _may_redact(services: M2DServices, event: GenericEvent) -> bool:
    try:
        levels = await services.bot.get_power_levels(RoomID(str(event.room_id)))
    except Exception:
        return False
    return levels.get_user_level(UserID(str(event.sender))) >= levels.redact


async def _send(
    services: M2DServices,
    portal: PortalRow,
    event: GenericEvent,
    thread_id: int | None,
    chunks: list[str],
    poll: discord.Poll | None = None,
) -> None:
    """Each chunk (the poll goes with the first) through the webhook as the event's sender;
    what reached Discord is remembered even if a later chunk failed."""
    room_id = str(event.room_id)
    who = await identity(services, room_id, str(event.sender), portal.guild_id)
    sent: list[discord.Message | None] = []
    try:
        for index, chunk in enumerate(chunks):
            extra: dict[str, Any] = {"content": chunk} if chunk else {}
            if poll is not None and index == 0:
                extra["poll"] = poll
            sent.append(
                await services.webhooks.send(
                    portal.discord_id,
                    thread_id=thread_id,
                    username=webhook_username(who.name, "Matrix user"),
                    avatar_url=who.avatar(services),
                    allowed_mentions=NO_PINGS,
                    **extra,
                )
            )
    finally:
        await remember_sent(services, portal, event, sent, thread_id)

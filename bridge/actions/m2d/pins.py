"""Pins from Matrix: a user's change of ``m.room.pinned_events`` pins and unpins on Discord.

The change is the difference between the event's ``prev_content`` (the list before it, as the
homeserver sends it in ``unsigned``) and its content. Pins the bridge itself sets (Discord's
pins, an import's) come from its bot and are never relayed, so nothing echoes back. Events
not bridged to Discord are skipped. Pinning needs Pin Messages (PIN_MESSAGES, split from
Manage Messages in January 2026); without it the room gets a notice.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from mautrix.errors import MatrixError
from mautrix.types import EventType, RoomID, StateEvent

from ...convert.m2d.pins import pin_changes, pinned_ids
from ...db.rows import PortalRow
from .services import M2DServices

log = logging.getLogger("bridge.m2d.pins")


def _serialized(content: Any) -> Any:
    return content.serialize() if hasattr(content, "serialize") else content


async def pins_changed(services: M2DServices, portal: PortalRow, event: StateEvent) -> None:
    """Pin on Discord what the event pinned, unpin what it unpinned (first Discord message of
    each bridged event); stop at the first refusal and tell the room."""
    room_id = str(event.room_id)
    changes = pin_changes(
        pinned_ids(_serialized(event.prev_content)), pinned_ids(_serialized(event.content))
    )
    reason = f"Pinned from Matrix by {event.sender}"
    steps = [(e, True) for e in changes.pinned] + [(e, False) for e in changes.unpinned]
    for event_id, pin in steps:
        target = await services.tables.message_part_by_event(room_id, event_id)
        if target is None:
            continue  # not on Discord
        channel = services.discord.get_partial_messageable(target.channel_id)
        message = channel.get_partial_message(target.discord_message_id)
        try:
            if pin:
                await message.pin(reason=reason)
            else:
                await message.unpin(reason=reason.replace("Pinned", "Unpinned"))
        except discord.Forbidden:
            await _tell_lacking_permission(services, room_id, str(event.sender), portal)
            return
        except discord.NotFound:
            log.info("%s in %s is gone from Discord: not (un)pinned", event_id, room_id)


async def _tell_lacking_permission(
    services: M2DServices, room_id: str, sender: str, portal: PortalRow
) -> None:
    channel = services.discord.get_channel(portal.discord_id)
    where = f"#{channel.name}" if isinstance(channel, discord.abc.GuildChannel) else "the channel"
    content = {
        "msgtype": "m.notice",
        "body": (
            f"{sender}: pins are not changed on Discord: the bridge's bot lacks the "
            f"Pin Messages permission in {where}."
        ),
        "m.mentions": {"user_ids": [sender]},
    }
    try:
        await services.bot.send_message_event(RoomID(room_id), EventType.ROOM_MESSAGE, content)  # type: ignore[arg-type]
    except MatrixError as error:
        log.warning("Could not tell %s that pins are not relayed: %s", room_id, error)

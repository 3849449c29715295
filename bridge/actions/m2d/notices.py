"""Telling a Matrix user, once per room, that their messages there do not reach Discord."""

from __future__ import annotations

import logging
import time
from typing import Any

from mautrix.errors import MatrixError
from mautrix.types import EventType, MessageEvent, RoomID

from ...db.rows import PermissionNoticeRow
from .services import M2DServices

log = logging.getLogger("bridge.m2d.notices")


async def notify_once(services: M2DServices, event: Any, text: str) -> bool:
    """Reply to ``event`` (a user's message) with the notice ``text``, unless its sender was
    already told in this room (remembered across restarts). Reactions and redactions get no
    notice. Returns whether a notice was sent."""
    if not isinstance(event, MessageEvent):
        return False
    room_id, mxid = str(event.room_id), str(event.sender)
    table = services.tables.permission_notices
    if await table.get(room_id, mxid) is not None:
        return False
    # Remembered first: a notice that fails to send is not retried for every message.
    await table.upsert(PermissionNoticeRow(room_id, mxid, int(time.time() * 1000)))
    content = {
        "msgtype": "m.notice",
        "body": f"{mxid}: {text}",
        "m.mentions": {"user_ids": [mxid]},
        "m.relates_to": {"m.in_reply_to": {"event_id": str(event.event_id)}},
    }
    try:
        await services.bot.send_message_event(RoomID(room_id), EventType.ROOM_MESSAGE, content)  # type: ignore[arg-type]
    except MatrixError as error:
        log.warning("Could not tell %s in %s why nothing is relayed: %s", mxid, room_id, error)
        return False
    log.info("Told %s in %s why their messages are not relayed", mxid, room_id)
    return True

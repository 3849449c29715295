"""Whether a channel's room may take its history: nothing bridged in it that the import does
not know of.

History can only go after what a room already holds (Matrix has no insertion before existing
events), and an import that does not know of earlier bridged messages would send them again.
Two places tell: the database (live messages relayed since the room was made), and the room
itself (a room the bridge adopted after losing its database still holds what it bridged
before; the homeserver de-duplicates a resend only while it remembers the transaction ids,
about a day on Synapse). Shared by the ``import`` command line and the chat ``import`` command
(both run :class:`~bridge.importer.command.ImportRun`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from mautrix.api import Method, Path
from mautrix.errors import MatrixRequestError

from ..actions.d2m.services import RelayServices

log = logging.getLogger("bridge.importer")
PAGE_SIZE = 100  # events per /messages request
PAGES = 2  # requests at most: enough to tell, not a scan of the whole room
MESSAGE_TYPES = ["m.room.message", "m.sticker"]
REPLACE_HINT = (
    "Run the import again with --replace-rooms: the channel gets a new room that replaces the "
    "old one (which is tombstoned, leaves the space and stays as an archive)."
)


@dataclass(frozen=True)
class BridgedInRoom:
    """Messages of the bridge's ghosts found in a room: ``count`` among the newest
    ``PAGES * PAGE_SIZE`` message events; ``more`` if the room holds older ones unread."""

    count: int
    more: bool

    @property
    def text(self) -> str:
        return f"{'at least ' if self.more else ''}{self.count}"


async def live_message_parts(services: RelayServices, channel_id: int) -> int:
    """How many message parts the channel's current room has in the database (0 for a
    channel without a room)."""
    portal = await services.tables.portals.get(channel_id)
    if portal is None or portal.room_id is None:
        return 0
    return int(
        await services.tables.db.fetchval(
            "SELECT COUNT(*) FROM message_part WHERE room_id = $1", portal.room_id
        )
    )


async def bridged_in_room(services: RelayServices, room_id: str) -> BridgedInRoom:
    """Message events sent by the bridge's ghosts, read from the room itself (the bot's own
    messages do not count: its command replies and notices are no Discord history):
    ``GET /rooms/{roomId}/messages?dir=b`` with a ``types`` filter (Client-Server API,
    "Room events: /messages"), newest first, :data:`PAGES` pages at most.

    Raises :class:`~mautrix.errors.MatrixRequestError` when the homeserver refuses.
    """
    count, more = 0, False
    query = {"dir": "b", "limit": str(PAGE_SIZE), "filter": json.dumps({"types": MESSAGE_TYPES})}
    for _ in range(PAGES):
        page = await services.bot.api.request(
            Method.GET, Path.v3.rooms[room_id].messages, query_params=query
        )
        events = page.get("chunk") or []
        senders = [event.get("sender", "") for event in events]
        count += sum(1 for sender in senders if services.puppets.is_ghost(sender))
        token = str(page.get("end") or "")
        more = bool(events) and bool(token)
        if not more:
            break
        query["from"] = token
    return BridgedInRoom(count, more)


async def room_refusal(services: RelayServices, channel_id: int) -> str | None:
    """Why an import that starts afresh (no checkpoint) must not send into the channel's
    current room, or None if it may: the room has live bridged messages in the database, or
    holds bridged messages the database does not know of (see the module's docstring).

    A room the homeserver will not let the bot read is refused too (it cannot be checked).
    """
    portal = await services.tables.portals.get(channel_id)
    if portal is None or portal.room_id is None:
        return None
    live = await live_message_parts(services, channel_id)
    if live:
        return (
            f"channel {channel_id} already has {live} live bridged message parts in its room "
            f"{portal.room_id}, and Matrix cannot insert history before them. {REPLACE_HINT}"
        )
    try:
        found = await bridged_in_room(services, portal.room_id)
    except MatrixRequestError as error:
        return (
            f"channel {channel_id}: could not read its room {portal.room_id} to check that it "
            f"holds no bridged messages (GET /messages: {error.http_status} {error.errcode}: "
            f"{error.message}). Check that the bridge bot is in the room. {REPLACE_HINT}"
        )
    if found.count:
        return (
            f"channel {channel_id}: its room {portal.room_id} already holds {found.text} bridged "
            "messages (its history was imported before, or it is a room the bridge adopted "
            "after losing its database): importing would send them again. " + REPLACE_HINT
        )
    return None

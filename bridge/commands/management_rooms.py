"""Management rooms: a Matrix user's direct chat with the bridge bot, where every message is
a command (as in mautrix bridges).

A room becomes the user's management room when the user invites the bot to it as a direct
chat (``is_direct: true`` in the invite's member event); it is recorded in
``matrix_user.management_room`` (a newer direct chat replaces an older one). It stays one only
while just the bot and that user are in it: once anyone else is there, the record is dropped
and the room is an ordinary room (commands need the prefix) from then on.
"""

from __future__ import annotations

import logging

from mautrix.appservice import IntentAPI
from mautrix.errors import MatrixError
from mautrix.types import Membership, MemberStateEventContent, RoomID, StateEvent

from ..db.rows import MatrixUserRow
from ..db.tables import BridgeTables

log = logging.getLogger("bridge.commands")


def is_direct_invite(event: StateEvent, bot_mxid: str) -> bool:
    """A member event inviting the bot as a direct chat (pure)."""
    content = event.content
    return (
        isinstance(content, MemberStateEventContent)
        and event.state_key == bot_mxid
        and content.membership == Membership.INVITE
        and bool(content.is_direct)
    )


async def remember_management_room(tables: BridgeTables, event: StateEvent, bot_mxid: str) -> None:
    """Record the room of an accepted direct-chat invite as the inviter's management room
    (does nothing for other invites)."""
    if not is_direct_invite(event, bot_mxid):
        return
    mxid, room_id = str(event.sender), str(event.room_id)
    row = await tables.matrix_users.get(mxid) or MatrixUserRow(mxid)
    row.management_room = room_id
    await tables.matrix_users.upsert(row)
    log.info("%s is the management room of %s", room_id, mxid)


async def is_management_room(
    tables: BridgeTables, bot: IntentAPI, room_id: str, sender: str
) -> bool:
    """Whether ``room_id`` is ``sender``'s management room: recorded as such, and only the
    bot and the sender are in it. One key lookup for any other room (no homeserver request);
    a recorded room with other members stops being one (its record is dropped)."""
    row = await tables.matrix_users.get(sender)
    if row is None or row.management_room != room_id:
        return False
    try:
        members = await bot.get_joined_members(RoomID(room_id))
    except MatrixError as error:
        log.warning("Could not read the members of %s: %s", room_id, error)
        return False
    if set(members) == {bot.mxid, sender}:
        return True
    log.info("%s is no longer the management room of %s: others joined it", room_id, sender)
    row.management_room = None
    await tables.matrix_users.upsert(row)
    return False

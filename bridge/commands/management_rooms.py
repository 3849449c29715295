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


class ManagementRooms:
    """Each user's management room, read from ``matrix_user`` once and kept in memory, so a
    message in any other room (every relayed one) costs no database or homeserver request."""

    def __init__(self, tables: BridgeTables, bot: IntentAPI) -> None:
        self.tables, self.bot = tables, bot
        self._by_user: dict[str, str] | None = None  # mxid → room id

    async def _rooms(self) -> dict[str, str]:
        if self._by_user is None:
            rows = await self.tables.matrix_users.find("management_room IS NOT NULL")
            self._by_user = {row.mxid: row.management_room for row in rows if row.management_room}
        return self._by_user

    async def remember(self, event: StateEvent) -> None:
        """Record the room of an accepted direct-chat invite as the inviter's management room
        (does nothing for other invites)."""
        if not is_direct_invite(event, self.bot.mxid):
            return
        mxid, room_id = str(event.sender), str(event.room_id)
        await self._set(mxid, room_id)
        log.info("%s is the management room of %s", room_id, mxid)

    async def check(self, room_id: str, sender: str) -> bool:
        """Whether ``room_id`` is ``sender``'s management room: recorded as such, and only
        the bot and the sender are in it; a recorded room with other members stops being one
        (its record is dropped)."""
        if (await self._rooms()).get(sender) != room_id:
            return False
        try:
            members = await self.bot.get_joined_members(RoomID(room_id))
        except MatrixError as error:
            log.warning("Could not read the members of %s: %s", room_id, error)
            return False
        if set(members) == {self.bot.mxid, sender}:
            return True
        log.info("%s is no longer the management room of %s: others joined it", room_id, sender)
        await self._set(sender, None)
        return False

    async def _set(self, mxid: str, room_id: str | None) -> None:
        row = await self.tables.matrix_users.get(mxid) or MatrixUserRow(mxid)
        row.management_room = room_id
        await self.tables.matrix_users.upsert(row)
        rooms = await self._rooms()
        if room_id is None:
            rooms.pop(mxid, None)
        else:
            rooms[mxid] = room_id

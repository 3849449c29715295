"""The bot's read marker in a room: it follows the Matrix messages that reached Discord.

Each relayed message moves the bot's read receipt and fully-read marker to it (one request to
the homeserver). When a room has a backlog (a burst the homeserver pushed at once), only the
newest relayed message of the backlog needs it: the marker is moved by a job queued behind the
room's waiting events, once, to the newest message relayed by then. A message relayed alone
still moves it at once (its job runs right after it).
"""

from __future__ import annotations

import logging

from mautrix.appservice import IntentAPI
from mautrix.types import EventID, RoomID

from ..ordering import ChannelQueues

log = logging.getLogger("bridge.m2d.send")


def room_queue(room_id: str) -> tuple[str, str]:
    """The key of a room's queue in :class:`ChannelQueues`: its events go out in order."""
    return ("m2d", room_id)


class ReadMarkers:
    """Moves the bot's read marker in a room to the newest relayed event (see the module)."""

    def __init__(self, bot: IntentAPI, queues: ChannelQueues) -> None:
        self.bot = bot
        self.queues = queues
        self._newest: dict[str, str] = {}  # room id → newest relayed event id, not yet marked

    def relayed(self, room_id: str, event_id: str) -> None:
        """``event_id`` reached Discord (called from the room's queue, in its order)."""
        waiting = room_id in self._newest
        self._newest[room_id] = event_id
        if not waiting:  # one job per backlog: it marks whatever is newest when it runs
            self.queues.submit(room_queue(room_id), lambda: self._mark(room_id))

    async def _mark(self, room_id: str) -> None:
        event_id = self._newest.pop(room_id, None)
        if event_id is None:
            return
        try:
            await self.bot.mark_read(RoomID(room_id), EventID(event_id))
        except Exception as error:
            log.debug("No read receipt for %s: %s", event_id, error)

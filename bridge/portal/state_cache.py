"""What the bridge knows of each room's current state, so that a sync sends only differences.

A room's state is read from the homeserver once (the first time the bridge looks at it in this
process), then kept up to date from what the bridge sends and from the state events the
homeserver pushes (changes made by Matrix users). So a sync with nothing changed on Discord
sends nothing at all.
"""

from __future__ import annotations

from typing import Any

from mautrix.api import Method, Path
from mautrix.appservice import IntentAPI

from ..convert.d2m.room_state import StateKey

RoomState = dict[StateKey, dict[str, Any]]


class RoomStateCache:
    """The rooms' state as ``{(event type, state key): content}`` per room ID.

    Equal contents under the same type and state key are kept once, shared by the rooms that
    hold them: every room of a guild carries the same image pack (two events of one entry per
    emoji), which for 500 rooms and 200 emoji would otherwise be 200 000 dicts. Contents are
    never changed in place (a change is a new content), so sharing them is safe.
    """

    def __init__(self, bot: IntentAPI) -> None:
        self.bot = bot
        self._rooms: dict[str, RoomState] = {}
        self._last: dict[StateKey, dict[str, Any]] = {}  # the last content seen per key

    def _shared(self, key: StateKey, content: dict[str, Any]) -> dict[str, Any]:
        """``content``, or the equal content already kept under ``key``."""
        last = self._last.get(key)
        if last is not None and (last is content or last == content):
            return last
        self._last[key] = content
        return content

    async def get(self, room_id: str) -> RoomState:
        """The room's current state, read from the homeserver the first time."""
        if room_id not in self._rooms:
            events = await self.bot.api.request(Method.GET, Path.v3.rooms[room_id].state)
            state: RoomState = {}
            for event in events:
                key = (event["type"], event.get("state_key", ""))
                state[key] = self._shared(key, event.get("content", {}))
            self._rooms[room_id] = state
        return self._rooms[room_id]

    def record(
        self, room_id: str, event_type: str, state_key: str, content: dict[str, Any]
    ) -> None:
        """Note a state event sent or seen, if the room is known."""
        if room_id in self._rooms:
            key = (event_type, state_key)
            self._rooms[room_id][key] = self._shared(key, content)

    def observe(self, raw_event: dict[str, Any]) -> None:
        """Keep up with a state event the homeserver pushed (any sender)."""
        if "state_key" in raw_event and "room_id" in raw_event:
            self.record(
                raw_event["room_id"],
                raw_event["type"],
                raw_event["state_key"],
                raw_event.get("content", {}),
            )

    def join_rule(self, room_id: str) -> str | None:
        """The room's join rule if its state is known here (never a request)."""
        state = self._rooms.get(room_id)
        if state is None:
            return None
        return state.get(("m.room.join_rules", ""), {}).get("join_rule")

    def forget(self, room_id: str) -> None:
        self._rooms.pop(room_id, None)

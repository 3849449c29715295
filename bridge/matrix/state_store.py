"""mautrix's SQL state store, with the lookups made before every send answered from memory.

Before each event it sends, mautrix checks the sender's membership, the room's power levels
and its create event: five database queries per message, which on a busy import cost more
than the bridge's own work. This store keeps what it read or wrote in memory. Every write
goes to the database first and then to memory, so memory never holds what the database does
not; the database stays the truth after a restart.

Power levels and create events are kept as JSON text, and parsed on each read so that a
caller changing the object it got never changes what is cached. The permission check before
each send reads a parsed copy kept beside the text instead (parsing them with mautrix's
attrs types is what a send cost most in the bridge).
"""

from __future__ import annotations

import json
from typing import Any

from mautrix.appservice.state_store.asyncpg import PgASStateStore
from mautrix.types import (
    EventType,
    Member,
    Membership,
    MemberStateEventContent,
    PowerLevelStateEventContent,
    RoomID,
    Serializable,
    StateEvent,
    UserID,
)
from mautrix.util.async_db import Database

MAX_MEMBERS = 200_000  # (room, user) entries kept before the member cache starts over


def _as_json(content: Any) -> str:
    return json.dumps(content.serialize() if isinstance(content, Serializable) else content)


class CachedStateStore(PgASStateStore):
    """A write-through cache in front of mautrix's ``mx_user_profile`` and ``mx_room_state``."""

    def __init__(self, db: Database, max_members: int = MAX_MEMBERS) -> None:
        super().__init__(db)
        self.max_members = max_members
        # None: the database has no row (no membership known, no power levels, no create).
        self._members: dict[tuple[RoomID, UserID], Member | None] = {}
        self._power_levels: dict[RoomID, str | None] = {}
        self._creates: dict[RoomID, str | None] = {}
        # Parsed once per text, only for has_power_level (which changes nothing).
        self._parsed: dict[str, Any] = {}

    # Members

    async def get_member(self, room_id: RoomID, user_id: UserID) -> Member | None:
        key = (room_id, user_id)
        if key in self._members:
            return self._copy(self._members[key])
        member = await super().get_member(room_id, user_id)
        self._remember_member(key, member)
        return self._copy(member)

    async def set_member(
        self, room_id: RoomID, user_id: UserID, member: Member | MemberStateEventContent
    ) -> None:
        await super().set_member(room_id, user_id, member)
        stored = Member(
            membership=member.membership,
            displayname=member.displayname,
            avatar_url=member.avatar_url,
        )
        self._remember_member((room_id, user_id), stored)

    async def set_membership(
        self, room_id: RoomID, user_id: UserID, membership: Membership
    ) -> None:
        await super().set_membership(room_id, user_id, membership)
        cached = self._members.get((room_id, user_id))
        if cached is None:
            # A new row holds no profile; an unknown one is read again when asked.
            self._members.pop((room_id, user_id), None)
        else:
            cached.membership = membership

    async def set_members(
        self,
        room_id: RoomID,
        members: dict[UserID, Member | MemberStateEventContent],
        only_membership: Membership | None = None,
    ) -> None:
        await super().set_members(room_id, members, only_membership)
        for key in [key for key in self._members if key[0] == room_id]:
            del self._members[key]

    async def joined_rooms(self, user_id: str) -> list[str]:
        """The rooms the user has joined, as the state store knows them (its database)."""
        rows = await self.db.fetch(
            "SELECT room_id FROM mx_user_profile WHERE user_id=$1 AND membership='join'", user_id
        )
        return [row["room_id"] for row in rows]

    async def note_profile_everywhere(
        self, user_id: UserID, displayname: str | None, avatar_url: str, except_rooms: list[str]
    ) -> None:
        """Record a global profile change in every room the user has joined (the homeserver
        rewrites those member events itself), except rooms showing a per-room profile."""
        placeholders = ", ".join(f"${index}" for index in range(4, 4 + len(except_rooms)))
        await self.db.execute(
            "UPDATE mx_user_profile SET displayname=$2, avatar_url=$3 "
            "WHERE user_id=$1 AND membership='join'"
            + (f" AND room_id NOT IN ({placeholders})" if except_rooms else ""),
            user_id,
            displayname,
            avatar_url,
            *except_rooms,
        )
        kept = set(except_rooms)
        for (room_id, member_id), member in self._members.items():
            if member is None or member_id != user_id or room_id in kept:
                continue
            if member.membership == Membership.JOIN:
                member.displayname = displayname  # type: ignore[assignment]
                member.avatar_url = avatar_url  # type: ignore[assignment]

    def _remember_member(self, key: tuple[RoomID, UserID], member: Member | None) -> None:
        if len(self._members) >= self.max_members and key not in self._members:
            self._members.clear()
        self._members[key] = member

    @staticmethod
    def _copy(member: Member | None) -> Member | None:
        if member is None:
            return None
        return Member(
            membership=member.membership,
            displayname=member.displayname,
            avatar_url=member.avatar_url,
        )

    # Power levels and create events

    async def has_power_levels_cached(self, room_id: RoomID) -> bool:
        return await self._power_levels_json(room_id) is not None

    async def get_power_levels(self, room_id: RoomID) -> PowerLevelStateEventContent | None:
        text = await self._power_levels_json(room_id)
        return None if text is None else PowerLevelStateEventContent.parse_json(text)

    async def set_power_levels(
        self, room_id: RoomID, content: PowerLevelStateEventContent | dict[str, Any]
    ) -> None:
        await super().set_power_levels(room_id, content)
        self._power_levels[room_id] = _as_json(content)

    async def has_create_cached(self, room_id: RoomID) -> bool:
        return await self._create_json(room_id) is not None

    async def get_create(self, room_id: RoomID) -> StateEvent | None:
        text = await self._create_json(room_id)
        return None if text is None else StateEvent.parse_json(text)

    async def set_create(self, event: StateEvent) -> None:
        await super().set_create(event)
        self._creates[event.room_id] = _as_json(event)

    async def has_power_level(
        self, room_id: RoomID, user_id: UserID, event_type: EventType
    ) -> bool | None:
        levels_text = await self._power_levels_json(room_id)
        if levels_text is None:
            return None
        levels = self._parse(levels_text, PowerLevelStateEventContent)
        create_text = await self._create_json(room_id)
        create = None if create_text is None else self._parse(create_text, StateEvent)
        return levels.get_user_level(user_id, create) >= levels.get_event_level(event_type)

    def _parse(self, text: str, kind: Any) -> Any:
        if text not in self._parsed:
            if len(self._parsed) >= 10_000:
                self._parsed.clear()
            self._parsed[text] = kind.parse_json(text)
        return self._parsed[text]

    async def _power_levels_json(self, room_id: RoomID) -> str | None:
        if room_id not in self._power_levels:
            self._power_levels[room_id] = await self.db.fetchval(
                "SELECT power_levels FROM mx_room_state WHERE room_id=$1", room_id
            )
        return self._power_levels[room_id]

    async def _create_json(self, room_id: RoomID) -> str | None:
        if room_id not in self._creates:
            self._creates[room_id] = await self.db.fetchval(
                "SELECT create_event FROM mx_room_state WHERE room_id=$1", room_id
            )
        return self._creates[room_id]

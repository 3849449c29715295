"""The cached state store answers like mautrix's SQL store, from memory, and keeps the
database the truth: a second store on the same database reads back every write."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mautrix.types import (
    EventType,
    Member,
    Membership,
    PowerLevelStateEventContent,
    RoomID,
    StateEvent,
    UserID,
)

from bridge.db.connect import OpenDatabase, open_database
from bridge.db.url import resolve_database_url
from bridge.matrix.state_store import CachedStateStore

ROOM = RoomID("!room:example.org")
GHOST = UserID("@discord_1:example.org")
BOT = UserID("@discordbot:example.org")


@pytest.fixture
async def database(database_url: str, tmp_path: Path) -> AsyncIterator[OpenDatabase]:
    opened = await open_database(resolve_database_url(database_url, tmp_path))
    await CachedStateStore.upgrade_table.upgrade(opened.pool)
    yield opened
    await opened.close()


def count_reads(store: CachedStateStore) -> list[int]:
    calls = [0]
    for name in ("fetchval", "fetchrow"):
        original = getattr(store.db, name)

        async def counted(*args: object, __original=original) -> object:  # type: ignore[no-untyped-def]
            calls[0] += 1
            return await __original(*args)

        setattr(store.db, name, counted)
    return calls


async def test_membership_is_read_once_then_from_memory(database: OpenDatabase) -> None:
    writer = CachedStateStore(database.pool)
    await writer.set_member(
        ROOM, GHOST, Member(membership=Membership.JOIN, displayname="Alice", avatar_url="mxc://x/a")
    )

    store = CachedStateStore(database.pool)
    reads = count_reads(store)
    for _ in range(5):
        assert await store.is_joined(ROOM, GHOST)
    assert reads[0] == 1
    member = await store.get_member(ROOM, GHOST)
    assert member is not None and member.displayname == "Alice"

    # A caller changing the object it got does not change what is stored.
    member.displayname = "changed"
    again = await store.get_member(ROOM, GHOST)
    assert again is not None and again.displayname == "Alice"


async def test_unknown_members_are_remembered_as_unknown(database: OpenDatabase) -> None:
    store = CachedStateStore(database.pool)
    reads = count_reads(store)
    assert await store.get_member(ROOM, GHOST) is None
    assert not await store.is_joined(ROOM, GHOST)
    assert reads[0] == 1


async def test_writes_reach_the_database_and_memory(database: OpenDatabase) -> None:
    store = CachedStateStore(database.pool)
    assert not await store.is_joined(ROOM, GHOST)
    await store.invited(ROOM, GHOST)
    assert await store.get_membership(ROOM, GHOST) == Membership.INVITE
    await store.set_member(
        ROOM, GHOST, Member(membership=Membership.JOIN, displayname="Alice", avatar_url="mxc://x/a")
    )
    await store.set_membership(ROOM, GHOST, Membership.LEAVE)
    member = await store.get_member(ROOM, GHOST)
    assert member == Member(
        membership=Membership.LEAVE, displayname="Alice", avatar_url="mxc://x/a"
    )

    fresh = CachedStateStore(database.pool)
    assert await fresh.get_member(ROOM, GHOST) == Member(
        membership=Membership.LEAVE, displayname="Alice", avatar_url="mxc://x/a"
    )


async def test_a_full_member_list_replaces_what_was_cached(database: OpenDatabase) -> None:
    store = CachedStateStore(database.pool)
    await store.set_member(ROOM, GHOST, Member(membership=Membership.JOIN, displayname="Alice"))
    await store.set_members(ROOM, {BOT: Member(membership=Membership.JOIN, displayname="Bot")})
    assert await store.get_member(ROOM, GHOST) is None
    assert await store.is_joined(ROOM, BOT)


async def test_a_profile_change_is_noted_in_joined_rooms_but_kept_rooms(
    database: OpenDatabase,
) -> None:
    other = RoomID("!other:example.org")
    store = CachedStateStore(database.pool)
    await store.set_member(ROOM, GHOST, Member(membership=Membership.JOIN, displayname="Old"))
    await store.set_member(
        other, GHOST, Member(membership=Membership.JOIN, displayname="Nick in other")
    )
    await store.note_profile_everywhere(GHOST, "New", "mxc://x/new", except_rooms=[other])
    for reader in (store, CachedStateStore(database.pool)):
        assert await reader.get_member(ROOM, GHOST) == Member(
            membership=Membership.JOIN, displayname="New", avatar_url="mxc://x/new"
        )
        kept = await reader.get_member(other, GHOST)
        assert kept is not None and kept.displayname == "Nick in other"


async def test_power_levels_and_create_are_read_once(database: OpenDatabase) -> None:
    writer = CachedStateStore(database.pool)
    await writer.set_power_levels(
        ROOM, PowerLevelStateEventContent(users={GHOST: 50}, events={"m.room.name": 100})
    )
    create = StateEvent.deserialize(
        {
            "type": "m.room.create",
            "room_id": ROOM,
            "sender": BOT,
            "state_key": "",
            "event_id": "$create",
            "origin_server_ts": 1,
            "content": {"room_version": "12"},
        }
    )
    await writer.set_create(create)

    store = CachedStateStore(database.pool)
    reads = count_reads(store)
    for _ in range(5):
        assert await store.has_power_levels_cached(ROOM)
        assert await store.has_create_cached(ROOM)
        assert await store.has_power_level(ROOM, GHOST, EventType.ROOM_MESSAGE)
        assert not await store.has_power_level(ROOM, GHOST, EventType.ROOM_NAME)
    assert reads[0] == 2
    levels = await store.get_power_levels(ROOM)
    assert levels is not None and levels.users[GHOST] == 50
    levels.users[GHOST] = 0  # a caller's change stays with the caller
    again = await store.get_power_levels(ROOM)
    assert again is not None and again.users[GHOST] == 50
    created = await store.get_create(ROOM)
    assert created is not None and created.event_id == "$create"


async def test_a_room_without_power_levels_is_not_cached_as_having_them(
    database: OpenDatabase,
) -> None:
    store = CachedStateStore(database.pool)
    assert not await store.has_power_levels_cached(ROOM)
    await store.set_power_levels(ROOM, {"users": {GHOST: 100}})
    assert await store.has_power_levels_cached(ROOM)
    levels = await store.get_power_levels(ROOM)
    assert levels is not None and levels.users[GHOST] == 100


async def test_a_permission_check_follows_new_power_levels(database: OpenDatabase) -> None:
    store = CachedStateStore(database.pool)
    await store.set_power_levels(ROOM, {"users": {GHOST: 0}, "events_default": 0})
    assert await store.has_power_level(ROOM, GHOST, EventType.ROOM_MESSAGE)
    await store.set_power_levels(ROOM, {"users": {GHOST: 0}, "events_default": 50})
    assert not await store.has_power_level(ROOM, GHOST, EventType.ROOM_MESSAGE)
    assert (
        await store.has_power_level(RoomID("!unknown:example.org"), GHOST, EventType.ROOM_MESSAGE)
        is None
    )

"""Unbridging a room a Matrix user created (in room version 12 the user is a creator with
every power): the bridge hands it over to the admins without naming the creator in the power
levels, which the homeserver would refuse; in older versions the creator stays listed."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bridge.app import Bridge
from bridge.matrix.rooms import creators_have_every_power
from tests.commands.conftest import BOT, Chat, People, localpart, open_chat
from tests.commands.test_rooms import own_room
from tests.fixtures.community import SERVER, Community, eventually
from tests.fixtures.inprocess import MakeConfig

pytestmark = pytest.mark.slow

SECOND_ADMIN = f"@second_admin:{SERVER}"  # configured, never in the room


@pytest_asyncio.fixture(loop_scope="session")
async def two_admin_bridge(make_bridge_config: MakeConfig, people: People) -> AsyncIterator[Bridge]:
    """The bridge with ``people`` and a second admin."""
    permissions = {**people.permissions, SECOND_ADMIN: "admin"}
    bridge = Bridge(make_bridge_config({"bridge.permissions": json.dumps(permissions)}))
    try:
        await bridge.start()
        yield bridge
    finally:
        await bridge.stop()


async def test_unbridging_a_users_room_hands_it_over(
    two_admin_bridge: Bridge,
    community: Community,
    make_matrix_user: Any,
    people: People,
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = await make_matrix_user(localpart=localpart(people.admin))
    lounge = community.channels["lounge"]
    room = await own_room(admin, "Our lounge", bot_power=100)
    create = await admin.state_event(room, "m.room.create")
    # The homeserver's default version: from 12 the creator has every power, unlisted;
    # before, the creator is listed at 100 like any other user.
    creator_implied = creators_have_every_power(create.get("room_version"))
    created = (await admin.state_event(room, "m.room.power_levels"))["users"]
    if creator_implied:
        assert admin.user_id not in created, created
    else:
        assert created.get(admin.user_id) == 100, created
    chat = Chat(admin, room)
    reply = await chat.command(f"!discord bridge-room {lounge}")
    assert "now bridged to **#lounge**" in reply["body"], reply["body"]
    reply = await chat.command(f"!discord bridge-room {lounge}")
    assert reply["body"].startswith("This room was already bridged to **#lounge**"), reply["body"]
    assert "synced it again" in reply["body"]
    bridged = (await admin.state_event(room, "m.room.power_levels"))["users"]
    ghosts = {user: level for user, level in bridged.items() if user.startswith("@discord_")}
    assert any(level < 100 for level in ghosts.values()), bridged  # the mod's ghost

    caplog.set_level(logging.WARNING, logger="bridge")
    direct = await open_chat(admin)
    reply = await direct.command(f"unbridge {lounge}")
    assert "no longer bridged" in reply["body"], reply["body"]

    async def bot_gone() -> bool | None:
        return True if BOT not in await admin.api.get_joined_members(room) else None

    await eventually(bot_gone, "the bot leaving the archive")
    users = (await admin.state_event(room, "m.room.power_levels"))["users"]
    assert users.get(SECOND_ADMIN) == 100, users  # handed over to the admin who is no creator
    if creator_implied:
        assert admin.user_id not in users  # the creator: never listed from room version 12
    else:
        assert users.get(admin.user_id) == 100, users  # the creator, listed: still an admin
    # The ghosts left, and lost the levels the bot could take back (those below its own).
    assert {u: lvl for u, lvl in users.items() if u.startswith("@discord_")} == {
        user: level for user, level in ghosts.items() if level >= 100
    }
    assert await two_admin_bridge.database.tables.portals.get(lounge) is None
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [r.getMessage() for r in warnings if "power_levels" in r.getMessage()]


async def test_emptying_a_users_room_names_the_creator_who_stays(
    two_admin_bridge: Bridge, community: Community, make_matrix_user: Any, people: People
) -> None:
    admin = await make_matrix_user(localpart=localpart(people.admin))
    friend = await make_matrix_user()
    lounge = community.channels["lounge"]
    room = await own_room(admin, "Our lounge", bot_power=100)
    await admin.api.invite_user(room, friend.user_id)
    await friend.join(room)
    reply = await Chat(admin, room).command(f"!discord bridge-room {lounge}")
    assert "now bridged to **#lounge**" in reply["body"], reply["body"]

    direct = await open_chat(admin)
    reply = await direct.command(f"unbridge {lounge} --delete-rooms")
    assert "1 room emptied, its aliases removed" in reply["body"], reply["body"]
    assert f"Matrix let nobody remove {admin.user_id}" in reply["body"], reply["body"]
    assert friend.user_id not in reply["body"]
    kicked = await admin.state_event(room, "m.room.member", friend.user_id)
    assert kicked is not None and kicked["membership"] == "leave"
    stayed = await admin.state_event(room, "m.room.member", admin.user_id)
    assert stayed is not None and stayed["membership"] == "join"

"""Live changes on Discord, mirrored in the bridged space tree as a Matrix client sees it."""

from __future__ import annotations

import asyncio

import pytest

from bridge.app import Bridge
from bridge.convert.model import MemberSnapshot, UserSnapshot
from bridge.sandbox.discord import permissions as perms
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import Community, eventually, ghost, room_of
from tests.fixtures.discord import SandboxGuild

pytestmark = pytest.mark.slow


async def children(client: MatrixTestClient, space: str) -> list[str]:
    return [child["room_id"] for child in await client.space_children(space)]


async def ghost_in(bridge: Bridge, room: str, user_id: int, name: str) -> None:
    """The user's ghost joined to the room, as after they spoke there."""
    assert bridge.puppets is not None
    user = UserSnapshot(user_id, name.lower(), name)
    intent = await bridge.puppets.ensure(user)
    await bridge.puppets.join(intent, room, user=user, member=MemberSnapshot(user_id))


async def wait_for_member(
    view: MatrixTestClient, room: str, user_id: int, field: str, value: str, what: str
) -> None:
    """Until the ghost's member event in the room has ``field`` set to ``value``."""

    async def check() -> bool | None:
        member = await view.state_event(room, "m.room.member", ghost(user_id))
        return True if member and member.get(field) == value else None

    await eventually(check, what)


async def test_rename_reorder_create_delete_and_guild_update(
    running_bridge: Bridge,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
) -> None:
    assert running_bridge.guilds is not None
    store = sandbox_guild.emulator.store
    space = (await running_bridge.guilds.bridge_guild(community.guild_id)).space_room_id
    ids = community.channels
    lounge, rules = (
        await room_of(running_bridge, ids["lounge"]),
        await room_of(running_bridge, ids["rules"]),
    )
    announcements = await room_of(running_bridge, ids["announcements"])
    info, chat = (
        await room_of(running_bridge, ids["Info"]),
        await room_of(running_bridge, ids["Chat"]),
    )

    store.update_channel(ids["lounge"], name="hangout", topic="New topic")

    async def renamed() -> bool | None:
        name = await bot_view.state_event(lounge, "m.room.name")
        topic = await bot_view.state_event(lounge, "m.room.topic")
        return True if name["name"] == "hangout" and topic["topic"] == "New topic" else None

    await eventually(renamed, "the room to be renamed")

    async def row_renamed() -> bool | None:
        row = await running_bridge.database.tables.portals.get(ids["lounge"])
        return True if row and (row.name, row.topic) == ("hangout", "New topic") else None

    await eventually(row_renamed, "the portal row to have the new name and topic")

    store.update_channel(ids["rules"], position=0)
    store.update_channel(ids["announcements"], position=1)

    async def reordered() -> bool | None:
        return True if await children(bot_view, info) == [rules, announcements] else None

    await eventually(reordered, "the category's rooms to be reordered")

    new_channel = store.create_channel(community.guild_id, "new-channel", parent_id=ids["Chat"])

    async def created() -> str | None:
        row = await running_bridge.database.tables.portals.get(new_channel.id)
        if row and row.room_id and row.room_id in await children(bot_view, chat):
            return row.room_id
        return None

    new_room = await eventually(created, "a room for the new channel")
    name = await bot_view.state_event(new_room, "m.room.name")
    assert name["name"] == "new-channel"

    store.delete_channel(ids["rules"])

    async def retired() -> bool | None:
        if rules in await children(bot_view, info):
            return None
        timeline = await bot_view.timeline(rules, types=["m.room.message"])
        notices = [e for e in timeline if "deleted on Discord" in e["content"].get("body", "")]
        return True if notices else None

    await eventually(retired, "the deleted channel's room to leave the space")
    parent = await bot_view.state_event(rules, "m.space.parent", info)
    assert not parent  # emptied: the room no longer claims a place in the space
    assert (await bot_view.state_event(rules, "m.room.name"))["name"] == "rules"  # still there

    store.update_guild(community.guild_id, name="Renamed Guild")

    async def guild_renamed() -> bool | None:
        return (
            True
            if (await bot_view.state_event(space, "m.room.name"))["name"] == "Renamed Guild"
            else None
        )

    await eventually(guild_renamed, "the space to be renamed")

    old_avatar = (await bot_view.state_event(space, "m.room.avatar"))["url"]
    store.update_guild(community.guild_id, icon=solid_png(10, 200, 10))

    async def guild_reiconed() -> bool | None:
        avatar = await bot_view.state_event(space, "m.room.avatar")
        return True if avatar["url"] != old_avatar else None

    await eventually(guild_reiconed, "the space to get the new icon")


async def test_role_and_member_changes(
    running_bridge: Bridge,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
) -> None:
    assert running_bridge.guilds is not None and running_bridge.puppets is not None
    store = sandbox_guild.emulator.store
    await running_bridge.guilds.bridge_guild(community.guild_id)
    lounge = await room_of(running_bridge, community.channels["lounge"])
    carol, bob = community.users["carol"], community.users["bob"]

    async def levels() -> dict[str, int]:
        return (await bot_view.state_event(lounge, "m.room.power_levels"))["users"]

    store.update_member(community.guild_id, carol, roles=[community.roles["mod"]])

    async def carol_promoted() -> bool | None:
        return True if (await levels()).get(ghost(carol)) == 50 else None

    await eventually(carol_promoted, "carol's ghost to get moderator power")

    store.update_role(community.guild_id, community.roles["mod"], permissions=perms.VIEW_CHANNEL)

    async def mods_demoted() -> bool | None:
        current = await levels()
        return True if ghost(carol) not in current and ghost(bob) not in current else None

    await eventually(mods_demoted, "the moderators to lose their power")

    # Carol's ghost is in the room (as after she spoke), then she leaves the guild.
    await ghost_in(running_bridge, lounge, carol, "Carol")
    store.remove_member(community.guild_id, carol)
    await wait_for_member(bot_view, lounge, carol, "membership", "leave", "carol's ghost to leave")


async def test_a_ban_on_discord_bans_the_ghost(
    running_bridge: Bridge,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
) -> None:
    assert running_bridge.guilds is not None and running_bridge.puppets is not None
    await running_bridge.guilds.bridge_guild(community.guild_id)
    lounge = await room_of(running_bridge, community.channels["lounge"])
    bob = community.users["bob"]
    await ghost_in(running_bridge, lounge, bob, "Bob")
    sandbox_guild.emulator.store.ban_member(community.guild_id, bob, reason="spam")
    await wait_for_member(bot_view, lounge, bob, "membership", "ban", "bob's ghost to be banned")


async def test_a_nick_change_shows_in_the_guild_rooms_where_the_ghost_is(
    running_bridge: Bridge,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
) -> None:
    assert running_bridge.guilds is not None and running_bridge.puppets is not None
    await running_bridge.guilds.bridge_guild(community.guild_id)
    lounge = await room_of(running_bridge, community.channels["lounge"])
    announcements = await room_of(running_bridge, community.channels["announcements"])
    carol = community.users["carol"]
    await ghost_in(running_bridge, lounge, carol, "Carol")
    sandbox_guild.emulator.store.update_member(community.guild_id, carol, nick="Caz")
    await wait_for_member(
        bot_view, lounge, carol, "displayname", "Caz (Discord)", "carol's nick in the lounge"
    )
    # Not joined elsewhere: the nick change made the ghost join nothing.
    assert await bot_view.state_event(announcements, "m.room.member", ghost(carol)) is None


async def test_shutdown_waits_for_a_sync_already_running(
    running_bridge: Bridge, community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    guilds = running_bridge.guilds
    assert guilds is not None
    await guilds.bridge_guild(community.guild_id)
    started, finished = asyncio.Event(), []

    async def slow_sync(guild: object) -> None:
        started.set()
        await asyncio.sleep(0.5)
        finished.append(community.guild_id)

    monkeypatch.setattr(guilds, "sync", slow_sync)
    guilds.schedule_sync(community.guild_id)
    await started.wait()  # past the debounce: the sync has begun
    await guilds.wait_idle()
    assert finished == [community.guild_id]

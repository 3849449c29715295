"""Unbridging from chat, from Discord (the bot removed) and from the config, then bridging
again: rooms kept as archives or emptied, the database forgetting, nothing relayed after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from bridge.app import Bridge
from bridge.sandbox.discord.store import Store
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.commands.conftest import BOT, Chat, People
from tests.fixtures.community import SERVER, eventually, ghost, room_of
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig

pytestmark = pytest.mark.slow


@dataclass
class SmallGuild:
    """The sandbox guild with #general, #lounge and alice (a member who talks)."""

    store: Store
    guild_id: int
    general: int
    lounge: int
    alice: int
    bot: int

    def say(self, channel_id: int, text: str) -> None:
        self.store.create_message(channel_id, self.alice, text)


@pytest.fixture
def small_guild(sandbox_guild: SandboxGuild) -> SmallGuild:
    store, guild = sandbox_guild.emulator.store, sandbox_guild.guild
    alice = store.create_user("alice", global_name="Alice")
    store.add_member(guild.id, alice.id)
    general = next(iter(guild.channel_ids))
    lounge = store.create_channel(guild.id, "lounge", position=1).id
    return SmallGuild(store, guild.id, general, lounge, alice.id, sandbox_guild.bot.id)


async def bodies(client: MatrixTestClient, room_id: str) -> list[str]:
    events = await client.timeline(room_id, types=["m.room.message"])
    return [e["content"].get("body", "") for e in events]


async def wait_for_text(client: MatrixTestClient, room_id: str, text: str) -> None:
    async def arrived() -> bool:
        return text in await bodies(client, room_id)

    await eventually(arrived, f"{text!r} in {room_id}")


async def membership(client: MatrixTestClient, room_id: str, mxid: str) -> str | None:
    content = await client.state_event(room_id, "m.room.member", mxid)
    return content.get("membership") if content else None


async def bridge_state(client: MatrixTestClient, room_id: str) -> list[dict[str, Any]]:
    events = await client.state(room_id)
    return [e["content"] for e in events if e["type"] in ("m.bridge", "uk.half-shot.bridge")]


async def children(client: MatrixTestClient, space: str) -> list[str]:
    return [e["state_key"] for e in await client.state(space, "m.space.child") if e["content"]]


async def resolves(client: MatrixTestClient, alias: str) -> bool:
    try:
        await client.api.resolve_room_alias(alias)  # type: ignore[arg-type]
    except Exception:
        return False
    return True


async def bridge_from_chat(chat: Chat, bridge: Bridge, guild: SmallGuild) -> str:
    reply = await chat.command(f"bridge {guild.guild_id}")
    assert "Bridged" in reply["body"], reply["body"]
    assert bridge.database is not None
    row = await bridge.database.tables.guilds.get(guild.guild_id)
    assert row is not None and row.space_room_id
    return row.space_room_id


async def test_guild_unbridged_as_archive_then_bridged_again(
    admin_chat: Chat, command_bridge: Bridge, small_guild: SmallGuild
) -> None:
    reply = await admin_chat.command("unbridge 123456789012345678")
    assert "123456789012345678" in reply["body"] and "`guilds`" in reply["body"]

    admin, tables = admin_chat.client, command_bridge.database.tables  # type: ignore[union-attr]
    space = await bridge_from_chat(admin_chat, command_bridge, small_guild)
    room = await room_of(command_bridge, small_guild.lounge)
    await admin.join(space)
    await admin.join(room)
    small_guild.say(small_guild.lounge, "said while bridged")
    await wait_for_text(admin, room, "said while bridged")

    reply = await admin_chat.command(f"unbridge {small_guild.guild_id}")
    assert "no longer bridged" in reply["body"] and "3 rooms" in reply["body"], reply["body"]

    texts = await bodies(admin, room)
    assert "said while bridged" in texts  # the history stays readable
    assert any("no longer bridged to Discord" in t and admin.user_id in t for t in texts)
    assert all(content == {} for content in await bridge_state(admin, room))
    assert await bridge_state(admin, room)
    assert await membership(admin, room, ghost(small_guild.alice)) == "leave"
    assert await membership(admin, room, BOT) == "leave"
    assert await membership(admin, space, BOT) == "leave"
    assert await membership(admin, room, admin.user_id) == "join"
    # The admin who unbridged may manage the archive now that its creator (the bot) is gone.
    levels = await admin.state_event(room, "m.room.power_levels") or {}
    assert levels["users"][admin.user_id] == 100
    assert not await resolves(admin, f"#discord_{small_guild.lounge}:{SERVER}")
    assert await tables.guilds.get(small_guild.guild_id) is None
    assert await tables.portals.find("guild_id = $1", small_guild.guild_id) == []
    assert await tables.message_parts.find("room_id = $1", room) == []

    # Neither way relays any more: a Discord message and a Matrix one, both unbridged.
    small_guild.say(small_guild.lounge, "said after unbridging")
    await admin.send_text(room, "typed in the archive")

    new_space = await bridge_from_chat(admin_chat, command_bridge, small_guild)
    assert new_space != space
    new_room = await room_of(command_bridge, small_guild.lounge)
    assert new_room != room
    portals = await tables.portals.find("guild_id = $1", small_guild.guild_id)
    assert sorted(p.discord_id for p in portals) == sorted(
        [small_guild.general, small_guild.lounge]
    )
    await admin.join(new_space)
    await admin.join(new_room)
    assert len(await children(admin, new_space)) == 2  # one room per channel, nothing doubled
    assert await resolves(admin, f"#discord_{small_guild.lounge}:{SERVER}")
    small_guild.say(small_guild.lounge, "said after bridging again")
    await wait_for_text(admin, new_room, "said after bridging again")
    await admin.send_text(new_room, "typed after bridging again")

    async def on_discord() -> list[str] | None:
        texts = [m.content for m in small_guild.store.messages.values()]
        return texts if "typed after bridging again" in texts else None

    discord_texts = await eventually(on_discord, "the Matrix message on Discord")
    assert "typed in the archive" not in discord_texts
    assert "said after unbridging" not in await bodies(admin, room)
    assert "said after unbridging" not in await bodies(admin, new_room)
    assert "said while bridged" in await bodies(admin, room)


async def test_channel_unbridged_stays_out_of_syncs(
    admin_chat: Chat, command_bridge: Bridge, small_guild: SmallGuild
) -> None:
    admin, bridge = admin_chat.client, command_bridge
    tables = bridge.database.tables  # type: ignore[union-attr]
    space = await bridge_from_chat(admin_chat, bridge, small_guild)
    room = await room_of(bridge, small_guild.lounge)
    general = await room_of(bridge, small_guild.general)
    await admin.join(space)
    await admin.join(room)

    reply = await admin_chat.command(f"unbridge {small_guild.lounge}")
    assert "Channel **lounge**" in reply["body"] and "1 room " in reply["body"], reply["body"]
    assert await membership(admin, room, BOT) == "leave"
    assert await admin.state_event(room, "m.space.parent", space) == {}
    assert await children(admin, space) == [general]
    assert await tables.guilds.get(small_guild.guild_id) is not None
    assert await tables.portals.get(small_guild.lounge) is None
    assert await tables.excluded_channels.get(small_guild.lounge) is not None

    # A rename on Discord syncs the guild: the unbridged channel does not come back.
    small_guild.store.update_channel(small_guild.lounge, name="lounge-renamed")
    small_guild.store.update_channel(small_guild.general, name="general-renamed")

    async def renamed() -> bool:
        content = await admin.state_event(general, "m.room.name")
        return bool(content) and content.get("name") == "general-renamed"

    await admin.join(general)
    await eventually(renamed, "the sync after the renames")
    await bridge.guilds.wait_idle()  # type: ignore[union-attr]
    assert await tables.portals.get(small_guild.lounge) is None
    assert await children(admin, space) == [general]
    name = await admin.state_event(room, "m.room.name")
    assert name == {"name": "lounge"}  # the archive is left alone

    small_guild.say(small_guild.lounge, "in the unbridged channel")
    small_guild.say(small_guild.general, "in the bridged channel")
    await wait_for_text(admin, general, "in the bridged channel")
    await bridge.relay.queues.idle()  # type: ignore[union-attr]
    assert "in the unbridged channel" not in await bodies(admin, room)


async def test_delete_rooms_and_delete_portal(
    admin_chat: Chat, command_bridge: Bridge, small_guild: SmallGuild, make_matrix_user: Any
) -> None:
    admin, bridge = admin_chat.client, command_bridge
    tables = bridge.database.tables  # type: ignore[union-attr]
    space = await bridge_from_chat(admin_chat, bridge, small_guild)
    lounge = await room_of(bridge, small_guild.lounge)
    general = await room_of(bridge, small_guild.general)
    for room in (space, lounge, general):
        await admin.join(room)

    reply = await admin_chat.command(f"unbridge {small_guild.lounge} --delete-rooms")
    assert "emptied" in reply["body"], reply["body"]
    kicked = await admin.state_event(lounge, "m.room.member", admin.user_id)
    assert kicked is not None and kicked["membership"] == "leave"
    assert "no longer bridged" in kicked.get("reason", "")
    assert not await resolves(admin, f"#discord_{small_guild.lounge}:{SERVER}")
    assert await tables.portals.get(small_guild.lounge) is None

    # delete-portal in a room that is not a portal (with three members, so not a direct chat).
    friend = await make_matrix_user()
    plain = await admin.create_room(invite=[BOT, friend.user_id])
    await friend.join(plain)
    await eventually(lambda: _is(membership(admin, plain, BOT), "join"), "the bot joining")
    reply = await Chat(admin, plain).command("!discord delete-portal")
    assert "not bridged to Discord" in reply["body"], reply["body"]

    event_id = await admin.send_text(general, "!discord delete-portal")
    announced = await Chat(admin, general).reply_to(event_id)
    assert "this room will be emptied" in announced["body"], announced["body"]

    async def left() -> bool:
        return await membership(admin, general, admin.user_id) == "leave"

    await eventually(left, "the admin removed from #general's room")
    assert await tables.portals.get(small_guild.general) is None
    assert await tables.guilds.get(small_guild.guild_id) is not None  # its space stays

    await admin.send_text(space, "!discord delete-portal")

    async def guild_gone() -> bool:
        return await tables.guilds.get(small_guild.guild_id) is None

    await eventually(guild_gone, "the guild unbridged from its space")
    await eventually(
        lambda: _is(membership(admin, space, admin.user_id), "leave"), "the admin removed"
    )


async def _is(value: Any, expected: Any) -> bool:
    return await value == expected


async def test_bot_removed_from_guild_unbridges_it(
    command_bridge: Bridge, small_guild: SmallGuild, bot_view: MatrixTestClient, people: People
) -> None:
    from bridge.actions.admin.bridging import bridge_guild
    from bridge.actions.admin.services import Actor

    assert command_bridge.admin is not None
    outcome = await bridge_guild(command_bridge.admin, small_guild.guild_id, Actor("provisioning"))
    space = outcome.space_room_id
    general = await room_of(command_bridge, small_guild.general)
    # An outage (GUILD_DELETE with "unavailable") unbridges nothing: a later message still
    # arrives, and the guild is still bridged once it has.
    guild_id = small_guild.guild_id
    small_guild.store.emit(
        "GUILD_DELETE", {"id": str(guild_id), "unavailable": True}, guild_id, None
    )
    small_guild.say(small_guild.general, "still bridged")
    await wait_for_text(bot_view, general, "still bridged")
    tables = command_bridge.database.tables  # type: ignore[union-attr]
    assert await tables.guilds.get(guild_id) is not None

    small_guild.store.remove_member(guild_id, small_guild.bot)  # GUILD_DELETE, bot removed

    async def gone() -> bool:
        return await tables.guilds.get(small_guild.guild_id) is None

    await eventually(gone, "the guild unbridged after GUILD_DELETE")

    # No Matrix user ever joined these rooms: the bot stays (a room everyone left cannot be
    # joined again) and invites the admins, who may still want the archive.
    async def handed_over(room_id: str) -> bool:
        levels = await bot_view.state_event(room_id, "m.room.power_levels") or {}
        return (levels.get("users") or {}).get(people.admin) == 100

    async def archived() -> bool:
        texts = await bodies(bot_view, space)
        return any("bot was removed from the Discord server" in t for t in texts)

    await eventually(archived, "the space's archive notice")  # the space is done last
    assert await handed_over(general)
    assert await membership(bot_view, general, BOT) == "join"
    assert await membership(bot_view, space, BOT) == "join"
    assert all(content == {} for content in await bridge_state(bot_view, space))


async def test_guild_removed_from_config_is_unbridged_at_start(
    make_bridge_config: MakeConfig, small_guild: SmallGuild, bot_view: MatrixTestClient
) -> None:
    from bridge.db.rows import GuildRow

    configured = Bridge(make_bridge_config({"bridge.guilds": json.dumps([small_guild.guild_id])}))
    try:
        await configured.start()
        tables = configured.database.tables  # type: ignore[union-attr]
        row = await tables.guilds.get(small_guild.guild_id)
        assert row is not None and row.bridged_by == "config" and row.space_room_id
        space = row.space_room_id
        # A guild bridged by a command (the bot is not in it: it is only logged at start).
        await tables.guilds.upsert(GuildRow(42, name="Other", bridged_by="matrix:@x:y"))
    finally:
        await configured.stop()

    restarted = Bridge(make_bridge_config({"bridge.guilds": "[]"}))
    try:
        await restarted.start()
        tables = restarted.database.tables  # type: ignore[union-attr]
        assert await tables.guilds.get(small_guild.guild_id) is None
        assert await tables.guilds.get(42) is not None
    finally:
        await restarted.stop()
    texts = await bodies(bot_view, space)
    assert any("bridge.guilds" in t for t in texts), texts
    assert await membership(bot_view, space, BOT) == "join"  # nobody else ever joined it

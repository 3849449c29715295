"""Rooms from Matrix: `bridge-room` links a Matrix user's own room to a Discord channel;
`unset-relay` / `set-relay` per room; users with no level are told once why nothing of theirs
reaches Discord."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.app import Bridge
from bridge.db.rows import ExcludedChannelRow
from bridge.matrix.rooms import creators_have_every_power
from bridge.sandbox.discord.store import Message
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.commands.conftest import BOT, Chat, People, localpart
from tests.fixtures.community import Community, eventually, room_of
from tests.fixtures.discord import SandboxGuild

pytestmark = pytest.mark.slow


async def discord_text(sandbox: SandboxGuild, channel_id: int, text: str) -> Message:
    """The Discord message of ``channel_id`` containing ``text``, once it is there."""

    async def check() -> Message | None:
        history = sandbox.emulator.store.history(channel_id, limit=50)
        return next((m for m in history if text in m.content), None)

    return await eventually(check, f"{text!r} on Discord")


def on_discord(sandbox: SandboxGuild, channel_id: int, text: str) -> bool:
    return any(text in m.content for m in sandbox.emulator.store.history(channel_id, limit=50))


async def matrix_text(client: MatrixTestClient, room_id: str, text: str) -> dict[str, Any]:
    return await client.wait_for_message(room_id, text, timeout=20)


async def notices_to(client: MatrixTestClient, room_id: str, mxid: str) -> list[str]:
    """The bot's notices in the room that mention ``mxid``."""
    return [
        event["content"]["body"]
        for event in await client.timeline(room_id, types=["m.room.message"])
        if event["sender"] == BOT
        and event["content"].get("msgtype") == "m.notice"
        and mxid in (event["content"].get("m.mentions") or {}).get("user_ids", [])
    ]


async def own_room(
    client: MatrixTestClient, name: str, *, bot_power: int | None, encrypted: bool = False
) -> str:
    """A room the user creates and invites the bot to, once the bot joined it; with
    ``bot_power`` the bot gets that power level."""
    encryption = {"algorithm": "m.megolm.v1.aes-sha2"}
    state = [{"type": "m.room.encryption", "state_key": "", "content": encryption}]
    room_id = await client.create_room(
        name, invite=[BOT], initial_state=state if encrypted else None
    )
    if bot_power is not None:
        levels = await client.state_event(room_id, "m.room.power_levels") or {}
        users = {**levels.get("users", {}), BOT: bot_power}
        await client.send_state(room_id, "m.room.power_levels", {**levels, "users": users})

    async def joined() -> bool | None:
        return True if BOT in await client.api.get_joined_members(room_id) else None  # type: ignore[arg-type]

    await eventually(joined, f"the bot joining {name}")
    return room_id


async def test_bridge_room_adopts_a_users_room(
    command_bridge: Bridge,
    community: Community,
    sandbox_guild: SandboxGuild,
    make_matrix_user: Any,
    people: People,
) -> None:
    admin = await make_matrix_user(localpart=localpart(people.admin))
    friend = await make_matrix_user(localpart=localpart(people.relay))
    lounge = community.channels["lounge"]
    room = await own_room(admin, "Our lounge", bot_power=100)
    await admin.api.invite_user(room, friend.user_id)  # type: ignore[arg-type]
    await friend.join(room)
    before = await admin.send_text(room, "said before the bridge")
    # The tombstone level the homeserver gave the room: Synapse gives 150 from room version
    # 12 (MSC4289, only creators may upgrade), 100 before.
    create = await admin.state_event(room, "m.room.create") or {}
    tombstone = 150 if creators_have_every_power(create.get("room_version")) else 100
    created = await admin.state_event(room, "m.room.power_levels") or {}
    assert created["events"]["m.room.tombstone"] == tombstone, created
    chat = Chat(admin, room)

    # Refusals that change nothing: a bot without power, unknown and roomless channels.
    weak = await own_room(admin, "Weak bot", bot_power=None)
    reply = await Chat(admin, weak).command(f"!discord bridge-room {lounge}")
    assert "power level 0" in reply["body"] and "needs 100" in reply["body"], reply["body"]
    assert "/op" in reply["body"]
    secret = await own_room(admin, "Secret", bot_power=100, encrypted=True)
    reply = await Chat(admin, secret).command(f"!discord bridge-room {lounge}")
    assert "This room is encrypted" in reply["body"], reply["body"]
    reply = await chat.command("!discord bridge-room 123456789012345678")
    assert "sees no channel with ID 123456789012345678" in reply["body"], reply["body"]
    reply = await chat.command(f"!discord bridge-room {community.channels['Info']}")
    assert "is a category" in reply["body"], reply["body"]
    assert await command_bridge.database.tables.guilds.get(community.guild_id) is None

    reply = await chat.command(f"!discord bridge-room {lounge}")
    assert "now bridged to **#lounge**" in reply["body"], reply["body"]
    assert await room_of(command_bridge, lounge) == room
    members = await admin.api.get_joined_members(room)  # type: ignore[arg-type]
    assert {admin.user_id, friend.user_id, BOT} <= set(members)
    assert (await admin.event(room, before))["content"]["body"] == "said before the bridge"
    # The room is in the guild's new space tree (under its category), with the bridge's state.
    category = await room_of(command_bridge, community.channels["Chat"])
    parents = await admin.state(room, "m.space.parent")
    assert [event["state_key"] for event in parents if event["content"]] == [category]
    levels = await admin.state_event(room, "m.room.power_levels") or {}
    # The bridge's own level (100), except one above the bot's 100, which it keeps: it could
    # not change it (merge_power_levels).
    assert levels["users"][BOT] == 100 and levels["events"]["m.room.tombstone"] == tombstone
    assert levels["users"][f"@discord_{community.users['alice']}:{admin.user_id.split(':')[1]}"]

    # Both ways.
    alice = community.users["alice"]
    sandbox_guild.emulator.store.create_message(lounge, alice, "hello from Discord")
    await matrix_text(friend, room, "hello from Discord")
    await friend.send_text(room, "hello from Matrix")
    message = await discord_text(sandbox_guild, lounge, "hello from Matrix")
    assert message.webhook_id is not None
    assert not on_discord(sandbox_guild, lounge, "said before the bridge")

    # Refusals: a channel already bridged, a room already bridged.
    other = await own_room(admin, "Another room", bot_power=100)
    reply = await Chat(admin, other).command(f"!discord bridge-room {lounge}")
    assert "already bridged to the room" in reply["body"] and f"unbridge {lounge}" in reply["body"]
    reply = await chat.command(f"!discord bridge-room {community.channels['rules']}")
    assert "already the room of the Discord channel #lounge" in reply["body"], reply["body"]
    rules = community.channels["rules"]
    assert await room_of(command_bridge, rules) != other

    # A channel unbridged on its own (``excluded_channel``) may be bridged to a room again.
    tables = command_bridge.database.tables
    await tables.excluded_channels.upsert(ExcludedChannelRow(rules, community.guild_id, 1))
    reply = await Chat(admin, other).command(f"!discord bridge-room {rules}")
    assert "now bridged to **#rules**" in reply["body"], reply["body"]
    assert await room_of(command_bridge, rules) == other
    assert await tables.excluded_channels.get(rules) is None
    alias = await admin.state_event(other, "m.room.canonical_alias") or {}
    assert alias.get("alias") == f"#discord_{rules}:{admin.user_id.split(':')[1]}"


async def test_relay_off_and_on_and_users_without_a_level(
    command_bridge: Bridge,
    admin_chat: Chat,
    community: Community,
    sandbox_guild: SandboxGuild,
    make_matrix_user: Any,
) -> None:
    reply = await admin_chat.command(f"bridge {community.guild_id}")
    assert "Bridged" in reply["body"], reply["body"]
    admin = admin_chat.client
    lounge = community.channels["lounge"]
    room = await room_of(command_bridge, lounge)
    space = (await command_bridge.database.tables.guilds.get(community.guild_id)).space_room_id
    await admin.join(space)
    await admin.join(room)
    chat = Chat(admin, room)
    store = sandbox_guild.emulator.store

    # No level: nothing reaches Discord, one notice however many messages.
    stranger = await make_matrix_user()
    await stranger.join(space)
    await stranger.join(room)
    await stranger.send_text(room, "stranger one")
    await stranger.send_text(room, "stranger two")
    await admin.send_text(room, "admin marker")
    await discord_text(sandbox_guild, lounge, "admin marker")  # the room's queue is past them
    assert not on_discord(sandbox_guild, lounge, "stranger")
    told = await notices_to(admin, room, stranger.user_id)
    assert len(told) == 1 and "gives you no level" in told[0], told
    assert admin.user_id in told[0]  # whom to ask
    assert await notices_to(admin, room, admin.user_id) == []
    tables = command_bridge.database.tables
    assert await tables.permission_notices.get(room, stranger.user_id) is not None  # restarts

    # Relay off: Matrix → Discord stops, with one notice; Discord → Matrix goes on.
    reply = await chat.command("!discord unset-relay")
    assert "No longer relaying" in reply["body"], reply["body"]
    assert (await tables.portals.get(lounge)).relay_enabled is False
    await admin.send_text(room, "quiet one")
    await admin.send_text(room, "quiet two")
    store.create_message(lounge, community.users["carol"], "Discord still talks")
    await matrix_text(admin, room, "Discord still talks")
    reply = await chat.command("!discord set-relay")
    assert "again" in reply["body"], reply["body"]
    await command_bridge.m2d.queues.idle()  # the quiet messages were handled before the command
    assert not on_discord(sandbox_guild, lounge, "quiet")
    told = await notices_to(admin, room, admin.user_id)
    assert len(told) == 1 and "turned relaying off" in told[0], told
    await admin.send_text(room, "loud again")
    await discord_text(sandbox_guild, lounge, "loud again")

    reply = await admin_chat.command("!discord unset-relay")  # prefixed: still a direct chat
    assert "acts on the room it is sent in" in reply["body"], reply["body"]
    plain = await own_room(admin, "Plain", bot_power=None)
    reply = await Chat(admin, plain).command("!discord unset-relay")
    assert "This room is not bridged" in reply["body"], reply["body"]

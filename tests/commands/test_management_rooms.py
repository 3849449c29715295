"""Management rooms: only a direct chat with the bot (invited with ``is_direct``), and only
while just the user and the bot are in it, takes bare commands; anywhere else commands need
the prefix, and a direct chat's commands act on it as one whether prefixed or not."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.app import Bridge
from tests.commands.conftest import BOT, Chat, People, localpart
from tests.fixtures.community import eventually

pytestmark = pytest.mark.slow


async def bot_replies_to(chat: Chat, event_id: str) -> list[str]:
    """The bodies of the bot's replies to one event (so far)."""
    return [
        event["content"]["body"]
        for event in await chat.client.timeline(chat.room_id, types=["m.room.message"])
        if event["sender"] == BOT
        and ((event["content"].get("m.relates_to") or {}).get("m.in_reply_to") or {}).get(
            "event_id"
        )
        == event_id
    ]


async def test_a_two_person_room_that_is_not_direct_needs_the_prefix(
    command_bridge: Bridge, make_matrix_user: Any, people: People
) -> None:
    admin = await make_matrix_user(localpart=localpart(people.admin))
    room_id = await admin.create_room("My random", invite=[BOT])

    async def joined() -> bool | None:
        return True if BOT in await admin.api.get_joined_members(room_id) else None

    await eventually(joined, "the bot joining My random")
    chat = Chat(admin, room_id)
    hello = await admin.send_text(room_id, "hello")
    reply = await chat.command("!discord help")
    assert "In a direct chat with me, commands need no" in reply["body"], reply["body"]
    assert await bot_replies_to(chat, hello) == []
    row = await command_bridge.database.tables.matrix_users.get(people.admin)
    assert row is None or row.management_room != room_id


async def test_a_direct_chat_takes_bare_commands_until_someone_else_joins(
    admin_chat: Chat, command_bridge: Bridge, make_matrix_user: Any, people: People
) -> None:
    reply = await admin_chat.command("help")
    assert "In this direct chat, type commands without a prefix." in reply["body"], reply["body"]
    row = await command_bridge.database.tables.matrix_users.get(people.admin)
    assert row is not None and row.management_room == admin_chat.room_id

    # A command that acts on its room is refused here, with the prefix as without it.
    for body in ("bridge-room 123456789012345678", "!discord bridge-room 123456789012345678"):
        reply = await admin_chat.command(body)
        assert "acts on the room it is sent in" in reply["body"], (body, reply["body"])
        assert "not in this direct chat" in reply["body"]

    # Someone else joins: the room is an ordinary room from then on.
    friend = await make_matrix_user()
    await admin_chat.client.api.invite_user(admin_chat.room_id, friend.user_id)
    await friend.join(admin_chat.room_id)
    bare = await admin_chat.client.send_text(admin_chat.room_id, "help")
    reply = await admin_chat.command("!discord help")
    assert "In a direct chat with me, commands need no" in reply["body"], reply["body"]
    assert await bot_replies_to(admin_chat, bare) == []
    row = await command_bridge.database.tables.matrix_users.get(people.admin)
    assert row is not None and row.management_room is None

"""An admin's first commands in a direct chat with the bot: help, guilds, bridge."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.app import Bridge
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.commands.conftest import Chat
from tests.fixtures.community import Community

pytestmark = pytest.mark.slow


async def test_help_guilds_and_bridge(
    admin_chat: Chat, command_bridge: Bridge, community: Community
) -> None:
    reply = await admin_chat.command("help")
    assert "unbridge" in reply["body"] and "<code>" in reply["formatted_body"]
    reply = await admin_chat.command("guilds")
    assert str(community.guild_id) in reply["body"] and "not bridged" in reply["body"]
    reply = await admin_chat.command(f"bridge {community.guild_id}")
    assert "Bridged" in reply["body"], reply["body"]
    row = await command_bridge.database.tables.guilds.get(community.guild_id)
    assert row is not None and row.bridged_by and row.bridged_by.startswith("matrix:")
    reply = await admin_chat.command("brige 1")
    assert "Did you mean" in reply["body"] and "bridge" in reply["body"]
    reply = await admin_chat.command("bridge abc")
    assert "argument guild" in reply["body"] and "'abc'" in reply["body"]


async def test_ping_sync_status_and_invite(
    admin_chat: Chat,
    command_bridge: Bridge,
    community: Community,
    make_matrix_user: Any,
    bot_view: MatrixTestClient,
) -> None:
    reply = await admin_chat.command("ping")
    assert "Discord gateway (heartbeat):" in reply["body"] and "unavailable" not in reply["body"]
    assert "- database: " in reply["body"] and " ms" in reply["body"]
    reply = await admin_chat.command(f"sync {community.guild_id}")
    assert "is not bridged" in reply["body"] and f"bridge {community.guild_id}" in reply["body"]
    await admin_chat.command(f"bridge {community.guild_id}")
    reply = await admin_chat.command(f"sync {community.guild_id}")
    assert "0 rooms created, 0 state events sent" in reply["body"], reply["body"]
    reply = await admin_chat.command("status")
    assert "**Discord gateway:** connected" in reply["body"]
    assert f"(`{community.guild_id}`)" in reply["body"] and "import: none" in reply["body"]
    reply = await admin_chat.command("status 42")
    assert "Guild 42 is not bridged" in reply["body"]
    guest = await make_matrix_user()
    reply = await admin_chat.command(f"invite {guest.user_id}")
    assert "Invited" in reply["body"], reply["body"]
    space = (await command_bridge.database.tables.guilds.get(community.guild_id)).space_room_id
    member = await bot_view.state_event(space, "m.room.member", guest.user_id)
    assert member["membership"] == "invite"
    # #staff is hidden from @everyone: its members get in through their roles, not this.
    staff = await command_bridge.database.tables.portals.get(community.channels["staff"])
    members = await bot_view.api.get_members(staff.room_id)
    assert guest.user_id not in {str(event.state_key) for event in members}
    lounge = await command_bridge.database.tables.portals.get(community.channels["lounge"])
    member = await bot_view.state_event(lounge.room_id, "m.room.member", guest.user_id)
    assert member["membership"] == "invite"
    reply = await admin_chat.command("invite not-an-mxid")
    assert "argument user" in reply["body"] and "@alice:example.com" in reply["body"]

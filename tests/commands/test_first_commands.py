"""An admin's first commands in a direct chat with the bot: help, guilds, bridge."""

from __future__ import annotations

import pytest

from bridge.app import Bridge
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

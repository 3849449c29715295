"""The `bridge` chat command invites the one who ran it into the space, once (issue #15)."""

from __future__ import annotations

import pytest

from bridge.app import Bridge
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.commands.conftest import Chat, People
from tests.fixtures.community import SERVER, Community

pytestmark = pytest.mark.slow


async def test_bridge_invites_the_admin_who_ran_it_once(
    admin_chat: Chat,
    command_bridge: Bridge,
    community: Community,
    people: People,
    bot_view: MatrixTestClient,
) -> None:
    reply = await admin_chat.command(f"bridge {community.guild_id}")
    assert f"Invited to the space: {people.admin}." in reply["body"], reply["body"]
    alias = f"#discord_{community.guild_id}:{SERVER}"
    assert await admin_chat.client.join(alias)  # the invite lets the admin in by the alias
    reply = await admin_chat.command(f"bridge {community.guild_id}")
    assert "already bridged" in reply["body"] and "Invited" not in reply["body"], reply["body"]
    space = (await command_bridge.database.tables.guilds.get(community.guild_id)).space_room_id
    events = await bot_view.timeline(space, types=["m.room.member"])
    memberships = [e["content"]["membership"] for e in events if e["state_key"] == people.admin]
    assert memberships == ["invite", "join"]

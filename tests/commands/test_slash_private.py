"""``/matrix info`` in a private channel (hidden from @everyone, so its room is invite-only)
says that a member must invite you, not to join the space first."""

from __future__ import annotations

import pytest

from bridge.actions.admin.bridging import bridge_guild
from bridge.actions.admin.services import Actor
from bridge.app import Bridge
from tests.commands.test_slash import matrix_command
from tests.fixtures.community import Community, eventually, room_of
from tests.fixtures.discord import SandboxGuild

pytestmark = pytest.mark.slow


async def test_info_in_a_private_channel(
    sandbox_guild: SandboxGuild, community: Community, running_bridge: Bridge
) -> None:
    store, app_id = sandbox_guild.emulator.store, sandbox_guild.application.id
    guild_id = community.guild_id

    async def registered() -> bool | None:
        return True if store.list_commands(app_id, guild_id) else None

    await eventually(registered, "/matrix registered")
    assert running_bridge.admin is not None
    await bridge_guild(running_bridge.admin, guild_id, Actor("config"))
    staff, lounge = community.channels["staff"], community.channels["lounge"]
    room = await room_of(running_bridge, staff)
    owner = sandbox_guild.owner.id

    answer = await matrix_command(sandbox_guild, owner, staff, "matrix info")
    assert f"`{room}`" in answer.content, answer.content
    assert "This room is private" in answer.content
    assert "must invite your Matrix account" in answer.content
    assert "join the space first" not in answer.content
    answer = await matrix_command(sandbox_guild, owner, lounge, "matrix info")
    assert "join the space first" in answer.content and "private" not in answer.content

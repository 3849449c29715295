"""A command with subcommands is never run bare: Discord's clients offer only its
subcommands, and Discord refuses such an interaction (400 Invalid Form Body), so a bot never
receives ``/matrix`` without one."""

from __future__ import annotations

import pytest

from bridge.sandbox.discord.control_client import Control, ControlError
from bridge.sandbox.discord.errors import DiscordError
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Guild, User

from .conftest import Bot

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(60)]

MATRIX = {
    "name": "matrix",
    "description": "Matrix",
    "options": [
        {"type": 1, "name": "info", "description": "Where", "options": []},
        {"type": 1, "name": "bridge", "description": "Bridge", "options": []},
    ],
}


async def test_a_group_command_without_its_subcommand_is_refused(
    emulator: DiscordEmulator, bot: Bot, guild: Guild, owner: User
) -> None:
    store = emulator.store
    (command,) = store.overwrite_commands(bot.application.id, [MATRIX], guild.id)
    channel_id = guild.system_channel_id
    assert channel_id is not None
    before = len(store.interactions)

    with pytest.raises(DiscordError) as refused:
        store.command_data(bot.application.id, "matrix", guild_id=guild.id)
    assert (refused.value.status, refused.value.code) == (400, 50035)
    assert refused.value.message == "Invalid Form Body"
    assert "info, bridge" in str(refused.value.errors)

    bare = {"id": str(command.id), "name": "matrix", "type": 1, "guild_id": str(guild.id)}
    with pytest.raises(DiscordError) as refused:
        store.create_interaction(bot.application.id, owner.id, bare, channel_id=channel_id)
    assert (refused.value.status, refused.value.code) == (400, 50035)
    assert len(store.interactions) == before  # nothing reached the bot

    async with Control(f"{emulator.base_url}/_control") as control:
        with pytest.raises(ControlError) as error:
            await control.run_command(bot.application.id, owner.id, channel_id, "matrix")
        assert error.value.status == 400
        payload = await control.run_command(bot.application.id, owner.id, channel_id, "matrix info")
        assert payload["data"]["options"] == [{"type": 1, "name": "info", "options": []}]
        with_sub = {**bare, "options": [{"type": 1, "name": "bridge", "options": []}]}
        store.create_interaction(bot.application.id, owner.id, with_sub, channel_id=channel_id)

"""Slash commands as Discord runs them: the invoking member's real permissions, ephemeral
replies only their user sees, and subcommand data shaped as Discord sends it."""

from __future__ import annotations

import asyncio
from typing import Any

import discord
import pytest
from discord import app_commands

from bridge.sandbox.discord import permissions as perms
from bridge.sandbox.discord.control_client import Control, ControlError
from bridge.sandbox.discord.events import GatewayEvent
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Guild, User

from .conftest import Bot
from .gateway_client import WAIT, connected_client

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(60)]

EPHEMERAL = 64


async def test_interaction_permissions_are_the_members_in_the_channel(
    emulator: DiscordEmulator, bot: Bot, guild: Guild, owner: User
) -> None:
    store = emulator.store
    member = store.create_user("member")
    store.add_member(guild.id, member.id)
    quiet = store.create_channel(
        guild.id,
        "quiet",
        permission_overwrites=[{"id": guild.id, "type": 0, "deny": perms.SEND_MESSAGES}],
    )
    data = {"id": "1", "name": "ping", "type": 1}
    by_member = store.create_interaction(bot.application.id, member.id, data, channel_id=quiet.id)
    payload = store.interaction_payload(by_member)
    permissions = int(payload["member"]["permissions"])
    assert permissions & perms.VIEW_CHANNEL and not permissions & perms.SEND_MESSAGES
    assert not permissions & perms.MANAGE_GUILD
    # The bot is an administrator: it gets everything, as the owner does.
    assert int(payload["app_permissions"]) == perms.ALL
    by_owner = store.create_interaction(bot.application.id, owner.id, data, channel_id=quiet.id)
    assert int(store.interaction_payload(by_owner)["member"]["permissions"]) == perms.ALL


async def test_subcommand_data_and_ephemeral_replies(
    emulator: DiscordEmulator, bot: Bot, guild: Guild, owner: User
) -> None:
    store = emulator.store
    channel_id = guild.system_channel_id
    assert channel_id is not None
    member = store.create_user("member")
    store.add_member(guild.id, member.id)
    seen: list[GatewayEvent] = []
    unsubscribe = store.events.subscribe(seen.append)
    done: asyncio.Queue[Any] = asyncio.Queue()
    try:
        async with connected_client(emulator, bot.token) as client:
            tree = app_commands.CommandTree(client)
            group = app_commands.Group(name="matrix", description="Matrix")

            @group.command(description="Where to find this on Matrix")
            async def info(interaction: discord.Interaction) -> None:
                await interaction.response.send_message("secret", ephemeral=True)
                await interaction.followup.send("more", ephemeral=True)
                await done.put(interaction.permissions.manage_guild)

            @group.command(description="Bridge it")
            async def bridge(
                interaction: discord.Interaction, who: discord.Member, delete_rooms: bool = False
            ) -> None:
                await interaction.response.defer(ephemeral=True, thinking=True)
                await interaction.edit_original_response(content=f"{who.id} {delete_rooms}")
                await done.put(None)

            tree.add_command(group, guild=discord.Object(guild.id))
            await tree.sync(guild=discord.Object(guild.id))

            data = store.command_data(
                bot.application.id,
                "matrix bridge",
                {"who": member.id, "delete_rooms": True},
                guild_id=guild.id,
            )
            (command,) = store.list_commands(bot.application.id, guild.id)
            assert data == {
                "id": str(command.id),
                "name": "matrix",
                "type": 1,
                "guild_id": str(guild.id),
                "options": [
                    {
                        "type": 1,
                        "name": "bridge",
                        "options": [
                            {"name": "who", "type": 6, "value": str(member.id)},
                            {"name": "delete_rooms", "type": 5, "value": True},
                        ],
                    }
                ],
                "resolved": {
                    "users": {str(member.id): data["resolved"]["users"][str(member.id)]},
                    "members": {str(member.id): data["resolved"]["members"][str(member.id)]},
                },
            }
            assert "user" not in data["resolved"]["members"][str(member.id)]
            info_data = store.command_data(bot.application.id, "matrix info", guild_id=guild.id)
            assert info_data["options"] == [{"type": 1, "name": "info", "options": []}]

            before = len(store.channel_messages.get(channel_id, []))
            run = store.create_interaction(
                bot.application.id, member.id, info_data, channel_id=channel_id
            )
            assert await asyncio.wait_for(done.get(), WAIT) is False  # no Manage Server
            replies = store.interaction_messages(run)
            assert [m.content for m in replies] == ["secret", "more"]
            assert all(m.flags & EPHEMERAL for m in replies)

            slow = store.create_interaction(
                bot.application.id, owner.id, data, channel_id=channel_id
            )
            await asyncio.wait_for(done.get(), WAIT)
            (reply,) = store.interaction_messages(slow)
            assert reply.content == f"{member.id} True" and reply.flags == EPHEMERAL

            # Nobody else sees them: not in the channel's history, no message events.
            assert len(store.channel_messages.get(channel_id, [])) == before
            ids = {str(m.id) for m in [*replies, reply]}
            message_events = [e for e in seen if e.name.startswith("MESSAGE_")]
            assert not [e for e in message_events if e.data.get("id") in ids]
            assert not client.dispatches("MESSAGE_CREATE")
    finally:
        unsubscribe()


async def test_control_api_runs_a_command_by_its_words(
    emulator: DiscordEmulator, bot: Bot, guild: Guild, owner: User
) -> None:
    store = emulator.store
    store.overwrite_commands(
        bot.application.id,
        [
            {
                "name": "matrix",
                "description": "Matrix",
                "options": [{"type": 1, "name": "info", "description": "Where", "options": []}],
            }
        ],
        guild.id,
    )
    channel_id = guild.system_channel_id
    assert channel_id is not None
    async with Control(f"{emulator.base_url}/_control") as control:
        payload = await control.run_command(bot.application.id, owner.id, channel_id, "matrix info")
        assert payload["data"]["options"] == [{"type": 1, "name": "info", "options": []}]
        assert payload["data"]["guild_id"] == str(guild.id)
        interaction = store.interactions[int(payload["id"])]
        store.respond_to_interaction(interaction, 4, {"content": "hidden", "flags": EPHEMERAL})
        (message,) = await control.interaction_messages(payload["id"])
        assert message["content"] == "hidden" and message["flags"] == EPHEMERAL
        with pytest.raises(ControlError) as error:
            await control.run_command(bot.application.id, owner.id, channel_id, "matrix nope")
        assert error.value.status == 400

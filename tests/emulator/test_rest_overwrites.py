"""Permission overwrites and pins as Discord checks them: Manage Roles to edit an overwrite,
only bits the bot has itself (unless a Manage Roles overwrite in the channel lets it), Pin
Messages to pin; each change as a CHANNEL_UPDATE in the store's channel."""

from __future__ import annotations

import discord
import pytest

from bridge.sandbox.discord import permissions as perms
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import User

from .conftest import Bot

BOT = perms.VIEW_CHANNEL | perms.SEND_MESSAGES | perms.READ_MESSAGE_HISTORY | perms.MANAGE_ROLES


async def test_overwrites_need_manage_roles_and_the_bits_themselves(
    emulator: DiscordEmulator, client: discord.Client, bot: Bot, owner: User
) -> None:
    store = emulator.store
    g = store.create_guild("Overwrites", owner.id)
    store.add_member(g.id, bot.user.id, bot_permissions=BOT)
    channel = g.channel_ids[0]
    http = client.http

    await http.edit_channel_permissions(channel, g.id, "0", str(perms.SEND_MESSAGES), 0)
    assert store.get_channel(channel).permission_overwrites == [
        {"id": str(g.id), "type": 0, "allow": "0", "deny": str(perms.SEND_MESSAGES)}
    ]
    # Denying a permission the bot does not have itself: refused, like Discord.
    with pytest.raises(discord.Forbidden) as info:
        await http.edit_channel_permissions(
            channel, g.id, "0", str(perms.SEND_MESSAGES | perms.MANAGE_MESSAGES), 0
        )
    assert info.value.code == 50013
    # A Manage Roles overwrite for the bot in the channel lifts that limit.
    await http.edit_channel_permissions(channel, bot.user.id, str(perms.MANAGE_ROLES), "0", 1)
    await http.edit_channel_permissions(
        channel, g.id, "0", str(perms.SEND_MESSAGES | perms.MANAGE_MESSAGES), 0
    )
    await http.delete_channel_permissions(channel, bot.user.id)
    # Deleting an overwrite holding bits the bot lacks is refused too; its own are fine.
    with pytest.raises(discord.Forbidden):
        await http.delete_channel_permissions(channel, g.id)
    await http.edit_channel_permissions(
        channel, g.id, "0", str(perms.SEND_MESSAGES | perms.MANAGE_MESSAGES), 0
    )  # unchanged bits are not checked
    store.update_channel(channel, permission_overwrites=[])
    await http.edit_channel_permissions(channel, g.id, "0", str(perms.SEND_MESSAGES), 0)
    await http.delete_channel_permissions(channel, g.id)
    assert store.get_channel(channel).permission_overwrites == []
    # Without Manage Roles in the channel: refused whatever the bits.
    store.update_channel(
        channel,
        permission_overwrites=[
            {"id": bot.user.id, "type": 1, "allow": 0, "deny": perms.MANAGE_ROLES}
        ],
    )
    with pytest.raises(discord.Forbidden):
        await http.edit_channel_permissions(channel, g.id, "0", str(perms.SEND_MESSAGES), 0)


async def test_pinning_needs_pin_messages(
    emulator: DiscordEmulator, client: discord.Client, bot: Bot, owner: User
) -> None:
    store = emulator.store
    g = store.create_guild("Pins", owner.id)
    store.add_member(g.id, bot.user.id, bot_permissions=BOT)
    channel = g.channel_ids[0]
    message = store.create_message(channel, owner.id, "pin me")
    with pytest.raises(discord.Forbidden) as info:
        await client.http.pin_message(channel, message.id)
    assert info.value.code == 50013
    store.update_role(
        g.id, store.guilds[g.id].members[bot.user.id].roles[0], permissions=BOT | perms.PIN_MESSAGES
    )
    await client.http.pin_message(channel, message.id)
    assert [m.id for m in store.pinned_messages(channel)] == [message.id]
    await client.http.unpin_message(channel, message.id)
    assert store.pinned_messages(channel) == []

"""REST calls that discord.py only makes from a client connected to the gateway: channel
reordering (computed from its guild cache), interaction responses (to interactions it received)
and the sharded client's ``GET /gateway/bot``."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import discord
import pytest
from discord import app_commands

from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import ChannelType, Guild, User
from bridge.sandbox.discord.store.interactions import LOADING

from .conftest import Bot
from .gateway_client import WAIT, connected_client

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(60)]


def text_channel_ids(emulator: DiscordEmulator, guild_id: int) -> list[int]:
    channels = emulator.store.guild_channels(guild_id)
    return [c.id for c in channels if c.type == ChannelType.TEXT and c.parent_id is None]


async def test_reorder_channels(emulator: DiscordEmulator, bot: Bot, guild: Guild) -> None:
    store = emulator.store
    a = store.create_channel(guild.id, "a")
    b = store.create_channel(guild.id, "b")
    general = guild.system_channel_id
    assert text_channel_ids(emulator, guild.id) == [general, a.id, b.id]
    async with connected_client(emulator, bot.token) as client:
        g = client.get_guild(guild.id)
        assert g is not None
        chan_b = g.get_channel(b.id)
        assert isinstance(chan_b, discord.TextChannel)
        await chan_b.edit(position=0)  # PATCH /guilds/{id}/channels with every new position
        assert text_channel_ids(emulator, guild.id) == [b.id, general, a.id]
        await client.next_event("guild_channel_update", lambda _, c: c.id == b.id)
        assert [c.id for c in g.text_channels] == [b.id, general, a.id]

        category = await g.create_category("Cat")
        chan_a = g.get_channel(a.id)
        assert isinstance(chan_a, discord.TextChannel)
        await chan_a.move(beginning=True, category=category, sync_permissions=True)
        assert store.channels[a.id].parent_id == category.id
        await client.next_event("guild_channel_update", lambda _, c: c.id == a.id)
        assert chan_a.category == category


async def test_interaction_responses(
    emulator: DiscordEmulator, bot: Bot, guild: Guild, owner: User
) -> None:
    store = emulator.store
    channel_id = guild.system_channel_id
    assert channel_id is not None
    done: asyncio.Queue[Any] = asyncio.Queue()
    async with connected_client(emulator, bot.token) as client:
        tree = app_commands.CommandTree(client)

        @tree.command(description="Reply at once")
        async def ping(interaction: discord.Interaction) -> None:
            file = discord.File(io.BytesIO(b"pong data"), "pong.txt")
            callback = await interaction.response.send_message("pong", file=file)
            original = await interaction.original_response()
            await interaction.edit_original_response(content="pong!")
            followup = await interaction.followup.send("and more", wait=True)
            await done.put((callback, original, followup))

        @tree.command(description="Think first")
        async def slow(interaction: discord.Interaction) -> None:
            callback = await interaction.response.defer(thinking=True)
            loading = store.messages[callback.message_id].flags  # type: ignore[union-attr]
            edited = await interaction.edit_original_response(content="done")
            await done.put((callback, loading, edited))

        def run(name: str) -> None:
            data = {"id": str(len(name)), "name": name, "type": 1}
            store.create_interaction(bot.application.id, owner.id, data, channel_id=channel_id)

        run("ping")
        callback, original, followup = await asyncio.wait_for(done.get(), WAIT)
        assert callback.type == discord.InteractionResponseType.channel_message
        assert isinstance(callback.resource, discord.InteractionMessage)
        assert callback.resource.content == "pong" and callback.message_id == original.id
        reply = store.messages[original.id]
        assert reply.content == "pong!" and reply.author_id == bot.user.id
        assert reply.type == discord.MessageType.chat_input_command.value
        assert reply.attachments[0].data == b"pong data"
        assert original.interaction_metadata is not None
        assert original.interaction_metadata.user.id == owner.id
        assert store.messages[followup.id].content == "and more"

        run("slow")
        callback, loading, edited = await asyncio.wait_for(done.get(), WAIT)
        assert callback.type == discord.InteractionResponseType.deferred_channel_message
        assert loading & LOADING and not store.messages[edited.id].flags & LOADING
        assert store.messages[edited.id].content == "done"

        # A second response to the same interaction is refused.
        data = {"id": "9", "name": "nobody-handles-this", "type": 1}
        interaction = store.create_interaction(bot.application.id, owner.id, data)
        store.respond_to_interaction(interaction, 5, None)
        route = discord.http.Route(
            "POST",
            "/interactions/{interaction_id}/{token}/callback",
            interaction_id=interaction.id,
            token=interaction.token,
        )
        with pytest.raises(discord.HTTPException) as info:
            await client.http.request(route, json={"type": 4, "data": {"content": "twice"}})
        assert info.value.code == 40060


async def test_sharded_client_asks_gateway_bot(
    emulator: DiscordEmulator, bot: Bot, guild: Guild
) -> None:
    client = discord.AutoShardedClient(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    task = asyncio.create_task(client.start(bot.token))
    try:
        await asyncio.wait_for(client.wait_until_ready(), WAIT)
        assert client.shard_count == 1 and client.get_guild(guild.id) is not None
    finally:
        await client.close()
        await asyncio.wait_for(task, WAIT)

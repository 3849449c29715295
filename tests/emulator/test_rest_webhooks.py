"""Webhooks through discord.py's ``Webhook.partial`` and channel webhook management."""

from __future__ import annotations

import io

import discord
import pytest

from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Guild


async def _hook(
    client: discord.Client, guild: Guild
) -> tuple[discord.TextChannel, discord.Webhook]:
    channel = await client.fetch_channel(guild.system_channel_id)
    assert isinstance(channel, discord.TextChannel)
    created = await channel.create_webhook(name="Bridge")
    assert created.token is not None
    return channel, discord.Webhook.partial(created.id, created.token, client=client)


async def test_execute_with_overrides_and_files(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    store = emulator.store
    channel, hook = await _hook(client, guild)
    msg = await hook.send(
        "from matrix",
        username="Alice (Matrix)",
        avatar_url="https://example.org/a.png",
        file=discord.File(io.BytesIO(b"hello"), "hello.txt"),
        wait=True,
    )
    assert msg.webhook_id == hook.id and msg.author.id == hook.id and msg.author.bot
    assert msg.author.name == "Alice (Matrix)"
    stored = store.messages[msg.id]
    assert stored.webhook_avatar_url == "https://example.org/a.png"
    assert stored.attachments[0].data == b"hello"
    edited = await hook.edit_message(msg.id, content="edited")
    assert edited.content == "edited" and store.messages[msg.id].content == "edited"
    fetched = await hook.fetch_message(msg.id)
    assert fetched.content == "edited"
    await hook.delete_message(msg.id)
    assert msg.id not in store.messages
    assert await hook.send("no wait") is None


async def test_execute_in_thread(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    channel, hook = await _hook(client, guild)
    thread = emulator.store.create_thread(channel.id, "t", guild.owner_id)
    msg = await hook.send("in thread", thread=discord.Object(thread.id), wait=True)
    assert msg.channel.id == thread.id
    assert emulator.store.messages[msg.id].channel_id == thread.id


@pytest.mark.parametrize("name", ["", "x" * 81, "my Discord bot", "CLYDE"])
async def test_bad_usernames(client: discord.Client, guild: Guild, name: str) -> None:
    _, hook = await _hook(client, guild)
    with pytest.raises(discord.HTTPException) as info:
        await hook.send("hi", username=name, wait=True) if name else await hook.edit(name=name)
    assert info.value.status == 400 and info.value.code == 50035


async def test_too_long_and_wrong_token(client: discord.Client, guild: Guild) -> None:
    _, hook = await _hook(client, guild)
    with pytest.raises(discord.HTTPException) as info:
        await hook.send("y" * 2001, wait=True)
    assert info.value.code == 50035
    bad = discord.Webhook.partial(hook.id, "wrong-token", client=client)
    with pytest.raises(discord.HTTPException) as info:
        await bad.send("x", wait=True)
    assert info.value.status == 401


async def test_manage_webhooks(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    channel, hook = await _hook(client, guild)
    assert [w.id for w in await channel.webhooks()] == [hook.id]
    assert [w.id for w in await (await client.fetch_guild(guild.id)).webhooks()] == [hook.id]
    fetched = await client.fetch_webhook(hook.id)
    assert fetched.name == "Bridge" and fetched.token == hook.token
    by_token = await hook.fetch(prefer_auth=False)  # GET /webhooks/{id}/{token}, no bot auth
    assert by_token.name == "Bridge" and by_token.channel_id == channel.id
    assert by_token.user is None  # only an authorised fetch tells who created it
    await fetched.edit(name="Renamed")
    assert emulator.store.webhooks[hook.id].name == "Renamed"
    await fetched.delete()
    assert hook.id not in emulator.store.webhooks

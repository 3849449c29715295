"""Guilds, channels, members, roles, emoji and stickers through discord.py."""

from __future__ import annotations

import io

import discord
import pytest
from discord import app_commands

from bridge.sandbox.discord import permissions
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Guild

from .conftest import Bot


async def test_guild_and_channels(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    store = emulator.store
    fetched = await client.fetch_guild(guild.id, with_counts=True)
    assert fetched.name == "Test Guild" and fetched.approximate_member_count == 2
    await fetched.edit(name="Renamed", description="about")
    assert store.guilds[guild.id].name == "Renamed"
    category = await fetched.create_category("Cat")
    text = await fetched.create_text_channel("talk", category=category, topic="t")
    voice = await fetched.create_voice_channel("voice")
    assert store.channels[text.id].parent_id == category.id and store.channels[voice.id].type == 2
    await text.edit(name="talk-2", position=0)
    assert store.channels[text.id].name == "talk-2"
    assert {c.id for c in await fetched.fetch_channels()} >= {category.id, text.id, voice.id}
    await voice.delete()
    assert voice.id not in store.channels
    with pytest.raises(discord.NotFound) as info:
        await client.fetch_channel(voice.id)
    assert info.value.code == 10003


async def test_members_and_roles(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild, bot: Bot
) -> None:
    store = emulator.store
    alice = store.create_user("alice", global_name="Alice")
    store.add_member(guild.id, alice.id, nick="ally")
    g = await client.fetch_guild(guild.id)
    ids = sorted([guild.owner_id, bot.user.id, alice.id])
    assert sorted([m.id async for m in g.fetch_members(limit=None)]) == ids
    after_first = {m.id async for m in g.fetch_members(after=discord.Object(ids[0]))}
    assert after_first == set(ids[1:])
    member = await g.fetch_member(alice.id)
    assert member.nick == "ally"
    # discord.py has no method for member search: its HTTP client does the request.
    route = discord.http.Route("GET", "/guilds/{guild_id}/members/search", guild_id=guild.id)
    found = await client.http.request(route, params={"query": "al", "limit": 10})
    assert [m["user"]["id"] for m in found] == [str(alice.id)]
    role = await g.create_role(name="Mods", colour=discord.Colour(0xFF0000), hoist=True)
    await member.add_roles(role)
    assert role.id in store.guilds[guild.id].members[alice.id].roles
    await member.edit(nick="Alice B")
    assert store.guilds[guild.id].members[alice.id].nick == "Alice B"
    await role.edit(name="Moderators")
    roles = await g.fetch_roles()
    assert "Moderators" in {r.name for r in roles}
    await role.delete()
    assert role.id not in store.guilds[guild.id].roles


async def test_missing_permissions(
    emulator: DiscordEmulator, client: discord.Client, bot: Bot, owner
) -> None:  # type: ignore[no-untyped-def]
    store = emulator.store
    g = store.create_guild("Strict", owner.id)
    store.add_member(
        g.id, bot.user.id, bot_permissions=permissions.VIEW_CHANNEL | permissions.SEND_MESSAGES
    )
    guild = await client.fetch_guild(g.id)
    with pytest.raises(discord.Forbidden) as info:
        await guild.create_role(name="nope")
    assert info.value.code == 50013
    foreign = store.create_guild("Foreign", owner.id)
    with pytest.raises(discord.NotFound):
        await client.fetch_channel(foreign.system_channel_id)  # type: ignore[arg-type]


async def test_emoji_and_stickers(
    emulator: DiscordEmulator, client: discord.Client, guild: Guild
) -> None:
    store = emulator.store
    g = await client.fetch_guild(guild.id)
    png = solid_png(1, 2, 3)
    emoji = await g.create_custom_emoji(name="blob", image=png)
    assert store.guilds[guild.id].emojis[emoji.id].data == png
    assert await emoji.read() == png
    assert [e.id for e in await g.fetch_emojis()] == [emoji.id]
    # Emoji.edit needs the guild in discord.py's cache (a gateway client); its HTTP call:
    await client.http.edit_custom_emoji(guild.id, emoji.id, payload={"name": "blob2"})
    assert store.guilds[guild.id].emojis[emoji.id].name == "blob2"
    await g.delete_emoji(emoji)
    assert not store.guilds[guild.id].emojis
    sticker = store.create_sticker(guild.id, "wave", png, tags="wave")
    fetched = await g.fetch_sticker(sticker.id)
    assert fetched.name == "wave" and await fetched.read() == png
    assert [s.id for s in await g.fetch_stickers()] == [sticker.id]
    made = await g.create_sticker(
        name="hello", description="says hi", emoji="👋", file=discord.File(io.BytesIO(png), "h.png")
    )
    assert store.guilds[guild.id].stickers[made.id].data == png and await made.read() == png
    await made.edit(name="hello2")
    assert store.guilds[guild.id].stickers[made.id].name == "hello2"
    await made.delete()
    assert [s.id for s in await g.fetch_stickers()] == [sticker.id]


async def test_avatars_on_the_cdn(emulator: DiscordEmulator, client: discord.Client) -> None:
    png = solid_png(9, 9, 9)
    user = emulator.store.create_user("pic", avatar=png)
    fetched = await client.fetch_user(user.id)
    assert fetched.avatar is not None and await fetched.avatar.read() == png
    assert (await fetched.default_avatar.read()).startswith(b"\x89PNG")


async def test_unauthorized(emulator: DiscordEmulator) -> None:
    c = discord.Client(intents=discord.Intents.none())
    with pytest.raises(discord.LoginFailure):
        await c.login("not-a-token")
    await c.close()


async def test_gateway_bot(emulator: DiscordEmulator, client: discord.Client) -> None:
    shards, url, limits = await client.http.get_bot_gateway()
    assert (shards, url) == (1, emulator.gateway_url)
    assert limits["max_concurrency"] == 1 and limits["remaining"] > 0


async def test_command_tree_sync(
    emulator: DiscordEmulator, client: discord.Client, bot: Bot, guild: Guild
) -> None:
    tree = app_commands.CommandTree(client)

    @tree.command(description="Link this channel to a Matrix room")
    @app_commands.describe(room="The room alias")
    async def bridge(interaction: discord.Interaction, room: str) -> None: ...

    synced = await tree.sync()
    assert [(c.name, c.options[0].name) for c in synced] == [("bridge", "room")]
    [stored] = emulator.store.list_commands(bot.application.id)
    assert stored.id == synced[0].id and stored.options[0]["required"] is True
    tree.copy_global_to(guild=discord.Object(guild.id))
    in_guild = await tree.sync(guild=discord.Object(guild.id))
    assert in_guild[0].guild_id == guild.id
    fetched = await tree.fetch_commands()
    assert [c.id for c in fetched] == [stored.id]


async def test_commands_overwrite(client: discord.Client, bot: Bot, guild: Guild) -> None:
    app_id = bot.application.id
    cmds = await client.http.bulk_upsert_global_commands(
        app_id, [{"name": "ping", "description": "Ping", "type": 1}]
    )
    assert cmds[0]["name"] == "ping"
    again = await client.http.bulk_upsert_guild_commands(
        app_id, guild.id, [{"name": "bridge", "description": "Bridge", "type": 1}]
    )
    assert again[0]["guild_id"] == str(guild.id)
    assert [c["name"] for c in await client.http.get_global_commands(app_id)] == ["ping"]

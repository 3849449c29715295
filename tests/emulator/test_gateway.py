"""The gateway as discord.py sees it: identify, READY/GUILD_CREATE, close codes, intents, chunking."""

from __future__ import annotations

import asyncio
import json
import zlib

import aiohttp
import discord
import pytest

from bridge.sandbox.discord.events import Intents
from bridge.sandbox.discord.gateway import get_hub
from bridge.sandbox.discord.sample import build_sample_community
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Guild, User

from .conftest import Bot
from .gateway_client import WAIT, connected_client
from .openapi import spec_or_skip, validate_component

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(60)]


async def test_ready_caches_the_sample_guild(emulator: DiscordEmulator) -> None:
    ids = build_sample_community(emulator.store)
    async with connected_client(emulator, ids.bot_token) as client:
        assert client.user is not None and client.user.id == ids.bot_user_id
        assert client.application_id == ids.application_id
        guild = client.get_guild(ids.guild_id)
        assert guild is not None and guild.name == "Sandbox Community"
        assert guild.member_count == 7 and len(guild.members) == 7 and guild.chunked
        assert guild.get_member(ids.users["brian"]).nick == "Bri"  # type: ignore[union-attr]
        assert {c.name for c in guild.categories} == {"Information", "Community", "Staff"}
        assert isinstance(guild.get_channel(ids.channels["help-forum"]), discord.ForumChannel)
        assert guild.get_channel(ids.channels["announcements"]).is_news()  # type: ignore[union-attr]
        assert {r.name for r in guild.roles} >= {"@everyone", "Admin", "Moderator", "Member"}
        assert [e.name for e in guild.emojis] == ["sandbox"]
        assert [s.name for s in guild.stickers] == ["Wave"]
        assert guild.get_thread(ids.threads["importer"]) is not None
        assert guild.icon is not None and guild.icon.url.startswith(emulator.cdn_url)

        ready = client.dispatches("READY")[0]
        assert ready["v"] == 10 and ready["guilds"] == [
            {"id": str(ids.guild_id), "unavailable": True}
        ]
        assert ready["resume_gateway_url"] == emulator.gateway_url
        validate_component("UserPIIResponse", ready["user"])
        created = client.dispatches("GUILD_CREATE")[0]
        # GUILD_CREATE is a guild object plus gateway-only fields (members, channels, threads…).
        fields = spec_or_skip()["components"]["schemas"]["GuildResponse"]["properties"]
        guild_part = {k: v for k, v in created.items() if k in fields}
        validate_component("GuildResponse", guild_part)
        for member in created["members"]:
            validate_component("GuildMemberResponse", member)
        for channel in created["channels"]:
            validate_component("GuildChannelResponse", channel)
        for thread in created["threads"]:
            validate_component("ThreadResponse", thread)


@pytest.mark.parametrize("compression", [True, False], ids=["zlib-stream", "text"])
async def test_frames_compressed_or_plain(
    emulator: DiscordEmulator, bot: Bot, guild: Guild, owner: User, compression: bool
) -> None:
    hub = get_hub(emulator.app)
    hub.compression = compression
    try:
        async with connected_client(emulator, bot.token) as client:
            assert client.get_guild(guild.id) is not None
            assert guild.system_channel_id is not None
            msg = emulator.store.create_message(guild.system_channel_id, owner.id, "é ✓ " * 500)
            (got,) = await client.next_event("message", lambda m: m.id == msg.id)
            assert got.content == "é ✓ " * 500
    finally:
        hub.compression = True


async def test_bad_token(emulator: DiscordEmulator, bot: Bot) -> None:
    # Over REST, discord.py's login refuses the token first.
    with pytest.raises(discord.LoginFailure):
        async with connected_client(emulator, "not-a-token"):
            pass
    # A token that passes login but not IDENTIFY: the gateway closes with 4004.
    client = discord.Client(intents=discord.Intents.default())
    await client.login(bot.token)
    client.http.token = "wrong"
    try:
        with pytest.raises(discord.ConnectionClosed) as caught:
            await asyncio.wait_for(client.connect(reconnect=False), WAIT)
        assert caught.value.code == 4004
    finally:
        await client.close()


async def test_disallowed_privileged_intents(emulator: DiscordEmulator, guild: Guild) -> None:
    _, _, token = emulator.store.create_bot("No Privileges", privileged_intents=Intents(0))
    with pytest.raises(discord.PrivilegedIntentsRequired):
        async with connected_client(emulator, token, intents=discord.Intents.all()):
            pass
    async with connected_client(emulator, token, intents=discord.Intents.default()) as client:
        assert client.is_ready()


async def test_heartbeat_is_acked_and_raw_protocol(emulator: DiscordEmulator, bot: Bot) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(emulator.gateway_url + "?v=10&encoding=json") as ws,
    ):
        hello = await ws.receive_json(timeout=WAIT)
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        await ws.send_json({"op": 1, "d": None})
        assert (await ws.receive_json(timeout=WAIT))["op"] == 11
        await ws.send_json({"op": 2, "d": {"token": bot.token, "intents": 513, "properties": {}}})
        ready = await ws.receive_json(timeout=WAIT)
        assert (ready["op"], ready["t"], ready["s"]) == (0, "READY", 1)
        await ws.send_json({"op": 2, "d": {"token": bot.token, "intents": 513}})
        await ws.receive(timeout=WAIT)
        assert ws.close_code == 4005
    url = emulator.gateway_url + "?v=10&encoding=json&compress=zlib-stream"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        frame = await ws.receive(timeout=WAIT)
        assert frame.type is aiohttp.WSMsgType.BINARY and frame.data.endswith(b"\x00\x00\xff\xff")
        assert json.loads(zlib.decompressobj().decompress(frame.data))["op"] == 10
        await ws.send_str("not json")
        await ws.receive(timeout=WAIT)
        assert ws.close_code == 4002


async def test_message_content_is_stripped_without_the_intent(
    emulator: DiscordEmulator, bot: Bot, guild: Guild, owner: User
) -> None:
    store = emulator.store
    channel_id = guild.system_channel_id
    assert channel_id is not None
    async with connected_client(emulator, bot.token, intents=discord.Intents.default()) as client:
        plain = store.create_message(channel_id, owner.id, "secret words", embeds=[{"title": "t"}])
        mention = store.create_message(channel_id, owner.id, f"hey <@{bot.user.id}>")
        got = await client.next_event("message", lambda m: m.id == plain.id)
        assert got[0].content == "" and got[0].embeds == []
        got = await client.next_event("message", lambda m: m.id == mention.id)
        assert got[0].content == f"hey <@{bot.user.id}>"
        store.edit_message(channel_id, plain.id, content="still secret")
        raw = await client.next_event("raw_message_edit", lambda e: e.message_id == plain.id)
        assert raw[0].data["content"] == ""
    async with connected_client(emulator, bot.token) as client:
        store.edit_message(channel_id, plain.id, content="visible now")
        raw = await client.next_event("raw_message_edit", lambda e: e.message_id == plain.id)
        assert raw[0].data["content"] == "visible now"
        validate_component("MessageResponse", raw[0].data)


async def test_large_guild_is_chunked(emulator: DiscordEmulator, bot: Bot, owner: User) -> None:
    store = emulator.store
    g = store.create_guild("Large", owner.id, system_channel=False)
    store.add_member(g.id, bot.user.id)
    for n in range(2100):
        store.add_member(g.id, store.create_user(f"user{n:04}").id, join_message=False)
    async with connected_client(emulator, bot.token, chunk_guilds_at_startup=False) as client:
        guild = client.get_guild(g.id)
        assert guild is not None and guild.large and not guild.chunked
        assert guild.member_count == 2102 and len(guild.members) == 1
        members = await asyncio.wait_for(guild.chunk(), WAIT)
        assert len(members) == 2102 and guild.chunked
        chunks = client.dispatches("GUILD_MEMBERS_CHUNK")
        assert [c["chunk_index"] for c in chunks] == [0, 1, 2]
        assert all(c["chunk_count"] == 3 and c.get("nonce") for c in chunks)
        validate_component("GuildMemberResponse", chunks[0]["members"][0])
        found = await guild.query_members("user00", limit=5)
        assert [m.name for m in found] == [f"user000{n}" for n in range(5)]
        found = await guild.query_members(user_ids=[owner.id, 42])
        assert [m.id for m in found] == [owner.id]
        assert client.dispatches("GUILD_MEMBERS_CHUNK")[-1]["not_found"] == ["42"]


async def test_bot_added_to_a_guild_gets_guild_create(
    emulator: DiscordEmulator, bot: Bot, guild: Guild, owner: User
) -> None:
    store = emulator.store
    async with connected_client(emulator, bot.token) as client:
        other = store.create_guild("Later", owner.id)
        store.add_member(other.id, bot.user.id)
        joined = await client.next_event("guild_join", lambda g: g.id == other.id)
        assert joined[0].name == "Later"
        store.remove_member(other.id, bot.user.id)
        removed = await client.next_event("guild_remove", lambda g: g.id == other.id)
        assert removed[0].name == "Later"
        assert client.get_guild(other.id) is None
        status = get_hub(emulator.app).status()
        json.dumps(status)

"""The sample community and the standalone emulator (``python -m bridge.sandbox.discord``)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import discord
import pytest

from bridge.sandbox.discord import permissions as perms
from bridge.sandbox.discord.sample import build_sample_community
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import ChannelType, Store

from .gateway_client import WAIT, connected_client

pytestmark = [pytest.mark.timeout(60)]
async_test = pytest.mark.asyncio(loop_scope="session")

ROOT = Path(__file__).parents[2]


def test_sample_community_contents() -> None:
    store = Store()
    ids = build_sample_community(store)
    guild = store.guilds[ids.guild_id]
    assert guild.name == "Sandbox Community" and guild.icon is not None
    roles = {r.name: r for r in guild.roles.values()}
    assert roles["Admin"].permissions == perms.ADMINISTRATOR
    assert roles["Moderator"].permissions == perms.MANAGE_MESSAGES | perms.PIN_MESSAGES
    humans = [store.users[u] for u in guild.members if not store.users[u].bot]
    assert len(humans) == 6 and all(u.avatar for u in humans)
    assert any(m.nick for m in guild.members.values())
    types = {store.channels[c].type for c in guild.channel_ids}
    assert {
        ChannelType.CATEGORY,
        ChannelType.TEXT,
        ChannelType.ANNOUNCEMENT,
        ChannelType.FORUM,
        ChannelType.PUBLIC_THREAD,
    } <= types
    lounge = store.channels[ids.channels["mod-lounge"]]
    assert lounge.permission_overwrites[0] == {
        "id": str(guild.id),
        "type": 0,
        "allow": "0",
        "deny": str(perms.VIEW_CHANNEL),
    }
    assert not perms.channel_permissions(store, lounge.id, ids.users["chloe"]) & perms.VIEW_CHANNEL
    assert perms.channel_permissions(store, lounge.id, ids.users["brian"]) & perms.VIEW_CHANNEL
    forum_posts = [c for c in store.channels.values() if c.parent_id == ids.channels["help-forum"]]
    assert len(forum_posts) == 2
    assert len(guild.emojis) == 1 and len(guild.stickers) == 1

    messages = list(store.messages.values())
    assert 35 <= len(messages) <= 50
    assert any(m.type == 19 for m in messages) and any(m.edited_timestamp for m in messages)
    assert any(m.reactions for m in messages) and any(m.attachments for m in messages)
    assert any(m.pinned for m in messages) and any(m.sticker_ids for m in messages)
    assert store.channel_messages[ids.threads["importer"]], "the thread has messages"
    assert min(store.message_time(m) for m in messages).timestamp() < time.time() - 3 * 86400


@async_test
async def test_discord_py_reads_the_sample_history(emulator: DiscordEmulator) -> None:
    ids = build_sample_community(emulator.store)
    async with connected_client(emulator, ids.bot_token) as client:
        channel = client.get_channel(ids.channels["general"])
        assert isinstance(channel, discord.TextChannel)
        history = [m async for m in channel.history(limit=None, oldest_first=True)]
        assert history[0].content.startswith("Welcome")
        assert any(m.reactions for m in history) and any(m.attachments for m in history)
        pins = [p async for p in channel.pins()]
        assert [p.content for p in pins] == ["Reminder: meeting on Thursday at 18:00 UTC."]
        forum = client.get_channel(ids.channels["help-forum"])
        assert isinstance(forum, discord.ForumChannel) and len(forum.threads) == 2


@async_test
async def test_standalone_runner(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge.sandbox.discord", "--port", "0", "--host", "127.0.0.1",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 15)
        info = json.loads(line)
        startup = time.monotonic() - started
        assert startup < 10, startup
        for key in (
            "api_url",
            "gateway_url",
            "cdn_url",
            "bot_token",
            "application_id",
            "guild_id",
            "control_url",
        ):
            assert info[key], key
        urls = SimpleNamespace(
            api_url=info["api_url"], gateway_url=info["gateway_url"], cdn_url=info["cdn_url"]
        )
        async with connected_client(urls, info["bot_token"]) as client:
            guild = client.get_guild(int(info["guild_id"]))
            assert guild is not None and guild.name == "Sandbox Community"
            assert client.application_id == int(info["application_id"])
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), WAIT)
    assert code == 0

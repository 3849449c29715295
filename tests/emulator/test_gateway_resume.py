"""Resuming and gateway faults: dropped connections, op 7 RECONNECT, op 9 INVALID_SESSION, delays."""

from __future__ import annotations

import asyncio
import time

import pytest

from bridge.sandbox.discord.gateway import get_hub
from bridge.sandbox.discord.server import DiscordEmulator
from bridge.sandbox.discord.store import Guild, User

from .conftest import Bot
from .gateway_client import RecordingClient, connected_client

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(60)]

#: discord.py sleeps 5 s before any IDENTIFY but the first (``Client.before_identify_hook``).
REIDENTIFY_WAIT = 10.0


def sequences(client: RecordingClient) -> list[int]:
    return [p["s"] for p in client.payloads if p.get("op") == 0 and p.get("s") is not None]


def assert_no_gap_and_no_duplicate(client: RecordingClient) -> None:
    seqs = sequences(client)
    assert seqs == list(range(1, len(seqs) + 1)), seqs


def created_ids(client: RecordingClient) -> list[int]:
    return [int(d["id"]) for d in client.dispatches("MESSAGE_CREATE")]


async def post_while_down(
    emulator: DiscordEmulator, guild: Guild, owner: User, n: int
) -> list[int]:
    """Post ``n`` messages while no session of the hub is connected."""
    hub = get_hub(emulator.app)
    assert not hub.connected_sessions()
    channel_id = guild.system_channel_id
    assert channel_id is not None
    return [emulator.store.create_message(channel_id, owner.id, f"missed {i}").id for i in range(n)]


@pytest.mark.parametrize("abort", [False, True], ids=["close-4000", "tcp-cut"])
async def test_resume_after_drop_delivers_missed_events_once(
    emulator: DiscordEmulator, bot: Bot, guild: Guild, owner: User, abort: bool
) -> None:
    hub = get_hub(emulator.app)
    async with connected_client(emulator, bot.token) as client:
        identifies, resumes = hub.identify_count, hub.resume_count
        channel_id = guild.system_channel_id
        assert channel_id is not None
        before = emulator.store.create_message(channel_id, owner.id, "before").id
        await client.next_event("message", lambda m: m.id == before)

        await hub.drop_connections(abort=abort)
        missed = await post_while_down(emulator, guild, owner, 5)
        await client.next_event("resumed")
        after = emulator.store.create_message(channel_id, owner.id, "after").id
        await client.next_event("message", lambda m: m.id == after)

        assert created_ids(client) == [before, *missed, after]
        assert [m.id for (m,) in client.received("message")] == [before, *missed, after]
        assert (hub.identify_count, hub.resume_count) == (identifies, resumes + 1)
        assert_no_gap_and_no_duplicate(client)
        assert len(client.received("ready")) == 1


async def test_reconnect_opcode_resumes(
    emulator: DiscordEmulator, bot: Bot, guild: Guild, owner: User
) -> None:
    hub = get_hub(emulator.app)
    async with connected_client(emulator, bot.token) as client:
        resumes = hub.resume_count
        assert hub.send_reconnect() >= 1
        await client.next_event("resumed")
        assert hub.resume_count == resumes + 1
        channel_id = guild.system_channel_id
        assert channel_id is not None
        msg = emulator.store.create_message(channel_id, owner.id, "after op 7")
        await client.next_event("message", lambda m: m.id == msg.id)
        assert_no_gap_and_no_duplicate(client)


async def test_invalid_session_not_resumable_identifies_again(
    emulator: DiscordEmulator, bot: Bot, guild: Guild
) -> None:
    hub = get_hub(emulator.app)
    async with connected_client(emulator, bot.token) as client:
        identifies = hub.identify_count
        hub.invalidate_sessions(resumable=False)
        await client.wait_until(lambda: len(client.received("ready")) == 2, REIDENTIFY_WAIT)
        assert hub.identify_count == identifies + 1
        assert len(client.dispatches("READY")) == 2
        assert client.get_guild(guild.id) is not None


async def test_invalid_session_resumable_resumes(
    emulator: DiscordEmulator, bot: Bot, guild: Guild
) -> None:
    hub = get_hub(emulator.app)
    async with connected_client(emulator, bot.token) as client:
        resumes = hub.resume_count
        hub.invalidate_sessions(resumable=True)
        await client.next_event("resumed")
        assert hub.resume_count == resumes + 1 and len(client.received("ready")) == 1


async def test_expired_session_gets_invalid_session_then_identifies(
    emulator: DiscordEmulator, bot: Bot, guild: Guild, owner: User
) -> None:
    hub = get_hub(emulator.app)
    async with connected_client(emulator, bot.token) as client:
        await hub.drop_connections(expire=True)
        await client.wait_until(lambda: len(client.received("ready")) == 2, REIDENTIFY_WAIT)
        invalid = [p for p in client.payloads if p.get("op") == 9]
        assert invalid and invalid[0]["d"] is False
        assert not client.received("resumed")


async def test_dispatch_delay(
    emulator: DiscordEmulator, bot: Bot, guild: Guild, owner: User
) -> None:
    hub = get_hub(emulator.app)
    async with connected_client(emulator, bot.token) as client:
        channel_id = guild.system_channel_id
        assert channel_id is not None
        hub.set_dispatch_delay(0.3)
        try:
            started = time.monotonic()
            msg = emulator.store.create_message(channel_id, owner.id, "slow")
            await client.next_event("message", lambda m: m.id == msg.id)
            assert time.monotonic() - started >= 0.3
        finally:
            hub.set_dispatch_delay(0)


async def test_sessions_expire_after_the_resume_window(
    emulator: DiscordEmulator, bot: Bot, guild: Guild
) -> None:
    hub = get_hub(emulator.app)
    async with connected_client(emulator, bot.token):
        pass
    ttl = hub.resume_ttl
    hub.resume_ttl = 0.0
    try:
        await asyncio.sleep(0.01)
        hub.expire_sessions()
        assert all(s.bot_id != bot.user.id for s in hub.sessions.values())
    finally:
        hub.resume_ttl = ttl

"""The start-up window, both ways (issue 17 §1): nothing sent while a guild is synced is lost.

A room appears at the homeserver while the bridge is still syncing its guild (creating the
other rooms, sending their state, before "Bridge started"). A Discord message posted in its
channel as soon as the room exists, and a Matrix message sent in the room as soon as a user can
join it, must both arrive, once each: at start-up, for a guild bridged while running, and for a
channel created while running. Each case counts sent → lost / doubled, all zeros.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from mautrix.errors import MatrixRequestError, MNotFound
from mautrix.types import RoomAlias

from bridge.app import Bridge
from bridge.convert.d2m.room_state import PortalNode
from bridge.portal.guild_sync import GuildBridge
from bridge.sandbox.discord.store import Store
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import SERVER
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig

pytestmark = pytest.mark.slow

CHANNELS = 4  # rooms per case: the later ones appear while the sync still runs
ARRIVAL_TIMEOUT = 30.0  # s, for every message to arrive once the sync is over
LATE_ANSWER = 1.5  # s between a room's creation and the bridge learning its ID


@dataclass
class WindowCount:
    """Messages sent into rooms as soon as they appear, and what arrived of them."""

    sent_to_matrix: dict[int, str] = field(default_factory=dict)  # channel → body
    sent_to_discord: dict[int, str] = field(default_factory=dict)  # channel → body
    lost: int = 0
    doubled: int = 0
    missing: list[str] = field(default_factory=list)  # the bodies lost

    def summary(self) -> str:
        sent = len(self.sent_to_matrix) + len(self.sent_to_discord)
        return f"sent {sent} → lost {self.lost} / doubled {self.doubled}: {self.missing}"


def make_channels(store: Store, guild_id: int, prefix: str) -> list[int]:
    """Text channels to bridge, in a category of their own (more rooms, a longer sync)."""
    category = store.create_channel(guild_id, f"{prefix} category", 4).id
    return [
        store.create_channel(guild_id, f"{prefix}-{n}", parent_id=category).id
        for n in range(CHANNELS)
    ]


async def room_when_it_appears(viewer: MatrixTestClient, channel_id: int, timeout: float) -> str:
    """Poll the homeserver for the channel's room alias (every 20 ms); its room ID."""
    alias = RoomAlias(f"#discord_{channel_id}:{SERVER}")
    deadline = time.monotonic() + timeout
    while True:
        try:
            return str((await viewer.api.resolve_room_alias(alias)).room_id)
        except MNotFound:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"no room for channel {channel_id} within {timeout} s")
        await asyncio.sleep(0.02)


async def join_when_possible(user: MatrixTestClient, room_id: str, timeout: float = 15) -> None:
    """Join as soon as the room lets the user in (its join rule may not be set yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await user.join(room_id)
            return
        except MatrixRequestError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)


async def send_into_new_rooms(
    sandbox: SandboxGuild,
    viewer: MatrixTestClient,
    user: MatrixTestClient,
    channels: list[int],
    count: WindowCount,
    tag: str,
) -> dict[int, str]:
    """For each channel, as soon as its room exists: post on Discord, then join and send in
    Matrix. Returns channel → room."""
    store = sandbox.emulator.store

    async def one(channel_id: int) -> tuple[int, str]:
        room_id = await room_when_it_appears(viewer, channel_id, timeout=60)
        body = f"{tag} from Discord in {channel_id}"
        store.create_message(channel_id, sandbox.owner.id, body)
        count.sent_to_matrix[channel_id] = body
        await join_when_possible(user, room_id)
        text = f"{tag} from Matrix in {channel_id}"
        await user.send_text(room_id, text)
        count.sent_to_discord[channel_id] = text
        return channel_id, room_id

    return dict(await asyncio.gather(*(one(channel) for channel in channels)))


async def count_arrivals(
    sandbox: SandboxGuild,
    viewer: MatrixTestClient,
    rooms: dict[int, str],
    count: WindowCount,
) -> None:
    """Wait until every message arrived (or the timeout), then count lost and doubled."""
    store = sandbox.emulator.store

    async def tally() -> tuple[int, int]:
        seen: dict[str, int] = {}
        for channel_id, body in count.sent_to_matrix.items():
            events = await viewer.messages(rooms[channel_id])
            seen[body] = sum(1 for e in events if e["content"].get("body") == body)
        for channel_id, text in count.sent_to_discord.items():
            history = store.history(channel_id, limit=100)
            seen[text] = sum(1 for m in history if m.content == text)
        count.missing = [body for body, times in seen.items() if times == 0]
        doubled = sum(max(times - 1, 0) for times in seen.values())
        return len(count.missing), doubled

    deadline = time.monotonic() + ARRIVAL_TIMEOUT
    while True:
        count.lost, count.doubled = await tally()
        if count.lost == 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(1)  # a late double would show now
    count.lost, count.doubled = await tally()


@pytest_asyncio.fixture(loop_scope="session")
async def public_bridge(make_bridge_config: MakeConfig) -> AsyncIterator[Bridge]:
    """The bridge, started in this process with public channel rooms (a user joins them by
    their ID at once); stopped after the test."""
    bridge = Bridge(make_bridge_config({"bridge.join_rules.public_channels": "public"}))
    try:
        await bridge.start()
        yield bridge
    finally:
        await bridge.stop()


async def count_during(
    sync: Coroutine[Any, Any, object],
    sandbox: SandboxGuild,
    viewer: MatrixTestClient,
    user: MatrixTestClient,
    channels: list[int],
    tag: str,
) -> WindowCount:
    """Run ``sync`` (a start, or a guild's sync; 120 s at most) while sending into each
    channel's room as soon as it appears; then count what arrived."""
    count = WindowCount()
    task = asyncio.create_task(sync)
    try:
        rooms = await send_into_new_rooms(sandbox, viewer, user, channels, count, tag)
        await asyncio.wait_for(task, timeout=120)
        await count_arrivals(sandbox, viewer, rooms, count)
    finally:
        if not task.done():
            task.cancel()
    return count


async def test_guild_bridged_at_start_up(
    make_bridge_config: MakeConfig,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
    matrix_user: MatrixTestClient,
) -> None:
    store = sandbox_guild.emulator.store
    channels = make_channels(store, sandbox_guild.guild.id, "start")
    bridge = Bridge(
        make_bridge_config(
            {
                "bridge.guilds": f"[{sandbox_guild.guild.id}]",
                "bridge.join_rules.public_channels": "public",
            }
        )
    )
    try:
        count = await count_during(
            bridge.start(), sandbox_guild, bot_view, matrix_user, channels, "start-up"
        )
    finally:
        await bridge.stop()
    assert (count.lost, count.doubled) == (0, 0), count.summary()


async def test_guild_bridged_while_running(
    public_bridge: Bridge,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
    matrix_user: MatrixTestClient,
) -> None:
    store = sandbox_guild.emulator.store
    channels = make_channels(store, sandbox_guild.guild.id, "bridged")
    assert public_bridge.guilds is not None
    sync = public_bridge.guilds.bridge_guild(sandbox_guild.guild.id)
    count = await count_during(sync, sandbox_guild, bot_view, matrix_user, channels, "bridging")
    assert (count.lost, count.doubled) == (0, 0), count.summary()


async def test_channel_created_while_running(
    public_bridge: Bridge,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
    matrix_user: MatrixTestClient,
) -> None:
    assert public_bridge.guilds is not None
    await public_bridge.guilds.bridge_guild(sandbox_guild.guild.id)
    store = sandbox_guild.emulator.store
    count = WindowCount()
    channels = make_channels(store, sandbox_guild.guild.id, "new")  # CHANNEL_CREATE each
    # Posted before the room exists: it waits for the sync the new channel started.
    early = store.create_message(channels[0], sandbox_guild.owner.id, "before its room")
    rooms = await send_into_new_rooms(
        sandbox_guild, bot_view, matrix_user, channels, count, "new channel"
    )
    await public_bridge.guilds.wait_idle()
    await count_arrivals(sandbox_guild, bot_view, rooms, count)
    early_seen = [
        e
        for e in await bot_view.messages(rooms[channels[0]])
        if e["content"].get("body") == early.content
    ]
    assert (count.lost, count.doubled) == (0, 0), count.summary()
    assert len(early_seen) == 1


async def test_room_known_at_the_homeserver_before_the_bridge(
    public_bridge: Bridge,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
    matrix_user: MatrixTestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``createRoom`` answered late (a loaded homeserver or bridge): for a second after each
    room exists, the bridge does not know its ID. Messages both ways in that second wait."""
    store = sandbox_guild.emulator.store
    channels = make_channels(store, sandbox_guild.guild.id, "late")[:2]
    create_room = GuildBridge._create_room

    async def answered_late(self: GuildBridge, node: PortalNode, state: dict) -> str:
        room_id = await create_room(self, node, state)
        if node.discord_id in channels:
            await asyncio.sleep(LATE_ANSWER)
        return room_id

    monkeypatch.setattr(GuildBridge, "_create_room", answered_late)
    assert public_bridge.guilds is not None
    sync = public_bridge.guilds.bridge_guild(sandbox_guild.guild.id)
    count = await count_during(sync, sandbox_guild, bot_view, matrix_user, channels, "late answer")
    assert (count.lost, count.doubled) == (0, 0), count.summary()

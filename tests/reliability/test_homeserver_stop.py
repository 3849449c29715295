"""The homeserver really stopped (issue 17 §6, §14): Synapse's process ended for 30 s, then
for 120 s, on the same port and data, while Discord messages are posted in two channels.

The bridge (a process) keeps running and tells the wait in its log; once Synapse is back every
message arrives, in order, once. mautrix alone gave up after about a minute (4 + 8 + 16 + 32 s),
which the 120-s outage would have shown as lost messages.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.bridge import StartBridge
from tests.fixtures.community import Community, eventually
from tests.fixtures.discord import SandboxGuild
from tests.reliability.shared import logging_at, query

pytestmark = pytest.mark.slow

OUTAGES = (30.0, 120.0)  # seconds Synapse is stopped, one after the other
POST_EVERY = 10.0  # seconds between two posts (one in each channel) during an outage


@pytest_asyncio.fixture(loop_scope="session")
async def stoppable_synapse(synapse: LocalSynapse) -> AsyncIterator[LocalSynapse]:
    """The session's Synapse, restartable on its port with its data; running again after."""
    fixed = synapse._fixed_port
    synapse._fixed_port = synapse.port  # a restart keeps the port the bridge knows
    try:
        yield synapse
    finally:
        if not synapse.running:
            await synapse.start()
        synapse._fixed_port = fixed


async def test_messages_posted_while_synapse_is_stopped_30_s_then_120_s_arrive_once_in_order(
    stoppable_synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    community: Community,
    start_bridge: StartBridge,
    bot_view: MatrixTestClient,
    tmp_path: Path,
) -> None:
    synapse, store = stoppable_synapse, sandbox_guild.emulator.store
    database = tmp_path / "bridge.db"
    bridge = start_bridge(
        {
            **sandbox_guild.bridge_overrides(),
            "homeserver.address": synapse.url,
            "homeserver.max_retry_wait": 2,  # back within 2 s of Synapse (30 s by default)
            "bridge.guilds": f"[{community.guild_id}]",
            "appservice.database.url": f"sqlite:{database}",
            "logging": logging_at("INFO"),
        }
    )
    await bridge.wait_for_output("Bridge started as")
    channels = [community.channels["lounge"], community.channels["general"]]
    rooms = {
        c: query(database, "SELECT room_id FROM portal WHERE discord_id = ?", c)[0][0]
        for c in channels
    }
    posted: dict[int, list[str]] = {c: [] for c in channels}
    ids: list[int] = []

    def post(text: str, who: str = "alice") -> None:
        for channel in channels:
            message = store.create_message(channel, community.users[who], f"{text} in {channel}")
            posted[channel].append(message.content)
            ids.append(message.id)

    async def all_mapped() -> bool | None:
        rows = query(database, "SELECT DISTINCT discord_message_id FROM message_part")
        return True if set(ids) <= {row[0] for row in rows} else None

    post("before")
    await eventually(all_mapped, "the first messages")
    for number, outage in enumerate(OUTAGES):
        await synapse.stop()
        stopped = time.monotonic()
        n = 0
        while (elapsed := time.monotonic() - stopped) < outage:
            post(f"outage {number} post {n}", "bob" if n % 2 else "alice")
            n += 1
            await asyncio.sleep(min(POST_EVERY, outage - elapsed))
        assert bridge.process.poll() is None, "the bridge stopped while Synapse was away"
        assert "The homeserver is unreachable" in bridge.output
        await synapse.start()
        await eventually(all_mapped, f"every message after outage {number}", timeout=60)

    for channel, room in rooms.items():
        events = await bot_view.timeline(room, types=["m.room.message"])
        bodies = [e["content"].get("body", "") for e in events]
        shown = [body for body in bodies if body in posted[channel]]
        print(f"channel {channel}: sent {len(posted[channel])} → shown {len(shown)}")
        assert shown == posted[channel]  # in order, none lost, none doubled
    assert "The homeserver answers again" in bridge.output
    assert await bridge.stop() == 0

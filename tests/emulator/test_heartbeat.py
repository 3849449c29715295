"""The emulator's heartbeats, as Discord's gateway docs describe them ("Sending Heartbeats"):
HELLO gives ``heartbeat_interval`` in milliseconds and every op 1 is answered with op 11."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bridge.sandbox.discord.gateway import get_hub
from bridge.sandbox.discord.server import DiscordEmulator

from .conftest import Bot
from .gateway_client import connected_client

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.timeout(60)]
HEARTBEAT_SENT = "Keeping shard ID %s websocket alive with sequence %s."  # discord/gateway.py


@pytest.fixture
def short_heartbeat(emulator: DiscordEmulator) -> Iterator[int]:
    """The emulator's HELLO asks for a heartbeat every 200 ms during the test."""
    hub = get_hub(emulator.app)
    saved, hub.heartbeat_interval_ms = hub.heartbeat_interval_ms, 200
    try:
        yield hub.heartbeat_interval_ms
    finally:
        hub.heartbeat_interval_ms = saved


async def test_every_heartbeat_is_acked(
    emulator: DiscordEmulator, bot: Bot, short_heartbeat: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="discord.gateway"):
        async with connected_client(emulator, bot.token) as client:
            hello = next(p for p in client.payloads if p["op"] == 10)
            assert hello["d"]["heartbeat_interval"] == short_heartbeat

            def acked_beats() -> int | None:
                # discord.py sends one heartbeat on HELLO, then one per interval (logged).
                beats = 1 + sum(r.msg == HEARTBEAT_SENT for r in caplog.records)
                acks = sum(p["op"] == 11 for p in client.payloads)
                return beats if beats >= 6 and acks == beats else None

            assert await client.wait_until(acked_beats, timeout=10) >= 6
    assert not [r for r in caplog.records if "Can't keep up" in r.getMessage()]
    assert not [r for r in caplog.records if "stopped responding" in r.getMessage()]

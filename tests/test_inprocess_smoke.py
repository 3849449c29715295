"""The in-process bridge fixture starts the same bridge as the command line."""

from __future__ import annotations

import pytest

from bridge.app import Bridge

pytestmark = pytest.mark.slow


async def test_running_bridge_is_connected_on_both_sides(running_bridge: Bridge) -> None:
    assert running_bridge.discord.is_ready()
    assert running_bridge.appservice is not None and running_bridge.appservice.ready
    whoami = await running_bridge.appservice.intent.whoami()
    assert whoami.user_id == "@discordbot:sandbox.local"

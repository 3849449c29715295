"""Fixtures shared by the reliability tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import Community
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig
from tests.reliability.shared import Restarts


@pytest_asyncio.fixture(loop_scope="session")
async def restarts(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
) -> AsyncIterator[Restarts]:
    control = Restarts(make_bridge_config, community, sandbox_guild, bot_view)
    try:
        yield control
    finally:
        control.hub.set_dispatch_delay(0)
        await control.stop()

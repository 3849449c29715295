"""Fixtures for the Discord emulator's tests.

``emulator``: one running emulator per test module, with discord.py pointed at it.
Every REST answer received during a test is checked against Discord's OpenAPI description
when the test ends (``validate_responses``, autouse). ``bot``, ``guild`` and ``client`` are
fresh per test, so rate limits and state do not leak between tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import discord
import pytest
import pytest_asyncio
import yarl

from bridge.sandbox.discord.ratelimit import RateLimitConfig
from bridge.sandbox.discord.server import DiscordEmulator, RecordedResponse
from bridge.sandbox.discord.store import Application, Guild, User
from tests.fixtures.discord import validated_responses


def point_discord_py_at(emulator: DiscordEmulator) -> None:
    """Make an unmodified discord.py talk to the emulator (REST, gateway and CDN)."""
    discord.http.Route.BASE = emulator.api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emulator.gateway_url)
    discord.asset.Asset.BASE = emulator.cdn_url


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def emulator() -> AsyncIterator[DiscordEmulator]:
    emu = DiscordEmulator(rate_limits=RateLimitConfig(enabled=False))
    await emu.start()
    point_discord_py_at(emu)
    yield emu
    await emu.stop()


@pytest.fixture(autouse=True)
def validate_responses(request: pytest.FixtureRequest) -> Iterator[list[RecordedResponse]]:
    """Record every REST answer of the test and validate each against the OpenAPI schema;
    injected faults are cleared when the test ends."""
    if "emulator" not in request.fixturenames:
        yield []
        return
    emu: DiscordEmulator = request.getfixturevalue("emulator")
    try:
        with validated_responses(emu) as records:
            yield records
    finally:
        emu.faults.clear()


@dataclass
class Bot:
    user: User
    application: Application
    token: str


@pytest.fixture
def bot(emulator: DiscordEmulator) -> Bot:
    user, app, token = emulator.store.create_bot("Test Bot")
    return Bot(user, app, token)


@pytest.fixture
def owner(emulator: DiscordEmulator) -> User:
    return emulator.store.create_user("owner", global_name="The Owner")


@pytest.fixture
def guild(emulator: DiscordEmulator, bot: Bot, owner: User) -> Guild:
    """A guild owned by ``owner`` with a ``general`` channel; the bot is an administrator."""
    store = emulator.store
    g = store.create_guild("Test Guild", owner.id)
    store.add_member(g.id, bot.user.id)
    return g


@pytest_asyncio.fixture(loop_scope="session")
async def client(emulator: DiscordEmulator, bot: Bot) -> AsyncIterator[discord.Client]:
    """A discord.py client logged in over REST only (no gateway connection). All intents, so
    that methods discord.py guards with one (``Guild.fetch_members``) can be called."""
    c = discord.Client(intents=discord.Intents.all())
    await c.login(bot.token)
    yield c
    await c.close()

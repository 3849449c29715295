"""The bridge on conduwuit-family homeservers, emulated by a profile proxy in front of the
session's Synapse (whatever BRIDGE_TEST_HOMESERVER_PROFILE says): a first start, where the
server does not know the bot yet, and the room version of the rooms it creates."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from mautrix.api import Method, Path

from bridge.app import Bridge
from bridge.sandbox.homeserver_profile import HomeserverProfile
from bridge.sandbox.matrix_client import MatrixTestClient
from bridge.sandbox.profile_proxy import ProfileProxy
from tests.fixtures.bridge import StartBridge
from tests.fixtures.community import Community, room_of
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.homeserver import ProfiledSynapse
from tests.fixtures.inprocess import MakeConfig

pytestmark = pytest.mark.slow
BOT = "@discordbot:sandbox.local"

ProxyAs = Callable[[str], AbstractAsyncContextManager[ProfileProxy]]


@pytest.fixture
def proxy_as(
    synapse: ProfiledSynapse, appservice_port: int, appservice_registration_data: dict[str, Any]
) -> ProxyAs:
    """``async with proxy_as("conduwuit") as proxy``: a fresh proxy (the bot not registered
    yet) in front of the session's Synapse; the bridge listens on ``appservice_port``."""

    @asynccontextmanager
    async def proxy_as(name: str) -> AsyncIterator[ProfileProxy]:
        proxy = ProfileProxy(
            HomeserverProfile.named(name),
            synapse.direct_url,
            f"http://127.0.0.1:{appservice_port}",
            as_token=appservice_registration_data["as_token"],
            bot_user_id=BOT,
        )
        async with proxy:
            yield proxy

    return proxy_as


async def test_the_session_homeserver_answers_as_its_profile(
    synapse: ProfiledSynapse,
    homeserver_profile: HomeserverProfile,
    appservice_port: int,
    appservice_registration_data: dict[str, Any],
    matrix_user: MatrixTestClient,
) -> None:
    """What BRIDGE_TEST_HOMESERVER_PROFILE selects is what every end-to-end test talks to."""
    answer = await matrix_user.api.api.request(Method.GET, Path.v3.capabilities)
    versions = answer["capabilities"]["m.room_versions"]
    pushed_to = appservice_registration_data["url"]
    if homeserver_profile.differs:
        assert synapse.proxy is not None and synapse.url == synapse.proxy.client_url
        assert pushed_to == synapse.proxy.push_url
    else:
        assert synapse.url == synapse.direct_url
        assert pushed_to == f"http://127.0.0.1:{appservice_port}"
    if homeserver_profile.room_versions is None:
        assert "12" in versions["available"]
    else:
        assert versions["default"] == homeserver_profile.default_room_version
        assert versions["available"] == dict(homeserver_profile.room_versions)


@pytest.mark.parametrize("profile", ["conduwuit", "continuwuity"])
async def test_first_start_on_a_server_that_does_not_know_the_bot_yet(
    profile: str, proxy_as: ProxyAs, sandbox_guild: SandboxGuild, start_bridge: StartBridge
) -> None:
    async with proxy_as(profile) as proxy:
        bridge = start_bridge(
            {"homeserver.address": proxy.client_url, **sandbox_guild.bridge_overrides()}
        )
        await bridge.wait_for_output(f"Bridge started as {BOT}")
        assert proxy.bot_registered
        assert await bridge.stop() == 0
    assert "Traceback" not in bridge.output


async def test_rooms_on_conduwuit_get_its_default_room_version(
    proxy_as: ProxyAs,
    make_bridge_config: MakeConfig,
    community: Community,
    bot_view: MatrixTestClient,
) -> None:
    async with proxy_as("conduwuit") as proxy:
        config = make_bridge_config(
            {"homeserver.address": proxy.client_url, "bridge.guilds": f"[{community.guild_id}]"}
        )
        bridge = Bridge(config)
        try:
            await bridge.start()
            lounge = await room_of(bridge, community.channels["lounge"])
        finally:
            await bridge.stop()
    create = await bot_view.state_event(lounge, "m.room.create")
    assert create["room_version"] == "10"


async def test_a_room_version_conduwuit_lacks_is_refused_naming_the_key(
    proxy_as: ProxyAs, sandbox_guild: SandboxGuild, start_bridge: StartBridge
) -> None:
    async with proxy_as("conduwuit") as proxy:
        bridge = start_bridge(
            {
                "homeserver.address": proxy.client_url,
                "bridge.room_version": "12",
                **sandbox_guild.bridge_overrides(),
            }
        )
        assert await bridge.wait_exit() == 1
    assert 'bridge.room_version is "12"' in bridge.output
    assert "Traceback" not in bridge.output

"""Starting the real bridge process: clear errors when the homeserver side is wrong."""

from __future__ import annotations

import secrets

import pytest

from bridge.sandbox.homeserver import LocalSynapse, free_port
from tests.fixtures.bridge import StartBridge

pytestmark = pytest.mark.slow


async def test_unreachable_homeserver_is_named(start_bridge: StartBridge) -> None:
    address = f"http://127.0.0.1:{free_port()}"
    bridge = start_bridge({"homeserver.address": address, "discord.bot_token": "x.y.z"})
    assert await bridge.wait_exit() == 1
    assert f"Error: Cannot reach the homeserver at {address} (homeserver.address)" in bridge.output
    assert "Traceback" not in bridge.output


async def test_registration_not_loaded_is_explained(
    synapse: LocalSynapse, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(
        {
            "homeserver.address": synapse.url,
            "appservice.as_token": secrets.token_urlsafe(32),
            "discord.bot_token": "x.y.z",
        }
    )
    assert await bridge.wait_exit() == 1
    assert "the registration is not loaded" in bridge.output
    assert "app_service_config_files" in bridge.output


async def test_missing_bot_token_is_a_config_error(start_bridge: StartBridge) -> None:
    bridge = start_bridge({"discord.bot_token": "''"})
    assert await bridge.wait_exit() == 1
    # The value came from the environment: the line names the variable, not the file.
    assert (
        "DISCORD_BRIDGE__DISCORD__BOT_TOKEN='': expected the bot token of your Discord "
        "application" in bridge.output
    )

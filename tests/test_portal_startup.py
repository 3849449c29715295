"""Guilds listed in the config are bridged at start-up, as configured."""

from __future__ import annotations

import pytest

from bridge.app import Bridge
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import Community, ghost, room_of
from tests.fixtures.inprocess import MakeConfig

pytestmark = pytest.mark.slow


async def test_configured_guild_is_bridged_at_start_with_voice_and_public_channels(
    make_bridge_config: MakeConfig, community: Community, bot_view: MatrixTestClient
) -> None:
    config = make_bridge_config(
        {
            "bridge.guilds": f"[{community.guild_id}]",
            "bridge.bridge_voice_channels": "true",
            "bridge.join_rules.public_channels": "public",
            "bridge.join_rules.space": "invite",
        }
    )
    bridge = Bridge(config)
    try:
        await bridge.start()
        assert bridge.database is not None
        guild_row = await bridge.database.tables.guilds.get(community.guild_id)
        assert guild_row is not None and guild_row.space_room_id
        space = guild_row.space_room_id
        voice = await room_of(bridge, community.channels["voice"])
        lounge = await room_of(bridge, community.channels["lounge"])
        space_rule = await bot_view.state_event(space, "m.room.join_rules")
        assert space_rule["join_rule"] == "invite"
        lounge_rule = await bot_view.state_event(lounge, "m.room.join_rules")
        assert lounge_rule["join_rule"] == "public"
        assert (await bot_view.state_event(voice, "m.room.name"))["name"] == "Voice"
        # Members with power in Matrix have ghosts with their Discord names already.
        profile = await bot_view.api.get_profile(ghost(community.users["alice"]))
        assert profile.displayname == "Alice (Discord)"
    finally:
        await bridge.stop()

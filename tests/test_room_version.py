"""bridge.room_version and Matrix typing, end to end against the sandbox Synapse and emulator."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.app import Bridge
from bridge.sandbox.discord.events import GatewayEvent
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.homeserver_profile import HomeserverProfile
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.bridge import StartBridge
from tests.fixtures.community import Community, eventually, ghost, room_of
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig
from tests.fixtures.lounge import Lounge

pytestmark = pytest.mark.slow


async def test_rooms_are_created_as_the_configured_version_and_relay_both_ways(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
    make_matrix_user,  # noqa: ANN001
) -> None:
    bridge = Bridge(make_bridge_config({"bridge.room_version": '"11"'}))
    try:
        await bridge.start()
        assert bridge.guilds is not None
        space = (await bridge.guilds.bridge_guild(community.guild_id)).space_room_id
        room = await room_of(bridge, community.channels["lounge"])
        bot = bridge.appservice.intent.mxid  # type: ignore[union-attr]
        for room_id in (space, room):
            create = await bot_view.state_event(room_id, "m.room.create") or {}
            assert create.get("room_version") == "11"
            levels = await bot_view.state_event(room_id, "m.room.power_levels") or {}
            assert levels["users"][bot] == 100

        marie = await make_matrix_user(displayname="Marie")
        await marie.join(space)
        await marie.join(room)
        store = sandbox_guild.emulator.store
        channel = community.channels["lounge"]
        store.create_message(channel, community.users["alice"], "hello from discord")
        await marie.wait_for_message(room, "hello from discord", timeout=15)
        await marie.send_text(room, "hello from matrix")

        async def relayed() -> Any:
            history = store.history(channel, limit=20)
            return next((m for m in history if m.content == "hello from matrix"), None)

        message = await eventually(relayed, "Marie's message on Discord")
        assert message.webhook_name == "Marie"
    finally:
        await bridge.stop()


async def test_a_room_version_the_homeserver_lacks_stops_the_bridge(
    synapse: LocalSynapse, start_bridge: StartBridge
) -> None:
    bridge = start_bridge(
        {
            "homeserver.address": synapse.url,
            "bridge.room_version": '"99"',
            "discord.bot_token": "x.y.z",
        }
    )
    assert await bridge.wait_exit() != 0
    errors = [line for line in bridge.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, bridge.output
    assert 'bridge.room_version is "99", but the homeserver offers room versions' in errors[0]
    assert "11 (stable)" in errors[0]
    assert "Traceback" not in bridge.output


async def test_a_matrix_user_typing_makes_the_bot_type_on_discord(
    lounge: Lounge,
    sandbox_guild: SandboxGuild,
    make_matrix_user,  # noqa: ANN001
    homeserver_profile: HomeserverProfile,
) -> None:
    if not homeserver_profile.pushes_ephemeral:
        pytest.skip(f"{homeserver_profile.name} pushes no typing to appservices")
    marie: MatrixTestClient = await make_matrix_user(displayname="Marie")
    await marie.join(lounge.space)
    await marie.join(lounge.room)
    seen: list[GatewayEvent] = []
    unsubscribe = lounge.store.events.subscribe(
        lambda event: seen.append(event) if event.name == "TYPING_START" else None
    )
    try:
        await marie.api.set_typing(lounge.room, timeout=5000)  # type: ignore[arg-type]

        async def bot_typing() -> GatewayEvent | None:
            return next(
                (
                    e
                    for e in seen
                    if e.data["channel_id"] == str(lounge.channel_id)
                    and e.data["user_id"] == str(sandbox_guild.bot.id)
                ),
                None,
            )

        await eventually(bot_typing, "the bot typing in #lounge")
    finally:
        unsubscribe()


async def test_rooms_keep_their_version_when_the_configured_one_changes(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
    homeserver_profile: HomeserverProfile,
) -> None:
    """Rooms created as v12 (the bot their creator) stay v12 under a bridge now creating v11:
    their power levels still change with Discord and never name the bot (MSC4289)."""
    if "12" not in (homeserver_profile.room_versions or {"12": "stable"}):
        pytest.skip(f"{homeserver_profile.name} has no room version 12")
    first = Bridge(make_bridge_config({"bridge.room_version": '"12"'}))
    try:
        await first.start()
        assert first.guilds is not None
        await first.guilds.bridge_guild(community.guild_id)
        lounge = await room_of(first, community.channels["lounge"])
    finally:
        await first.stop()
    bridge = Bridge(make_bridge_config({"bridge.room_version": '"11"'}))
    try:
        await bridge.start()
        assert bridge.guilds is not None
        await bridge.guilds.bridge_guild(community.guild_id)
        carol = community.users["carol"]
        sandbox_guild.emulator.store.update_member(
            community.guild_id, carol, roles=[community.roles["mod"]]
        )

        async def carol_promoted() -> dict[str, int] | None:
            levels = await bot_view.state_event(lounge, "m.room.power_levels") or {}
            users: dict[str, int] = levels.get("users", {})
            return users if users.get(ghost(carol)) == 50 else None

        users = await eventually(carol_promoted, "carol's ghost to get moderator power")
        assert bridge.appservice is not None and bridge.appservice.intent.mxid not in users
        create = await bot_view.state_event(lounge, "m.room.create") or {}
        assert create.get("room_version") == "12"
    finally:
        await bridge.stop()

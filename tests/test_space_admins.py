"""The admin is in the space: invited once when the guild is bridged, and the space has an
alias the admin can join by (issue #15, point 11)."""

from __future__ import annotations

import json
import logging
import secrets

import pytest
from mautrix.types import EventType, RoomAlias, RoomID

from bridge.app import Bridge
from bridge.importer.command import ImportRequest, run_import
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import SERVER, Community, eventually
from tests.fixtures.homeserver import MakeMatrixUser
from tests.fixtures.inprocess import MakeConfig

pytestmark = pytest.mark.slow


async def start_and_stop(config_overrides: dict[str, object], make: MakeConfig) -> Bridge:
    """A bridge start (which bridges ``bridge.guilds``), then its stop; the stopped bridge."""
    bridge = Bridge(make(config_overrides))
    try:
        await bridge.start()
    finally:
        await bridge.stop()
    return bridge


async def member_events(viewer: MatrixTestClient, room_id: str, user: str) -> list[str]:
    """The memberships of the user's member events in the room, oldest first."""
    events = await viewer.timeline(room_id, types=["m.room.member"])
    return [e["content"]["membership"] for e in events if e["state_key"] == user]


async def test_a_guild_bridged_at_start_invites_the_admins_once_and_has_an_alias(
    make_bridge_config: MakeConfig,
    make_matrix_user: MakeMatrixUser,
    community: Community,
    bot_view: MatrixTestClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = await make_matrix_user()
    other_admin = await make_matrix_user()
    permissions = {
        "*": "relay",
        SERVER: "user",
        admin.user_id: "admin",
        other_admin.user_id: "admin",
        "@nobody_" + secrets.token_hex(3) + ":elsewhere.invalid": "admin",  # cannot be invited
    }
    overrides: dict[str, object] = {
        "bridge.guilds": f"[{community.guild_id}]",
        "bridge.permissions": json.dumps(permissions),
    }
    caplog.set_level(logging.INFO, logger="bridge")
    await start_and_stop(overrides, make_bridge_config)
    alias = f"#discord_{community.guild_id}:{SERVER}"

    # The admin finds the space: invited to it, and by its alias, named in the log.
    resolved = await admin.api.resolve_room_alias(RoomAlias(alias))
    space = str(resolved.room_id)
    assert f"Guild {community.guild_id} is bridged as the space {space} ({alias})" in caplog.text
    assert await member_events(bot_view, space, admin.user_id) == ["invite"]
    assert await member_events(bot_view, space, other_admin.user_id) == ["invite"]
    assert "Could not invite @nobody_" in caplog.text  # logged; the start went on
    assert await admin.join(alias) == space
    canonical = await admin.state_event(space, "m.room.canonical_alias")
    assert canonical == {"alias": alias}

    # A restart invites nobody again: one admin joined, the other refused the invite.
    await other_admin.leave(space)
    caplog.clear()
    await start_and_stop(overrides, make_bridge_config)
    assert f"is bridged as the space {space} ({alias})" in caplog.text
    assert await member_events(bot_view, space, admin.user_id) == ["invite", "join"]
    assert await member_events(bot_view, space, other_admin.user_id) == ["invite", "leave"]


async def test_a_space_made_without_an_alias_gets_it_at_the_next_start(
    make_bridge_config: MakeConfig, community: Community, bot_view: MatrixTestClient
) -> None:
    overrides: dict[str, object] = {"bridge.guilds": f"[{community.guild_id}]"}
    alias = f"#discord_{community.guild_id}:{SERVER}"
    bridge = Bridge(make_bridge_config(overrides))
    try:
        await bridge.start()
        assert bridge.guilds is not None
        (space, *_rooms) = await bridge.guilds.guild_room_ids(community.guild_id)
        # As an older version left it: no canonical alias, no alias in the directory.
        bot = bridge.guilds.bot
        await bot.send_state_event(RoomID(space), EventType.ROOM_CANONICAL_ALIAS, {})
        await bot.remove_room_alias(alias[1:].split(":")[0])
        state = bridge.guilds.state

        async def pushed() -> bool | None:  # the homeserver has nothing left to push
            current = await state.get(space)
            return True if current.get(("m.room.canonical_alias", "")) == {} else None

        await eventually(pushed, "the homeserver pushing the emptied canonical alias")
    finally:
        await bridge.stop()
    assert await bot_view.state_event(space, "m.room.canonical_alias") == {}

    await start_and_stop(overrides, make_bridge_config)
    assert await bot_view.state_event(space, "m.room.canonical_alias") == {"alias": alias}
    resolved = await bot_view.api.resolve_room_alias(RoomAlias(alias))
    assert str(resolved.room_id) == space


async def test_an_import_that_bridges_a_guild_invites_the_admin(
    make_bridge_config: MakeConfig,
    make_matrix_user: MakeMatrixUser,
    community: Community,
    bot_view: MatrixTestClient,
) -> None:
    admin = await make_matrix_user()
    config = make_bridge_config({"bridge.permissions": json.dumps({admin.user_id: "admin"})})
    lounge = community.channels["lounge"]
    assert await run_import(config, ImportRequest(community.guild_id, [lounge])) == 0
    alias = f"#discord_{community.guild_id}:{SERVER}"
    space = str((await bot_view.api.resolve_room_alias(RoomAlias(alias))).room_id)
    assert await member_events(bot_view, space, admin.user_id) == ["invite"]

"""Start-up safety (issue #15, points 5 and 6): a database, registration or address that does
not match the homeserver stops the bridge with one line, and creates no room, however often
it is started; a fresh database adopts the rooms the bridge made before."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.sandbox.homeserver import LocalSynapse, free_port
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.bridge import BridgeProcess, StartBridge
from tests.fixtures.community import Community
from tests.fixtures.discord import SandboxGuild

pytestmark = pytest.mark.slow


def _overrides(synapse: LocalSynapse, community: Community, database: Path) -> dict[str, object]:
    return {
        "homeserver.address": synapse.url,
        "bridge.guilds": f"[{community.guild_id}]",
        "appservice.database.url": f"sqlite:{database}",
    }


async def _bridged(bridge: BridgeProcess) -> str:
    """Wait for the start, stop the bridge cleanly, and return its output."""
    await bridge.wait_for_output("Bridge started as")
    assert await bridge.stop() == 0
    assert "Traceback" not in bridge.output
    return bridge.output


async def _refused(bridge: BridgeProcess) -> str:
    """The bridge exits 1 with one line, no traceback: that line."""
    assert await bridge.wait_exit() == 1
    assert "Traceback" not in bridge.output
    errors = [line for line in bridge.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, bridge.output[-3000:]
    return errors[0]


async def test_a_fresh_database_adopts_the_rooms_the_bridge_made(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    community: Community,
    start_bridge: StartBridge,
    bot_view: MatrixTestClient,
    tmp_path: Path,
) -> None:
    overrides = {**sandbox_guild.bridge_overrides()}
    first = start_bridge({**overrides, **_overrides(synapse, community, tmp_path / "first.db")})
    await _bridged(first)
    rooms = set(await bot_view.joined_rooms())
    # The database is lost: a fresh one finds the space and its rooms again.
    fresh = {**overrides, **_overrides(synapse, community, tmp_path / "fresh.db")}
    output = await _bridged(start_bridge(fresh))
    assert f"Synced guild {community.guild_id}: 0 rooms created" in output
    assert "Adopting the space" in output
    assert set(await bot_view.joined_rooms()) == rooms
    # ... and the adopted rooms are recorded: the next start adopts nothing, creates nothing.
    output = await _bridged(start_bridge(fresh))
    assert f"Synced guild {community.guild_id}: 0 rooms created" in output
    assert "Adopting" not in output
    assert set(await bot_view.joined_rooms()) == rooms


async def test_an_alias_that_is_not_the_bridges_stops_before_any_room(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    community: Community,
    start_bridge: StartBridge,
    bot_view: MatrixTestClient,
    tmp_path: Path,
) -> None:
    # A room of the bot's, not a portal (no bridge info), holds the alias of #general.
    general = community.channels["general"]
    squatter = await bot_view.create_room(name="not a portal", alias_localpart=f"discord_{general}")
    rooms = set(await bot_view.joined_rooms())
    settings = {
        **sandbox_guild.bridge_overrides(),
        **_overrides(synapse, community, tmp_path / "b.db"),
    }
    for _ in range(2):  # a restart of the same setup adds nothing either
        line = await _refused(start_bridge(settings))
        assert f"already points to {squatter}, which is not one of the bridge's rooms" in line
        assert "delete the alias" in line
        assert set(await bot_view.joined_rooms()) == rooms


async def test_a_registration_for_other_namespaces_stops_before_any_room(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    community: Community,
    start_bridge: StartBridge,
    bot_view: MatrixTestClient,
    tmp_path: Path,
) -> None:
    # The loaded registration reserves @discord_… and #discord_…; this config makes others,
    # as a registration generated for another homeserver.domain would not reserve ours.
    rooms = set(await bot_view.joined_rooms())
    settings = {
        **sandbox_guild.bridge_overrides(),
        **_overrides(synapse, community, tmp_path / "c.db"),
        "bridge.username_template": "dc_{id}",
        "bridge.alias_template": "dc_{id}",
    }
    for _ in range(2):
        line = await _refused(start_bridge(settings))
        assert "does not reserve the Discord users' Matrix IDs (like @dc_1:" in line
        assert "bridge.username_template, bridge.alias_template and homeserver.domain" in line
        assert "regenerate the registration with -g and reload it" in line
        assert set(await bot_view.joined_rooms()) == rooms
    # Only the aliases differ: the alias probe catches it.
    settings["bridge.username_template"] = "discord_{id}"
    line = await _refused(start_bridge(settings))
    assert "has not reserved room aliases like #dc_1:" in line
    assert "regenerate the registration with -g and reload it" in line
    assert set(await bot_view.joined_rooms()) == rooms


async def test_the_database_of_another_homeserver_stops_before_any_room(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    community: Community,
    start_bridge: StartBridge,
    bot_view: MatrixTestClient,
    tmp_path: Path,
) -> None:
    settings = {
        **sandbox_guild.bridge_overrides(),
        **_overrides(synapse, community, tmp_path / "d.db"),
    }
    before = set(await bot_view.joined_rooms())
    await _bridged(start_bridge(settings))
    # As if the homeserver was reset: the bot is in none of the rooms the database lists.
    theirs = set(await bot_view.joined_rooms()) - before
    for room_id in theirs:
        await bot_view.leave(room_id)
    for _ in range(2):
        line = await _refused(start_bridge(settings))
        assert f"The database at appservice.database.url lists {len(theirs)} rooms the bot " in line
        assert "is not in on this homeserver" in line
        assert "Use a fresh database" in line
        assert set(await bot_view.joined_rooms()) == before


async def test_a_wrong_homeserver_domain_is_named_with_the_homeservers_words(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    start_bridge: StartBridge,
) -> None:
    bridge = start_bridge(
        {
            "homeserver.address": synapse.url,
            "homeserver.domain": "wrong.example",
            **sandbox_guild.bridge_overrides(),
        }
    )
    line = await _refused(bridge)
    assert "refused the bridge bot @discordbot:wrong.example" in line
    assert "Application service cannot masquerade as this user" in line  # Synapse's words
    assert 'homeserver.domain is "wrong.example"' in line
    assert "is it a Matrix homeserver" not in line


async def test_a_homeserver_that_cannot_reach_the_bridge_says_so_at_once(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    start_bridge: StartBridge,
    bridge_config_path: Path,
) -> None:
    # The registration the homeserver loaded points at appservice.address; nothing listens
    # there while the bridge listens on another port.
    from ruamel.yaml import YAML

    address = YAML(typ="safe").load(bridge_config_path)["appservice"]["address"]
    bridge = start_bridge(
        {
            "homeserver.address": synapse.url,
            "appservice.port": free_port(),
            **sandbox_guild.bridge_overrides(),
        }
    )
    line = await _refused(bridge)
    assert f"The homeserver cannot reach the bridge at {address} (appservice.address" in line
    assert "retrying" not in bridge.output  # one ping, no minute of HTTP 502 retries


async def test_a_guild_whose_sync_fails_midway_keeps_its_rooms_for_the_next_start(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    start_bridge: StartBridge,
    bot_view: MatrixTestClient,
    tmp_path: Path,
) -> None:
    store, guild = sandbox_guild.emulator.store, sandbox_guild.guild
    # A topic over Matrix's 64 KiB event limit: the homeserver refuses to create that room,
    # after the space and #general were created.
    huge = store.create_channel(guild.id, "huge", topic="x" * 70_000, position=9).id
    settings = {
        **sandbox_guild.bridge_overrides(),
        "homeserver.address": synapse.url,
        "bridge.guilds": f"[{guild.id}]",
        "appservice.database.url": f"sqlite:{tmp_path / 'e.db'}",
    }
    before = set(await bot_view.joined_rooms())
    output = await _bridged(start_bridge(settings))
    assert f"Cannot bridge guild {guild.id}: the homeserver refused a request" in output
    # Synapse made #huge's room before refusing its topic: the bot left it.
    assert "half made by a failed createRoom" in output
    made = set(await bot_view.joined_rooms()) - before
    assert len(made) == 2  # the space and #general, recorded as they were made
    store.update_channel(huge, topic="A normal topic")
    output = await _bridged(start_bridge(settings))
    assert f"Synced guild {guild.id}: 1 rooms created" in output  # only #huge
    assert len(set(await bot_view.joined_rooms()) - before) == 3

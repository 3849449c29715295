"""``import --dry-run`` changes nothing anywhere; a finished export import run again sends
nothing; progress counts what the import sends. As the homeserver and the database see it."""

from __future__ import annotations

import itertools
import logging
import time
from pathlib import Path

import pytest
from mautrix.errors import MNotFound
from mautrix.types import RoomAlias

from bridge.db.connect import open_database
from bridge.db.url import resolve_database_url
from bridge.importer.export_import import run_export_import
from bridge.sandbox.discord.server import RecordedResponse
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.bridge import StartBridge
from tests.fixtures.community import SERVER, Community
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig
from tests.test_import import seed
from tests.test_import_exports import local_copy

pytestmark = pytest.mark.slow
# The fixtures' guild, category, channels and thread, renumbered per test (rooms of the
# session's Synapse outlive a test; an alias must be new to tell whether it was made).
FIXTURE_IDS = {
    "guild": 1000000000000000001,
    "category": 1050000000000000001,
    "general": 1100000000000000001,
    "media": 1100000000000000002,
    "thread": 1100000000000000050,
}
_counter = itertools.count()


def fresh_exports(tmp_path: Path, cdn_url: str) -> tuple[Path, dict[str, int]]:
    """The fixture exports under new ids, for this test only."""
    exports = local_copy(tmp_path, cdn_url)
    base = (int(time.time() * 1000) - 1420070400000) << 22 | next(_counter) << 12
    ids = {name: base + offset for offset, name in enumerate(FIXTURE_IDS)}
    for path in exports.rglob("*.json"):
        text = path.read_text()
        for name, old in FIXTURE_IDS.items():
            text = text.replace(str(old), str(ids[name]))
        path.write_text(text)
    return exports, ids


async def alias_exists(client: MatrixTestClient, channel_id: int) -> bool:
    try:
        await client.api.resolve_room_alias(RoomAlias(f"#discord_{channel_id}:{SERVER}"))
    except MNotFound:
        return False
    return True


async def all_rooms(config) -> dict[int, str]:  # noqa: ANN001
    """Every room the bridge made: the spaces and the channels' rooms, by Discord id."""
    database = await open_database(
        resolve_database_url(config["appservice.database.url"], config.directory)
    )
    try:
        rooms = {row.discord_id: row.room_id for row in await database.tables.portals.find()}
        for guild in await database.tables.guilds.find():
            rooms[guild.discord_id] = guild.space_room_id
        return {discord_id: room for discord_id, room in rooms.items() if room}
    finally:
        await database.close()


async def test_an_export_dry_run_reports_and_changes_nothing(
    synapse: LocalSynapse,
    sandbox_guild: SandboxGuild,
    start_bridge: StartBridge,
    bot_view: MatrixTestClient,
    tmp_path: Path,
) -> None:
    exports, ids = fresh_exports(tmp_path, sandbox_guild.emulator.cdn_url)
    joined = set(await bot_view.joined_rooms())
    overrides = {"homeserver.address": synapse.url, **sandbox_guild.bridge_overrides()}
    run = start_bridge(overrides, ("import", "--export", str(exports), "--dry-run"))
    assert await run.wait_exit(timeout=60) == 0, run.output
    out = run.output
    # #general: 12 messages of its own and 2 in its thread.
    assert "#general: 14 messages, 1 threads, 2 attachments" in out
    assert "#media: 4 messages, 0 threads, 3 attachments" in out
    assert "Total: 18 messages, 1 threads, 5 attachments" in out
    assert "under a minute at 20 events/s" in out and "0.0 minutes" not in out
    assert "imported" not in out.replace("not imported", "")
    # Nothing on the homeserver, nothing in a database (not even its file).
    assert not (tmp_path / "bridge.db").exists()
    assert set(await bot_view.joined_rooms()) == joined
    for name in ("general", "media", "thread"):
        assert not await alias_exists(bot_view, ids[name])


async def test_an_api_dry_run_reports_and_changes_nothing(
    synapse: LocalSynapse,
    community: Community,
    sandbox_guild: SandboxGuild,
    start_bridge: StartBridge,
    bot_view: MatrixTestClient,
    tmp_path: Path,
) -> None:
    seed(sandbox_guild.emulator.store, community)
    lounge = community.channels["lounge"]
    joined = set(await bot_view.joined_rooms())
    seen: list[RecordedResponse] = []
    sandbox_guild.emulator.recorders.append(seen.append)
    try:
        overrides = {"homeserver.address": synapse.url, **sandbox_guild.bridge_overrides()}
        args = ("import", "--guild", str(community.guild_id), "--dry-run")
        run = start_bridge(overrides, args)
        assert await run.wait_exit(timeout=60) == 0, run.output
    finally:
        sandbox_guild.emulator.recorders.remove(seen.append)
    assert "#lounge: 8 messages, 1 threads, 1 attachments" in run.output
    assert "Total:" in run.output and "0.0 minutes" not in run.output
    assert seen and {record.method for record in seen} == {"GET"}, "Discord only read"
    assert not (tmp_path / "bridge.db").exists()
    assert set(await bot_view.joined_rooms()) == joined
    assert not await alias_exists(bot_view, lounge)
    assert not await alias_exists(bot_view, community.guild_id)


async def test_a_finished_export_import_run_again_sends_nothing(
    make_bridge_config: MakeConfig,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every room's timeline (the space's and the category's too) is as long after the
    second run as after the first: no topic cleared and set again, no space parent."""
    caplog.set_level(logging.INFO, logger="bridge.importer")
    exports, ids = fresh_exports(tmp_path, sandbox_guild.emulator.cdn_url)
    config = make_bridge_config()
    assert await run_export_import(config, [exports]) == 0
    # Progress counts the thread's messages in the channel's total, each once.
    progress = [r.message for r in caplog.records if r.message.startswith("Import progress")]
    assert progress and "18/18 messages" in progress[-1], progress
    rooms = await all_rooms(config)
    assert {ids["guild"], ids["category"], ids["general"], ids["media"]} <= set(rooms)
    general = rooms[ids["general"]]
    assert (await bot_view.state_event(general, "m.room.topic"))["topic"] == ("Chat about anything")
    before = {key: len(await bot_view.timeline(room)) for key, room in rooms.items()}
    capsys.readouterr()

    assert await run_export_import(make_bridge_config(), [exports]) == 0
    assert "#general: already imported" in capsys.readouterr().out
    after = {key: await bot_view.timeline(room) for key, room in rooms.items()}
    sent_again = {
        key: [(e["type"], e["content"]) for e in events[before[key] :]]
        for key, events in after.items()
        if len(events) != before[key]
    }
    assert sent_again == {}
    assert (await bot_view.state_event(general, "m.room.topic"))["topic"] == ("Chat about anything")
    parent = await bot_view.state_event(general, "m.space.parent", rooms[ids["category"]])
    assert parent and parent.get("canonical") is True

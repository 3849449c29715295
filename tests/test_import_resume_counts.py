"""What an import says when it is resumed, dry-run after it, or pointed at a room the bridge
adopted after losing its database: as the output and the room show it."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest
from mautrix.errors import MForbidden, MNotFound
from mautrix.types import RoomAlias

from bridge.db.url import resolve_database_url
from bridge.importer.command import ImportRequest, run_import
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.bridge import StartBridge
from tests.fixtures.community import SERVER, Community, eventually
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig
from tests.test_import import seed_plain
from tests.test_import_stops import EXIT_INTERRUPTED

pytestmark = pytest.mark.slow


async def test_a_resumed_import_counts_what_it_sends_and_a_dry_run_what_is_left(
    synapse: LocalSynapse,
    community: Community,
    sandbox_guild: SandboxGuild,
    start_bridge: StartBridge,
    bot_view: MatrixTestClient,
) -> None:
    store, lounge = sandbox_guild.emulator.store, community.channels["lounge"]
    authors = [community.users[n] for n in ("alice", "bob", "carol")]
    count = 100
    seed_plain(store, lounge, authors, count, "old")
    overrides = {"homeserver.address": synapse.url, **sandbox_guild.bridge_overrides()}
    args = ("import", "--guild", str(community.guild_id), "--channel", str(lounge))
    first = start_bridge(overrides, args)

    async def some_arrived() -> str | None:
        try:
            room = await bot_view.api.resolve_room_alias(RoomAlias(f"#discord_{lounge}:{SERVER}"))
            bodies = await bot_view.timeline(room.room_id, types=["m.room.message"])
        except (MNotFound, MForbidden):
            return None
        return room.room_id if len(bodies) >= 8 else None

    room = await eventually(some_arrived, "part of the history", timeout=60)
    first.process.send_signal(signal.SIGINT)
    assert await first.wait_exit(timeout=30) == EXIT_INTERRUPTED, first.output
    sent_before = len(await bot_view.timeline(room, types=["m.room.message"]))
    assert sent_before < count, "the import finished before the interrupt: nothing to resume"
    assert f"Import of guild {community.guild_id} stopped after " in first.output
    assert "finished in" not in first.output
    # The guild, bridged by the import, is synced once (not again by the start-up).
    assert first.output.count("Synced guild") == 1, first.output
    assert first.output.count("Invited to the space") <= 1, first.output

    dry = start_bridge(overrides, (*args, "--dry-run"))
    assert await dry.wait_exit(timeout=60) == 0, dry.output
    left = count - sent_before
    assert f"#lounge: {left} messages, 0 threads" in dry.output, dry.output
    assert f"after {sent_before} already imported" in dry.output
    assert f"Total: {left} messages" in dry.output

    second = start_bridge(overrides, args)
    assert await second.wait_exit(timeout=120) == 0, second.output
    line = f"#lounge: {left} imported ({sent_before} before this run), skipped: none"
    assert line in second.output, second.output
    assert f"total {count}/{count} messages" in second.output
    assert "Caught up with" not in second.output  # the import sent the rest, counted
    assert second.output.count(f"total {count}/{count} messages") == 1, second.output
    bodies = [e["content"]["body"] for e in await bot_view.timeline(room, types=["m.room.message"])]
    assert bodies == [f"old {i}" for i in range(count)]

    again = start_bridge(overrides, (*args, "--dry-run"))
    assert await again.wait_exit(timeout=60) == 0, again.output
    assert "#lounge: already imported, nothing to send" in again.output, again.output
    assert "Total: 0 messages" in again.output and "nothing to send at" in again.output


async def test_an_adopted_room_with_bridged_messages_is_refused(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store, lounge = sandbox_guild.emulator.store, community.channels["lounge"]
    seed_plain(store, lounge, [community.users["alice"]], 5, "past")
    config = make_bridge_config()
    assert await run_import(config, ImportRequest(community.guild_id, [lounge])) == 0
    assert "#lounge: 5 imported" in capsys.readouterr().out
    alias = RoomAlias(f"#discord_{lounge}:{SERVER}")
    room = (await bot_view.api.resolve_room_alias(alias)).room_id
    assert len(await bot_view.timeline(room, types=["m.room.message"])) == 5

    # The database is lost: the next start finds the rooms by alias and adopts them.
    url = resolve_database_url(config["appservice.database.url"], config.directory)
    database_file = url.runtime.removeprefix("sqlite://")
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(database_file + suffix)

    assert await run_import(make_bridge_config(), ImportRequest(community.guild_id, [lounge])) == 1
    out = capsys.readouterr().out
    assert f"its room {room} already holds 5 bridged messages" in out, out
    assert "adopted after losing its database" in out and "--replace-rooms" in out
    assert "#lounge: 0 imported" in out
    assert (await bot_view.api.resolve_room_alias(alias)).room_id == room, "adopted, not new"
    assert len(await bot_view.timeline(room, types=["m.room.message"])) == 5

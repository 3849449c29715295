"""Nothing changed, nothing sent: a restart re-syncs the bridged guild without a state event,
and an import never flips a nicknamed ghost's name (issue #15, point 12)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from mautrix.appservice import AppServiceAPI

from bridge.app import Bridge
from bridge.importer.command import ImportRequest, run_import
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import Community, ghost
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig
from tests.test_import import BASE, seed_plain

pytestmark = pytest.mark.slow
SYNCED = re.compile(r"Synced guild (\d+): (\d+) rooms created, (\d+) state events sent")


def synced_lines(caplog: pytest.LogCaptureFixture, guild_id: int) -> list[tuple[int, int]]:
    """(rooms created, state events sent) of each "Synced guild" log line of the guild."""
    found = []
    for record in caplog.records:
        match = SYNCED.fullmatch(record.getMessage())
        if match and int(match[1]) == guild_id:
            found.append((int(match[2]), int(match[3])))
    return found


def count_ghost_registers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the ghosts (never the bot) that send ``POST /register``, in order."""
    registered: list[str] = []
    original = AppServiceAPI.request

    def counting(self: AppServiceAPI, method: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
        if self.identity and str(method) == "POST" and str(path).endswith("/register"):
            registered.append(str(self.identity))
        return original(self, method, path, *args, **kwargs)

    monkeypatch.setattr(AppServiceAPI, "request", counting)
    return registered


async def state_event_count(viewer: MatrixTestClient, room_ids: list[str]) -> int:
    """State events in the rooms' timelines, as the bot sees them."""
    total = 0
    for room_id in room_ids:
        total += sum("state_key" in event for event in await viewer.timeline(room_id))
    return total


async def test_the_first_restart_after_bridging_sends_no_state_event(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Emoji, a sticker, a guild icon, categories, a forum with posts: all bridged at the
    first start; the second start finds everything as it left it, and registers none of the
    ghosts of the powerful members again (the puppet table knows them)."""
    registered = count_ghost_registers(monkeypatch)
    store = sandbox_guild.emulator.store
    store.create_emoji(community.guild_id, "party", solid_png(255, 0, 255))
    store.create_emoji(community.guild_id, "wave", solid_png(0, 255, 255))
    store.create_sticker(community.guild_id, "hello", solid_png(10, 200, 10))
    config = make_bridge_config({"bridge.guilds": f"[{community.guild_id}]"})
    caplog.set_level(logging.INFO, logger="bridge")

    first = Bridge(config)
    try:
        await first.start()
        assert first.guilds is not None
        rooms = await first.guilds.guild_room_ids(community.guild_id)
    finally:
        await first.stop()
    assert len(rooms) > 10  # the space, categories, channels, the forum and its posts
    pack = await bot_view.state_event(rooms[0], "m.room.image_pack")
    assert sorted(pack["images"]) == ["hello", "party", "wave"]
    assert pack["pack"]["avatar_url"].startswith("mxc://")  # the guild icon, at once
    (created, _sent), *_ = synced_lines(caplog, community.guild_id)
    assert created == len(rooms)
    before = await state_event_count(bot_view, rooms)
    assert ghost(community.users["alice"]) in registered  # the admin's ghost, at the first

    caplog.clear()
    registered.clear()
    second = Bridge(make_bridge_config({"bridge.guilds": f"[{community.guild_id}]"}))
    try:
        await second.start()
    finally:
        await second.stop()
    assert synced_lines(caplog, community.guild_id) == [(0, 0)]
    assert await state_event_count(bot_view, rooms) == before
    assert registered == []


async def test_an_import_sets_a_nicknamed_ghosts_name_once(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
) -> None:
    """The ghost of a member with a guild nick shows the nick from its first event in the
    room, and never the global name in between (reactions carry no member, replies do)."""
    store = sandbox_guild.emulator.store
    nicked = store.create_user("dana", global_name="Dana Global")
    store.add_member(community.guild_id, nicked.id, nick="Dee", join_message=False)
    lounge = community.channels["lounge"]
    seed_plain(store, lounge, [nicked.id, community.users["carol"]], 6, "hello")
    (last,) = store.seed_history(
        lounge, [{"author_id": nicked.id, "timestamp": BASE + timedelta(minutes=1), "content": "?"}]
    )
    store.add_reaction(lounge, last, nicked.id, "👍")
    store.add_reaction(lounge, last, community.users["carol"], "👍")
    config = make_bridge_config()
    assert await run_import(config, ImportRequest(community.guild_id, [lounge])) == 0

    bridge = Bridge(make_bridge_config())
    try:
        await bridge.start()
        assert bridge.database is not None
        row = await bridge.database.tables.portals.get(lounge)
        assert row is not None and row.room_id
        room = row.room_id
    finally:
        await bridge.stop()
    members = await bot_view.timeline(room, types=["m.room.member"])
    names = [
        event["content"].get("displayname")
        for event in members
        if event["state_key"] == ghost(nicked.id)
    ]
    assert names, "the ghost never joined"
    assert set(names) == {"Dee (Discord)"}, names

"""History import from the Discord API, as a Matrix client sees the result."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta

import pytest
from mautrix.errors import MForbidden, MNotFound
from mautrix.types import RoomAlias

from bridge.app import Bridge
from bridge.importer.command import ImportRequest, ImportRun, run_import
from bridge.sandbox.discord.cdn import solid_png
from bridge.sandbox.discord.store import Attachment, Store
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.bridge import StartBridge
from tests.fixtures.community import SERVER, Community, eventually, ghost
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig

pytestmark = pytest.mark.slow
BASE = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def seed_plain(store: Store, channel_id: int, authors: list[int], count: int, word: str) -> None:
    """``count`` past messages "{word} {i}", one second apart, the authors taking turns."""
    store.seed_history(
        channel_id,
        [
            {
                "author_id": authors[i % len(authors)],
                "timestamp": BASE + timedelta(seconds=i),
                "content": f"{word} {i}",
            }
            for i in range(count)
        ],
    )


def seed(store: Store, community: Community) -> dict[str, int]:
    """A small past in #lounge: text, a reply, an edit, a file, a pin, reactions, a thread."""
    lounge = community.channels["lounge"]
    alice, bob, carol = (community.users[n] for n in ("alice", "bob", "carol"))
    minute = timedelta(minutes=1)
    first, second = store.seed_history(
        lounge,
        [
            {"author_id": alice, "timestamp": BASE, "content": "first!"},
            {"author_id": bob, "timestamp": BASE + minute, "content": "hello **all**"},
        ],
    )
    picture = Attachment(store.ids.next(BASE), "old.png", solid_png(1, 2, 3, size=4), "image/png")
    reply, edited, with_file, pinned = store.seed_history(
        lounge,
        [
            {
                "author_id": carol,
                "timestamp": BASE + 2 * minute,
                "content": "a reply",
                "reply_to": first,
            },
            {
                "author_id": alice,
                "timestamp": BASE + 5 * minute,
                "content": "final words",
                "edited_timestamp": BASE + 6 * minute,
            },
            {
                "author_id": bob,
                "timestamp": BASE + 7 * minute,
                "content": "",
                "attachments": [picture],
            },
            {
                "author_id": alice,
                "timestamp": BASE + 8 * minute,
                "content": "pin me",
                "pinned": True,
            },
        ],
    )
    store.add_reaction(lounge, first, bob, "👍")
    store.add_reaction(lounge, first, carol, "👍")
    thread = store.create_thread(
        lounge, "side talk", alice, message_id=second, created_at=BASE + 3 * minute
    )
    (in_thread,) = store.seed_history(
        thread.id,
        [
            {"author_id": carol, "timestamp": BASE + 4 * minute, "content": "in the thread"},
        ],
    )
    return {
        "first": first,
        "second": second,
        "reply": reply,
        "edited": edited,
        "with_file": with_file,
        "pinned": pinned,
        "in_thread": in_thread,
    }


async def test_a_channels_history_lands_in_order_with_authors_and_relations(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = seed(sandbox_guild.emulator.store, community)
    lounge = community.channels["lounge"]
    config = make_bridge_config()
    assert await run_import(config, ImportRequest(community.guild_id, [lounge])) == 0
    assert "#lounge: 7 imported" in capsys.readouterr().out

    from bridge.db.connect import open_database
    from bridge.db.url import resolve_database_url

    database = await open_database(
        resolve_database_url(config["appservice.database.url"], config.directory)
    )
    try:
        room = (await database.tables.portals.get(lounge)).room_id
        event_of = {
            name: (await database.tables.message_parts_of(mid))[0].event_id
            for name, mid in ids.items()
        }
    finally:
        await database.close()
    messages = await bot_view.timeline(room, types=["m.room.message"])
    bodies = [m["content"]["body"] for m in messages]
    assert bodies == [
        "first!",
        "hello **all**",
        "a reply",
        "in the thread",
        "final words",
        "old.png",
        "pin me",
    ]
    first = messages[0]
    assert first["sender"] == ghost(community.users["alice"])
    assert first["origin_server_ts"] == ms(BASE)
    assert messages[2]["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == event_of["first"]
    thread_relation = messages[3]["content"]["m.relates_to"]
    assert thread_relation["rel_type"] == "m.thread"
    assert thread_relation["event_id"] == event_of["second"]
    assert messages[5]["content"]["msgtype"] == "m.image"
    reactions = await bot_view.timeline(room, types=["m.reaction"])
    assert sorted(r["sender"] for r in reactions) == sorted(
        [ghost(community.users["bob"]), ghost(community.users["carol"])]
    )
    assert {r["content"]["m.relates_to"]["event_id"] for r in reactions} == {event_of["first"]}
    pins = await bot_view.state_event(room, "m.room.pinned_events")
    assert pins["pinned"] == [event_of["pinned"]]

    # A finished import, run again, does nothing: no message, no state (the pins once
    # cleared the topic and the space parent, which the next sync set again).
    events = len(await bot_view.timeline(room))
    assert await run_import(make_bridge_config(), ImportRequest(community.guild_id, [lounge])) == 0
    assert "already imported, nothing to do" in capsys.readouterr().out
    assert len(await bot_view.timeline(room, types=["m.room.message"])) == len(messages)
    assert len(await bot_view.timeline(room)) == events


async def test_a_killed_import_resumes_without_gaps_or_doubles(
    synapse: LocalSynapse,
    community: Community,
    sandbox_guild: SandboxGuild,
    start_bridge: StartBridge,
    bot_view: MatrixTestClient,
) -> None:
    store, lounge = sandbox_guild.emulator.store, community.channels["lounge"]
    authors = [community.users[n] for n in ("alice", "bob", "carol")]
    count = 60
    seed_plain(store, lounge, authors, count, "old")
    overrides = {"homeserver.address": synapse.url, **sandbox_guild.bridge_overrides()}
    args = ("import", "--guild", str(community.guild_id), "--channel", str(lounge))
    first = start_bridge(overrides, args)

    async def some_arrived() -> str | None:
        # By the channel's own alias: rooms of earlier tests' guilds have the same name.
        try:
            room = await bot_view.api.resolve_room_alias(RoomAlias(f"#discord_{lounge}:{SERVER}"))
            bodies = await bot_view.timeline(room.room_id, types=["m.room.message"])
        except (MNotFound, MForbidden):  # no room yet, or its creation not finished
            return None
        return room.room_id if len(bodies) >= 8 else None

    room = await eventually(some_arrived, "part of the history", timeout=60)
    first.process.send_signal(signal.SIGKILL)
    await first.wait_exit()
    at_kill = len(await bot_view.timeline(room, types=["m.room.message"]))
    assert at_kill < count, "the import finished before the kill: nothing was resumed"
    second = start_bridge(overrides, args)
    assert await second.wait_exit(timeout=120) == 0, second.output
    bodies = [e["content"]["body"] for e in await bot_view.timeline(room, types=["m.room.message"])]
    assert bodies == [f"old {i}" for i in range(count)]
    await asyncio.sleep(0)


async def test_dry_run_counts_and_changes_nothing(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bridge.importer.command import dry_run

    seed(sandbox_guild.emulator.store, community)
    config = make_bridge_config()
    lounge = community.channels["lounge"]
    assert await dry_run(config, ImportRequest(community.guild_id, [lounge])) == 0
    out = capsys.readouterr().out
    # 6 in the channel, and in the thread its starter (type 21) and one reply.
    assert "#lounge: 8 messages, 1 threads, 1 attachments" in out
    assert "2 reactions" in out
    assert "under a minute at 20 events/s" in out


async def test_live_messages_during_an_import_follow_the_history(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
) -> None:
    store, lounge = sandbox_guild.emulator.store, community.channels["lounge"]
    alice = community.users["alice"]
    seed_plain(store, lounge, [alice], 15, "past")
    holder: list[ImportRun] = []

    async def queue_then_talk() -> None:
        await holder[0].queue_channels()
        # Said on Discord while the history is still to be imported.
        store.create_message(lounge, alice, "said during the import")

    bridge = Bridge(make_bridge_config(), before_connect=queue_then_talk)
    run = ImportRun(ImportRequest(community.guild_id, [lounge]), bridge)
    holder.append(run)
    await bridge.start()
    try:
        await asyncio.gather(*run.done)
        await bridge.relay.queues.idle()
        room = (await bridge.database.tables.portals.get(lounge)).room_id
        bodies = [
            e["content"]["body"] for e in await bot_view.timeline(room, types=["m.room.message"])
        ]
    finally:
        await bridge.stop()
    assert bodies == [f"past {i}" for i in range(15)] + ["said during the import"]


async def test_a_room_with_live_messages_is_refused_then_replaced_on_request(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store, lounge = sandbox_guild.emulator.store, community.channels["lounge"]
    alice = community.users["alice"]
    seed_plain(store, lounge, [alice], 3, "past")
    bridge = Bridge(make_bridge_config())
    await bridge.start()
    try:
        await bridge.guilds.bridge_guild(community.guild_id)
        old_room = (await bridge.database.tables.portals.get(lounge)).room_id
        live = store.create_message(lounge, alice, "live before the import")

        async def mapped() -> bool | None:
            return True if await bridge.database.tables.message_parts_of(live.id) else None

        await eventually(mapped, "the live message")
    finally:
        await bridge.stop()

    assert await run_import(make_bridge_config(), ImportRequest(community.guild_id, [lounge])) == 1
    out = capsys.readouterr().out
    assert "live bridged message parts" in out and "--replace-rooms" in out

    request = ImportRequest(community.guild_id, [lounge], replace_rooms=True)
    assert await run_import(make_bridge_config(), request) == 0
    from bridge.db.connect import open_database
    from bridge.db.url import resolve_database_url

    config = make_bridge_config()
    database = await open_database(
        resolve_database_url(config["appservice.database.url"], config.directory)
    )
    try:
        new_room = (await database.tables.portals.get(lounge)).room_id
    finally:
        await database.close()
    assert new_room != old_room
    tombstone = await bot_view.state_event(old_room, "m.room.tombstone")
    assert tombstone["replacement_room"] == new_room
    create = await bot_view.state_event(new_room, "m.room.create")
    assert create["predecessor"]["room_id"] == old_room
    bodies = [
        e["content"]["body"] for e in await bot_view.timeline(new_room, types=["m.room.message"])
    ]
    assert bodies == ["past 0", "past 1", "past 2", "live before the import"]

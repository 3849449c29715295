"""A history import that dies between sending and recording doubles nothing when resumed.

The engine runs against a real SQLite database and a homeserver stand-in that deduplicates
by (sender, transaction id) as a homeserver does: what the room holds is checked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bridge.actions.d2m.routing import Destination
from bridge.actions.d2m.services import RelayOptions, RelayServices
from bridge.convert.message_model import MessageSnapshot
from bridge.convert.model import UserSnapshot
from bridge.db.connect import OpenDatabase, open_database
from bridge.db.rows import ImportCheckpointRow
from bridge.db.url import resolve_database_url
from bridge.importer.engine import ChannelReport, import_stream
from bridge.importer.model import ImportedReaction, ImportItem
from bridge.importer.progress import Progress

CHANNEL, ROOM = 10, "!room:example.org"


class Room:
    """The room's timeline; a transaction id sent again by the same sender is the same event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []  # (sender, content)
        self.by_txn: dict[tuple[str, str], str] = {}


class Ghost:
    def __init__(self, room: Room, mxid: str) -> None:
        self.room, self.mxid = room, mxid

    async def send_message_event(
        self, room_id: str, event_type: Any, content: dict, txn_id: str, timestamp: int
    ) -> str:
        key = (self.mxid, txn_id)
        if key not in self.room.by_txn:
            self.room.events.append((self.mxid, content))
            self.room.by_txn[key] = f"$e{len(self.room.events)}"
        return self.room.by_txn[key]


class Ghosts:
    def __init__(self, room: Room) -> None:
        self.room = room

    async def ensure(self, user: UserSnapshot, *, ghost_id: str | None = None) -> Ghost:
        return Ghost(self.room, f"@_discord_{user.id}:example.org")

    async def join(self, intent: Ghost, room_id: str, **_: Any) -> None:
        return None

    def is_ghost(self, mxid: str) -> bool:
        return True


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[OpenDatabase]:
    opened = await open_database(resolve_database_url(f"sqlite:{tmp_path}/b.db", tmp_path))
    yield opened
    await opened.close()


def relay(database: OpenDatabase, room: Room) -> RelayServices:
    return RelayServices(
        bot=SimpleNamespace(mxid="@bot:example.org"),  # type: ignore[arg-type]
        tables=database.tables,
        puppets=Ghosts(room),  # type: ignore[arg-type]
        media=None,  # type: ignore[arg-type]
        guilds=None,  # type: ignore[arg-type]
        discord=SimpleNamespace(get_guild=lambda _: None, get_channel=lambda _: None),  # type: ignore[arg-type]
        options=RelayOptions(cdn_url="https://cdn.example", domain="example.org"),
    )


ALICE, BOB = UserSnapshot(1, "alice"), UserSnapshot(2, "bob")


def history(count: int) -> list[ImportItem]:
    thumbs = (ImportedReaction("👍", users=(ALICE, BOB)),)
    return [
        ImportItem(
            MessageSnapshot(
                id=1000 + n,
                channel_id=CHANNEL,
                author=ALICE,
                ghost_id="1",
                timestamp_ms=n,
                content=f"message {n}" + (" <#10>" if n % 4 == 0 else ""),
            ),
            thumbs if n % 3 == 0 else (),
        )
        for n in range(count)
    ]


async def stream(items: Iterable[ImportItem]) -> AsyncIterator[ImportItem]:
    for item in items:
        yield item


async def run(services: RelayServices, items: list[ImportItem]) -> None:
    progress = Progress()
    progress.channel(CHANNEL, "#general")
    await import_stream(
        services,
        CHANNEL,
        stream(items),
        {CHANNEL: Destination(CHANNEL, ROOM, None)},
        progress,
        ChannelReport("general"),
    )


@pytest.mark.parametrize("fail_on", ["message_parts", "reactions"])
async def test_a_crash_between_send_and_record_doubles_nothing_on_resume(
    database: OpenDatabase, monkeypatch: pytest.MonkeyPatch, fail_on: str
) -> None:
    room = Room()
    services = relay(database, room)
    await database.tables.import_checkpoints.upsert(ImportCheckpointRow(CHANNEL))
    items = history(50)
    # The process "dies" recording the 31st message's parts, or the 34th's second reaction:
    # sent, not recorded, and past the checkpoint written at the 20th.
    table = getattr(database.tables, fail_on)
    calls = {"n": 0}
    real_upsert, real_upsert_many = table.upsert, table.upsert_many

    async def dying(rows: Any) -> None:
        calls["n"] += 1
        if calls["n"] == (31 if fail_on == "message_parts" else 24):
            raise RuntimeError("killed")
        await (real_upsert_many if isinstance(rows, list) else real_upsert)(rows)

    monkeypatch.setattr(table, "upsert_many" if fail_on == "message_parts" else "upsert", dying)
    with pytest.raises(RuntimeError, match="killed"):
        await run(services, items)
    monkeypatch.undo()
    checkpoint = await database.tables.import_checkpoints.get(CHANNEL)
    assert checkpoint is not None and not checkpoint.finished
    assert checkpoint.last_message_id is not None and checkpoint.last_message_id < 1030

    await run(relay(database, room), items)  # resumed

    texts = [c["body"] for _, c in room.events if "body" in c]
    # A mention of a channel not bridged reads "#unknown" (the mention lookup ran).
    assert texts == [item.message.content.replace("<#10>", "#unknown") for item in items]
    reactions = [
        (sender, c["m.relates_to"]["event_id"]) for sender, c in room.events if "body" not in c
    ]
    assert len(reactions) == len(set(reactions)) == 2 * len([i for i in items if i.reactions])
    for item in items:
        parts = await database.tables.message_parts_of(item.message.id)
        assert [p.event_id for p in parts] == [
            room.by_txn[("@_discord_1:example.org", f"dc_{item.message.id}_0")]
        ]
    recorded = await database.tables.reactions.find("")
    assert len(recorded) == len(reactions)
    finished = await database.tables.import_checkpoints.get(CHANNEL)
    assert finished is not None and finished.finished and finished.last_message_id == 1049

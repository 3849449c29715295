"""Catching up inside the recent window (issue 17 §5): edits, deletions and reactions made
while the bridge was down are relayed once, inside the configured window only; a message sent
to Matrix but not recorded (killed in between), then deleted on Discord, is redacted at the
restart; one still on Discord is recorded again, not doubled. Fetching pages through the
history and the window's floor are checked without a bridge.

Each case counts sent → lost / doubled, all zeros.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bridge.actions.d2m.catch_up_fetch import fetch_after, fetch_recent
from tests.fixtures.community import eventually, ghost
from tests.reliability.shared import Restarts, from_matrix_on_discord, human_in

pytestmark = pytest.mark.slow


async def test_edits_deletions_and_reactions_made_while_down_are_relayed_once(
    restarts: Restarts, make_matrix_user: Callable[..., Awaitable[Any]]
) -> None:
    """§5: while the bridge is down, a message is edited, one deleted, a reaction removed, one
    added, a Matrix message deleted on Discord: after the restart each is relayed once, and a
    new session after it relays none of them again."""
    await restarts.start()
    store, lounge, users = restarts.store, restarts.channel_id, restarts.community.users
    ids = [restarts.post("alice", f"message {n}") for n in range(4)]
    await restarts.all_arrive([f"message {n}" for n in range(4)])
    events = [await restarts.event_of(i) for i in ids]
    store.add_reaction(lounge, ids[0], users["carol"], "👍")

    async def carols_reaction() -> str | None:
        found = await restarts.relations(events[0], "m.reaction")
        return found[0]["event_id"] if found else None

    carol_reaction = await eventually(carols_reaction, "carol's reaction")
    marie = await human_in(restarts, make_matrix_user)
    matrix_event = await marie.send(restarts.room, {"msgtype": "m.text", "body": "from matrix"})
    on_discord = await from_matrix_on_discord(restarts, "from matrix")
    await restarts.stop()

    store.edit_message(lounge, ids[1], content="message 1, edited")
    store.delete_message(lounge, ids[2])
    store.remove_reaction(lounge, ids[0], users["carol"], "👍")
    store.add_reaction(lounge, ids[3], users["bob"], "🎉")
    store.delete_message(lounge, on_discord)

    bridge = await restarts.start()

    async def all_relayed() -> bool | None:
        edits = await restarts.relations(events[1], "m.room.message")
        return (
            True
            if edits
            and await restarts.redacted(events[2])
            and await restarts.redacted(carol_reaction)
            and await restarts.redacted(matrix_event)
            and await restarts.relations(events[3], "m.reaction")
            else None
        )

    await eventually(all_relayed, "the edit, deletions and reactions made while down", 30)
    await restarts.idle_after_new_session()  # a second look finds nothing more to do

    edits = await restarts.relations(events[1], "m.room.message")
    assert len(edits) == 1
    assert edits[0]["content"]["m.new_content"]["body"] == "message 1, edited"
    (tada,) = await restarts.relations(events[3], "m.reaction")
    assert tada["sender"] == ghost(users["bob"]) and tada["content"]["m.relates_to"]["key"] == "🎉"
    assert await restarts.relations(events[0], "m.reaction") == []
    assert not await restarts.redacted(events[0]) and not await restarts.redacted(events[3])
    assert bridge.database is not None
    assert await bridge.database.tables.message_parts_of(ids[2]) == []
    assert await bridge.database.tables.message_parts_of(on_discord) == []


async def test_the_window_setting_is_respected_and_older_messages_are_untouched(
    restarts: Restarts,
) -> None:
    """§5: with a window of the last 3 messages, an edit and a deletion of older messages
    (outside it) are left alone while those inside are relayed; a window of 0 relays none."""
    await restarts.start()
    store, lounge = restarts.store, restarts.channel_id
    ids = [restarts.post("alice", f"message {n}") for n in range(6)]
    await restarts.all_arrive([f"message {n}" for n in range(6)])
    events = [await restarts.event_of(i) for i in ids]
    await restarts.stop()

    store.delete_message(lounge, ids[0])  # outside: the window is message 3, 4 (gone), 5
    store.edit_message(lounge, ids[1], content="message 1, edited")  # outside
    store.delete_message(lounge, ids[4])  # inside
    store.edit_message(lounge, ids[5], content="message 5, edited")  # inside
    bridge = await restarts.start({"bridge.catch_up.window_messages": 3})

    async def inside_relayed() -> bool | None:
        edited = await restarts.relations(events[5], "m.room.message")
        return True if edited and await restarts.redacted(events[4]) else None

    await eventually(inside_relayed, "the edit and deletion inside the window", 30)
    assert bridge.relay is not None
    await asyncio.wait_for(bridge.relay.queues.idle(), 30)
    assert not await restarts.redacted(events[0])
    assert await restarts.relations(events[1], "m.room.message") == []
    assert bridge.database is not None
    assert await bridge.database.tables.message_parts_of(ids[0]) != []
    await restarts.stop()

    store.edit_message(lounge, ids[5], content="message 5, edited again")
    store.delete_message(lounge, ids[3])
    bridge = await restarts.start({"bridge.catch_up.window_messages": 0})
    assert bridge.relay is not None
    await asyncio.wait_for(bridge.relay.queues.idle(), 30)
    assert len(await restarts.relations(events[5], "m.room.message")) == 1
    assert not await restarts.redacted(events[3])


async def test_a_message_sent_but_not_recorded_then_deleted_on_discord_is_redacted(
    restarts: Restarts,
    make_matrix_user: Callable[..., Awaitable[Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two Discord messages reach the room but their ``message_part`` rows are lost (a kill
    between send and record: the rows deleted while the bridge is stopped), then a Matrix
    user's message. One of the two is deleted on Discord before the restart: its event is
    redacted; the other, still there, is recorded again (same event), not doubled; Marie's
    message and the recorded messages before them are untouched."""
    await restarts.start()
    store, lounge = restarts.store, restarts.channel_id
    bodies = ["anchor", "orphan gone", "orphan kept"]
    ids = []
    for body in bodies:  # each in its own ms: an orphan is told from a message by its ms
        ids.append(restarts.post("alice", body))
        await asyncio.sleep(0.005)
    await restarts.all_arrive(bodies)
    events = [await restarts.event_of(i) for i in ids]
    marie = await human_in(restarts, make_matrix_user)
    maries = await marie.send(restarts.room, {"msgtype": "m.text", "body": "from marie"})
    await from_matrix_on_discord(restarts, "from marie")
    assert restarts.bridge is not None
    database = Path(str(restarts.bridge.config["appservice.database.url"]).split(":", 1)[1])
    await restarts.stop()

    with sqlite3.connect(database) as connection:  # as if killed between send and record
        connection.execute(
            "DELETE FROM message_part WHERE discord_message_id IN (?, ?)", (ids[1], ids[2])
        )
    store.delete_message(lounge, ids[1])
    caplog.set_level(logging.INFO, logger="bridge.relay.catch_up")
    bridge = await restarts.start()

    async def gone_redacted() -> bool | None:
        return True if await restarts.redacted(events[1]) else None

    await eventually(gone_redacted, "the unrecorded copy of the deleted message redacted", 30)
    assert bridge.relay is not None
    await asyncio.wait_for(bridge.relay.queues.idle(), 30)
    seen = await restarts.bodies()
    assert seen["orphan kept"] == 1 and seen["anchor"] == 1 and seen["from marie"] == 1
    assert seen["orphan gone"] == 0
    assert not await restarts.redacted(events[2])
    assert not await restarts.redacted(events[0])
    assert not await restarts.redacted(maries)
    assert bridge.database is not None
    (kept,) = await bridge.database.tables.message_parts_of(ids[2])
    assert kept.event_id == events[2]  # recorded again: the homeserver's same event
    assert await bridge.database.tables.message_parts_of(ids[1]) == []
    redacted_logs = [r.getMessage() for r in caplog.records if "not recorded" in r.getMessage()]
    assert len(redacted_logs) == 1 and events[1] in redacted_logs[0]


class FakeHistory:
    """Discord's ``GET /channels/{id}/messages`` over ids 1000…1249, newest first as Discord
    answers; message 1100 cannot be parsed. Counts the requests."""

    def __init__(self) -> None:
        self.ids = list(range(1000, 1250))
        self.requests = 0

    async def logs_from(
        self, channel_id: int, limit: int, before: int | None = None, after: int | None = None
    ) -> list[dict[str, Any]]:
        self.requests += 1
        ids = [
            i for i in self.ids if (before is None or i < before) and (after is None or i > after)
        ]
        ids = ids[:limit] if after is not None else ids[-limit:]
        return [{"id": str(i)} for i in reversed(ids)]

    def create_message(self, *, channel: Any, data: dict[str, Any]) -> Any:
        if data["id"] == "1100":
            raise TypeError("'NoneType' object is not subscriptable")
        return SimpleNamespace(id=int(data["id"]))


def fake_services(history: FakeHistory) -> tuple[Any, Any]:
    failures: list[str] = []
    services = SimpleNamespace(
        discord=SimpleNamespace(http=history, get_channel=lambda _id: None),
        stats=SimpleNamespace(failed=lambda _guild, text, **_: failures.append(text)),
        failures=failures,
    )
    channel = SimpleNamespace(id=1, _state=history, guild=None)
    return services, channel


async def test_fetching_pages_through_the_history_and_skips_what_cannot_be_read() -> None:
    """After an id: every later message, oldest first, 100 per request, the unreadable one
    counted and skipped."""
    history = FakeHistory()
    services, channel = fake_services(history)
    got = [m.id async for m in fetch_after(services, channel, 1049)]
    assert got == [i for i in range(1050, 1250) if i != 1100]
    assert history.requests == 3  # 100 + 100 + an empty page
    assert len(services.failures) == 1 and "1100" in services.failures[0]


@pytest.mark.parametrize(
    ("limit", "since", "count", "floor"),
    [
        (120, 0, 120, 1130),  # the limit reached: complete only from the oldest fetched
        (300, 0, 249, 0),  # the whole channel (one message unreadable): complete from since
        (300, 1200, 50, 1200),  # the time reached first: complete from since
    ],
)
async def test_the_window_is_complete_from_its_floor(
    limit: int, since: int, count: int, floor: int
) -> None:
    history = FakeHistory()
    services, channel = fake_services(history)
    recent = await fetch_recent(services, channel, limit, since)
    assert len(recent.messages) == count
    assert recent.floor == floor
    assert [m.id for m in recent.messages] == sorted(m.id for m in recent.messages)
    assert recent.present == {i for i in history.ids if i >= floor}  # 1100 too: not gone
    assert 1100 not in {m.id for m in recent.messages}
    assert history.requests <= -(-limit // 100)

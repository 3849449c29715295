"""Catching up (issue 17 §2, §3, §5, §10): what Discord said while the bridge was not listening
arrives once, in order, after a restart or a new gateway session.

- §2: catch-up starts from the newest message that came *from* Discord, never from a newer
  webhook message that carried a Matrix message;
- §3: a non-resumable INVALID_SESSION, or an expired session, during a burst: what was sent
  until the new READY is fetched, live messages wait behind it, nothing doubled;
- §10: an odd fetched message (``"thread": null``, no author) never stops a channel's catch-up;
- §5: edits, deletions and reactions made while the bridge was down are relayed once, inside
  the configured window only;
- a message sent to Matrix but not recorded (killed in between), then deleted on Discord, is
  redacted at the restart; one still on Discord is recorded again, not doubled.

Each case counts sent → lost / doubled, all zeros.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio

from bridge.actions.d2m.catch_up_fetch import fetch_after, fetch_recent
from bridge.app import Bridge
from bridge.sandbox.discord.gateway import get_hub
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import Community, eventually, ghost, room_of
from tests.fixtures.discord import SandboxGuild
from tests.fixtures.inprocess import MakeConfig

pytestmark = pytest.mark.slow


class Restarts:
    """The bridge (in this process) on the test guild, started and stopped at will."""

    def __init__(
        self,
        make_config: MakeConfig,
        community: Community,
        sandbox: SandboxGuild,
        viewer: MatrixTestClient,
    ) -> None:
        self.make_config, self.community, self.viewer = make_config, community, viewer
        self.store = sandbox.emulator.store
        self.hub = get_hub(sandbox.emulator.app)
        self.channel_id = community.channels["lounge"]
        self.bridge: Bridge | None = None
        self.room = ""

    async def start(
        self,
        overrides: dict[str, object] | None = None,
        prepare: Callable[[Bridge], None] | None = None,
    ) -> Bridge:
        """Start the bridge; ``prepare`` sees it before it starts."""
        config = self.make_config(
            {"bridge.guilds": f"[{self.community.guild_id}]", **(overrides or {})}
        )
        self.bridge = Bridge(config)
        if prepare is not None:
            prepare(self.bridge)
        await self.bridge.start()
        self.room = await room_of(self.bridge, self.channel_id)
        return self.bridge

    async def stop(self) -> None:
        if self.bridge is not None:
            bridge, self.bridge = self.bridge, None
            await bridge.stop()

    def post(self, who: str, text: str) -> int:
        return self.store.create_message(self.channel_id, self.community.users[who], text).id

    async def bodies(self) -> Counter[str]:
        """How many times each body shows in the room (edits and redacted events aside)."""
        events = await self.viewer.timeline(self.room, types=["m.room.message"])
        return Counter(
            e["content"]["body"]
            for e in events
            if "body" in e.get("content", {})
            and e["content"].get("m.relates_to", {}).get("rel_type") != "m.replace"
        )

    async def order(self, wanted: list[str]) -> list[str]:
        events = await self.viewer.timeline(self.room, types=["m.room.message"])
        return [e["content"]["body"] for e in events if e["content"].get("body") in wanted]

    async def all_arrive(self, wanted: list[str], timeout: float = 30) -> Counter[str]:
        async def arrived() -> Counter[str] | None:
            seen = await self.bodies()
            return seen if all(seen[body] for body in wanted) else None

        try:
            return await eventually(arrived, f"{len(wanted)} messages", timeout=timeout)
        except (AssertionError, TimeoutError):
            seen = await self.bodies()
            lost = [body for body in wanted if not seen[body]]
            pytest.fail(f"sent {len(wanted)} → lost {len(lost)}: {lost}")

    async def event_of(self, message_id: int) -> str:
        async def mapped() -> str | None:
            assert self.bridge is not None and self.bridge.database is not None
            parts = await self.bridge.database.tables.message_parts_of(message_id)
            return parts[0].event_id if parts else None

        return await eventually(mapped, f"the event of Discord message {message_id}")

    async def redacted(self, event_id: str) -> bool:
        event = await self.viewer.event(self.room, event_id)
        return "redacted_because" in event.get("unsigned", {})

    async def relations(self, event_id: str, event_type: str) -> list[dict[str, Any]]:
        """Live (unredacted) events of a type relating to ``event_id``."""
        events = await self.viewer.timeline(self.room, types=[event_type])
        return [
            e
            for e in events
            if e.get("content", {}).get("m.relates_to", {}).get("event_id") == event_id
            and "redacted_because" not in e.get("unsigned", {})
        ]

    async def idle_after_new_session(self) -> None:
        """Force a new session (non-resumable INVALID_SESSION) and wait for its catch-up."""
        assert self.bridge is not None and self.bridge.catch_up is not None
        assert self.bridge.relay is not None
        before = self.bridge.catch_up.sessions_caught_up
        self.hub.invalidate_sessions(resumable=False)
        catch_up = self.bridge.catch_up

        async def new_session() -> bool | None:
            return True if catch_up.sessions_caught_up > before else None

        await eventually(new_session, "a new gateway session")
        await asyncio.wait_for(self.bridge.relay.queues.idle(), 30)


@pytest_asyncio.fixture(loop_scope="session")
async def restarts(
    make_bridge_config: MakeConfig,
    community: Community,
    sandbox_guild: SandboxGuild,
    bot_view: MatrixTestClient,
) -> AsyncIterator[Restarts]:
    control = Restarts(make_bridge_config, community, sandbox_guild, bot_view)
    try:
        yield control
    finally:
        control.hub.set_dispatch_delay(0)
        await control.stop()


async def human_in(restarts: Restarts, make_matrix_user: Callable[..., Awaitable[Any]]) -> Any:
    """Marie, a Matrix user, in the lounge's room."""
    assert restarts.bridge is not None and restarts.bridge.guilds is not None
    space = (await restarts.bridge.guilds.bridge_guild(restarts.community.guild_id)).space_room_id
    marie = await make_matrix_user(displayname="Marie")
    await marie.join(space)
    await marie.join(restarts.room)
    return marie


async def from_matrix_on_discord(restarts: Restarts, body: str) -> int:
    """The Discord message a Matrix message became, once recorded by the bridge."""

    async def recorded() -> int | None:
        assert restarts.bridge is not None and restarts.bridge.database is not None
        rows = await restarts.bridge.database.tables.message_parts.find(
            "channel_id = $1 AND kind LIKE 'matrix:%'", restarts.channel_id
        )
        for row in rows:
            message = restarts.store.messages.get(row.discord_message_id)
            if message is not None and message.content == body:
                return row.discord_message_id
        return None

    return await eventually(recorded, f"{body!r} on Discord, recorded")


async def test_catch_up_starts_after_the_newest_discord_message_not_a_matrix_one(
    restarts: Restarts, make_matrix_user: Callable[..., Awaitable[Any]]
) -> None:
    """§2: gateway delayed, 5 Discord messages, then a Matrix message (newer, on Discord
    through the webhook), the bridge stopped: after the restart 5/5 arrive, in order, once."""
    await restarts.start()
    restarts.post("alice", "before")
    await restarts.all_arrive(["before"])
    marie = await human_in(restarts, make_matrix_user)
    restarts.hub.set_dispatch_delay(60)  # nothing reaches the bridge over the gateway
    missed = [f"missed {n}" for n in range(5)]
    for body in missed:
        restarts.post("bob", body)
    await marie.send(restarts.room, {"msgtype": "m.text", "body": "from matrix"})
    await from_matrix_on_discord(restarts, "from matrix")
    assert (await restarts.bodies())["missed 0"] == 0  # not relayed before the stop
    await restarts.stop()
    restarts.hub.set_dispatch_delay(0)

    await restarts.start()
    seen = await restarts.all_arrive(missed)
    assert [seen[body] for body in missed] == [1] * 5, f"doubled: {seen}"
    assert await restarts.order(missed) == missed
    assert seen["from matrix"] == 1  # Marie's own, never echoed by a ghost


@pytest.mark.parametrize("fault", ["invalid-session", "expired-session"])
async def test_a_new_session_during_a_burst_loses_nothing(restarts: Restarts, fault: str) -> None:
    """§3: a burst of 40 messages; after the 10th the session ends for good (a non-resumable
    INVALID_SESSION, or the connection dropped and the session expired, so the RESUME is
    refused); 20 are sent before the new READY (discord.py waits 5 s before identifying
    again), 10 right after it, live. All 40 arrive once, in order."""
    bridge = await restarts.start()
    restarts.post("alice", "warm up")
    await restarts.all_arrive(["warm up"])
    identified = restarts.hub.identify_count
    burst = [f"burst {n:02d}" for n in range(40)]
    authors = ("alice", "bob", "carol")

    async def send(bodies: range) -> None:
        for n in bodies:
            restarts.post(authors[n % 3], burst[n])
            await asyncio.sleep(0.05)

    await send(range(10))
    if fault == "invalid-session":
        assert restarts.hub.invalidate_sessions(resumable=False) == 1
    else:
        assert await restarts.hub.drop_connections(expire=True) == 1
    await send(range(10, 30))

    async def identified_again() -> bool | None:
        return True if restarts.hub.identify_count > identified else None

    await eventually(identified_again, "a new session (IDENTIFY)", timeout=30)
    await send(range(30, 40))
    seen = await restarts.all_arrive(burst, timeout=45)
    doubled = [body for body in burst if seen[body] > 1]
    assert not doubled, f"sent {len(burst)} → doubled {len(doubled)}: {doubled}"
    assert await restarts.order(burst) == burst
    assert bridge.catch_up is not None and bridge.catch_up.sessions_caught_up == 1


async def test_an_odd_fetched_message_never_stops_the_catch_up(
    restarts: Restarts, caplog: pytest.LogCaptureFixture
) -> None:
    """§10: among the messages fetched at a restart, one with ``"thread": null`` (discord.py
    cannot parse it) and one without an author (no repair can help): the first arrives
    repaired, the second is logged and skipped, the others all arrive."""
    await restarts.start()
    restarts.post("alice", "first")
    await restarts.all_arrive(["first"])
    await restarts.stop()
    bodies = ["one", "thread null", "no author", "two", "three"]
    ids = {body: restarts.post("carol", body) for body in bodies}

    def odd_pages(bridge: Bridge) -> None:
        """Discord's answers to the bridge, with the two odd messages."""
        http = bridge.discord.http
        original = http.logs_from

        async def logs_from(*args: Any, **kwargs: Any) -> Any:
            page = await original(*args, **kwargs)
            for raw in page:
                if int(raw["id"]) == ids["thread null"]:
                    raw["thread"] = None
                if int(raw["id"]) == ids["no author"]:
                    raw["author"] = None
            return page

        http.logs_from = logs_from  # type: ignore[method-assign]

    caplog.set_level(logging.WARNING, logger="bridge.relay.catch_up")
    await restarts.start(prepare=odd_pages)
    wanted = ["one", "thread null", "two", "three"]
    seen = await restarts.all_arrive(wanted)
    assert [seen[body] for body in wanted] == [1] * 4
    assert await restarts.order(wanted) == wanted
    assert seen["no author"] == 0
    assert any(
        "skipped unreadable message" in r.getMessage() and str(ids["no author"]) in r.getMessage()
        for r in caplog.records
    )


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

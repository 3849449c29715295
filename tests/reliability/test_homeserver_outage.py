"""A homeserver that stops answering (issue 17 §6): Discord messages wait for it, then arrive.

The bridge reaches Synapse through a loopback TCP gate that the test closes (connection
refused, open connections cut) and opens again; Synapse itself keeps running and keeps pushing
to the bridge. Messages posted in two channels while the gate is closed must all arrive
afterwards, in order, once each; the log tells the wait; a bridge stopped while it waits stops
at once, and the message it held arrives after the restart (catch-up).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from yarl import URL

from bridge.app import Bridge
from bridge.sandbox.homeserver import LocalSynapse
from bridge.sandbox.matrix_client import MatrixTestClient
from tests.fixtures.community import Community, eventually, room_of
from tests.fixtures.inprocess import MakeConfig

pytestmark = pytest.mark.slow

PER_CHANNEL = 8  # messages posted in each of two channels while the homeserver is away
RETRIES_SEEN = 6  # retries (all channels) before the gate opens again: several rounds each


class Gate:
    """A loopback TCP proxy in front of the homeserver that can be closed and opened again
    on the same port (closed: connections refused, those open are cut)."""

    def __init__(self, target: URL) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            await self._server.wait_closed()
            self._server = None

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target.host, self.target.port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
        self._writers -= {writer, up_writer}


class Lines(logging.Handler):
    """The log lines of one logger, kept for the test to read."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
async def gate(synapse: LocalSynapse) -> AsyncIterator[Gate]:
    gate = Gate(URL(synapse.url))
    await gate.open()
    try:
        yield gate
    finally:
        await gate.close()


@pytest.fixture
def homeserver_log() -> AsyncIterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("bridge.matrix.homeserver")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)  # in process, no dictConfig: the root logger's WARNING
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def gated_config(make_bridge_config: MakeConfig, gate: Gate) -> Any:
    return make_bridge_config({"homeserver.address": gate.url, "homeserver.max_retry_wait": 1})


async def start(make_bridge_config: MakeConfig, gate: Gate, community: Community) -> Bridge:
    bridge = Bridge(gated_config(make_bridge_config, gate))
    await bridge.start()
    assert bridge.guilds is not None
    await bridge.guilds.bridge_guild(community.guild_id)
    return bridge


async def bodies(viewer: MatrixTestClient, room: str) -> list[str]:
    events = await viewer.timeline(room, types=["m.room.message"])
    return [e["content"].get("body", "") for e in events]


async def mapped(bridge: Bridge, message_id: int) -> bool | None:
    assert bridge.database is not None
    return True if await bridge.database.tables.message_parts_of(message_id) else None


async def test_messages_posted_while_the_homeserver_is_away_arrive_in_order_once(
    make_bridge_config: MakeConfig,
    gate: Gate,
    community: Community,
    sandbox_guild: Any,
    bot_view: MatrixTestClient,
    homeserver_log: Lines,
) -> None:
    store = sandbox_guild.emulator.store
    channels = [community.channels["lounge"], community.channels["general"]]
    bridge = await start(make_bridge_config, gate, community)
    try:
        rooms = [await room_of(bridge, channel) for channel in channels]
        posted: dict[int, list[str]] = {channel: [] for channel in channels}
        for channel in channels:
            message = store.create_message(channel, community.users["alice"], f"before {channel}")
            posted[channel].append(message.content)
            await eventually(lambda m=message: mapped(bridge, m.id), "a message before")

        await gate.close()
        ids = []
        for n in range(PER_CHANNEL):
            for channel in channels:
                # carol speaks for the first time while the homeserver is away: her ghost too
                author = community.users["carol" if n == 3 else "bob"]
                message = store.create_message(channel, author, f"away {n} in {channel}")
                posted[channel].append(message.content)
                ids.append(message.id)
            await asyncio.sleep(0.1)
        policy = bridge.appservice.homeserver_wait  # type: ignore[union-attr]

        async def waited() -> bool | None:
            # Bob's new ghost is made once: the other channel waits for it behind a lock.
            return True if policy.waiting >= 1 and policy.retries >= RETRIES_SEEN else None

        await eventually(waited, "sends waiting and retrying", timeout=60)
        assert not any([await mapped(bridge, i) for i in ids])  # nothing got through meanwhile
        await gate.open()

        for message_id in ids:
            await eventually(lambda i=message_id: mapped(bridge, i), "every message", timeout=60)
        for channel, room in zip(channels, rooms, strict=True):
            assert await bodies(bot_view, room) == posted[channel]  # in order, none doubled
        assert policy.waiting == 0
        assert bridge.metrics.homeserver_waiting._value.get() == 0
        assert bridge.metrics.homeserver_retries._value.get() >= RETRIES_SEEN
        lines = homeserver_log.lines
        assert sum(line.startswith("The homeserver is unreachable") for line in lines) == 1
        assert any(line.startswith("The homeserver answers again") for line in lines)
    finally:
        await bridge.stop()


async def test_a_bridge_stopped_while_waiting_stops_and_sends_the_message_after_restart(
    make_bridge_config: MakeConfig,
    gate: Gate,
    community: Community,
    sandbox_guild: Any,
    bot_view: MatrixTestClient,
    homeserver_log: Lines,
) -> None:
    store = sandbox_guild.emulator.store
    channel = community.channels["lounge"]
    bridge = await start(make_bridge_config, gate, community)
    try:
        room = await room_of(bridge, channel)
        first = store.create_message(channel, community.users["alice"], "first")
        await eventually(lambda: mapped(bridge, first.id), "the first message")
        await gate.close()
        held = store.create_message(channel, community.users["alice"], "held")
        policy = bridge.appservice.homeserver_wait  # type: ignore[union-attr]

        async def waiting() -> bool | None:
            return True if policy.waiting == 1 else None

        await eventually(waiting, "the send waiting for the homeserver", timeout=30)
        await asyncio.wait_for(bridge.stop(), 30)  # stops although the homeserver is away
    finally:
        await bridge.stop()
    await gate.open()

    bridge = await start(make_bridge_config, gate, community)
    try:
        await eventually(lambda: mapped(bridge, held.id), "the held message, by catch-up")
        assert await bodies(bot_view, room) == ["first", "held"]  # once, in order
    finally:
        await bridge.stop()

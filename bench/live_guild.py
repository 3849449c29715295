"""A live bridged guild for the live benches: emulator, stub homeserver and the running bridge.

``async with live_guild(channels=20, authors=50) as live:`` seeds a new guild in a new Discord
emulator (rate limits off unless asked), starts the stub homeserver and the long-running bridge
pinned to core 0 (``harness.start_bridge``), and gives:
- ``live.rooms`` (channel id → room id), ``live.authors`` (Discord user ids);
- ``live.post(channel, author, text)``: a Discord message (its MESSAGE_CREATE goes out on the
  gateway), when it was created in ``live.posted``;
- ``live.join_matrix_user()`` / ``live.send_matrix(room, text)``: a local Matrix user
  (``@bench:sandbox.local``) in every room, its ``m.room.message`` events pushed to the bridge;
- ``live.d2m_arrived()``: body → when its ``m.room.message`` was stored at the stub
  (monotonic s); ``live.m2d_arrived``: content → when its webhook MESSAGE_CREATE was stored in
  the emulator (monotonic s);
- ``live.gateway_backlog()``: dispatches queued in the emulator's gateway, not yet written.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from harness import RunningBridge, bench_setup, start_bridge
from stub_homeserver import StubHomeserver

from bridge.sandbox.discord.events import GatewayEvent
from bridge.sandbox.discord.gateway import get_hub
from bridge.sandbox.discord.ratelimit import RateLimitConfig
from bridge.sandbox.discord.server import DiscordEmulator

MATRIX_USER = "@bench:sandbox.local"


@dataclass
class LiveGuild:
    """See the module's docstring."""

    folder: Path
    emulator: DiscordEmulator
    stub: StubHomeserver
    bridge: RunningBridge
    guild_id: int
    channels: list[int]
    authors: list[int]
    token: str  # the bot's
    posted: dict[str, float] = field(default_factory=dict)  # text → created (monotonic s)
    m2d_arrived: dict[str, float] = field(default_factory=dict)
    _scanned: dict[str, int] = field(default_factory=dict)  # room id → timeline entries read
    _d2m: dict[str, float] = field(default_factory=dict)

    @property
    def rooms(self) -> dict[int, str]:
        return self.bridge.rooms

    def post(self, channel: int, author: int, text: str) -> None:
        """A Discord user's message, created in the emulator now."""
        self.posted[text] = time.monotonic()
        self.emulator.store.create_message(channel, author, text)

    def join_matrix_user(self) -> None:
        """The local Matrix user joins every channel's room (and the guild's space)."""
        for room_id in self.rooms.values():
            self.stub.join_as(room_id, MATRIX_USER)

    def send_matrix(self, room_id: str, text: str) -> str:
        """A Matrix message by the local user; its event id."""
        content = {"msgtype": "m.text", "body": text}
        return str(self.stub.send_as(room_id, MATRIX_USER, content)["event_id"])

    def d2m_arrived(self) -> dict[str, float]:
        """Body → when the stub stored its ``m.room.message`` (by anyone but the local user)."""
        stub = self.stub
        for room_id in self.rooms.values():
            timeline = stub.rooms[room_id].timeline
            start = self._scanned.get(room_id, 0)
            for event in timeline[start:]:
                if event["type"] == "m.room.message" and event["sender"] != MATRIX_USER:
                    body = str(event["content"].get("body", ""))
                    self._d2m.setdefault(body, stub.stored_at[event["event_id"]])
            self._scanned[room_id] = len(timeline)
        return self._d2m

    def _on_discord_event(self, event: GatewayEvent) -> None:
        if event.name == "MESSAGE_CREATE" and event.data.get("webhook_id"):
            self.m2d_arrived.setdefault(str(event.data.get("content", "")), time.monotonic())

    def gateway_backlog(self) -> int:
        """Dispatches queued in the emulator's gateway connections, not yet written."""
        hub = get_hub(self.emulator.app)
        return sum(s.connection.queue.qsize() for s in hub.connected_sessions() if s.connection)

    async def wait_d2m(self, texts: list[str], timeout: float) -> float | None:
        """Wait until every text arrived at the stub; the last arrival (None: some missing
        after ``timeout`` s)."""
        return await self._wait(texts, self.d2m_arrived, timeout)

    async def wait_m2d(self, texts: list[str], timeout: float) -> float | None:
        """Wait until every text arrived in the emulator through the webhook; the last arrival
        (None: some missing after ``timeout`` s)."""
        return await self._wait(texts, lambda: self.m2d_arrived, timeout)

    async def _wait(self, texts: list[str], seen: object, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while True:
            arrived = seen()  # type: ignore[operator]
            if all(t in arrived for t in texts):
                return max((arrived[t] for t in texts), default=time.monotonic())
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def live_guild(
    channels: int = 20,
    authors: int = 50,
    name: str = "bridge",
    profile: str | None = None,
    pin: bool = True,
    discord_limits: bool = False,
    timeout: float = 120,
    prefix: str = "bridge-live-",
    overrides: dict[str, str] | None = None,
) -> AsyncIterator[LiveGuild]:
    """A new guild with ``channels`` text channels and ``authors`` members, bridged live by the
    bridge child (under cProfile into the file named ``profile`` in the bench folder, if given;
    ``overrides``: more
    ``DISCORD_BRIDGE__*`` settings); stopped with SIGINT on exit."""
    folder, port, config, registration = bench_setup(prefix)
    emulator = DiscordEmulator(rate_limits=RateLimitConfig(enabled=discord_limits))
    await emulator.start()
    try:
        store = emulator.store
        bot, _, token = store.create_bot("Live Bridge")
        owner = store.create_user("owner")
        guild = store.create_guild("Live", owner.id, system_channel=False)
        store.add_member(guild.id, bot.id)
        members = [store.create_user(f"author{i}").id for i in range(authors)]
        for member in members:
            store.add_member(guild.id, member, join_message=False)
        ids = [store.create_channel(guild.id, f"channel-{i}").id for i in range(channels)]
        async with StubHomeserver(registration) as stub:
            bridge = await start_bridge(
                folder,
                config,
                port,
                stub.url,
                emulator,
                token,
                guild.id,
                name=name,
                profile=folder / profile if profile else None,
                pin=pin,
                timeout=timeout,
                channels=channels,
                overrides=overrides,
            )
            live = LiveGuild(folder, emulator, stub, bridge, guild.id, ids, members, token)
            unsubscribe = store.events.subscribe(live._on_discord_event)
            try:
                yield live
            finally:
                unsubscribe()
                await bridge.stop()
    finally:
        await emulator.stop()

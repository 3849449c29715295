"""An unmodified discord.py client connected to the emulator's gateway, recording what it gets.

``connected_client`` starts ``Client.start`` against the emulator, waits for ``on_ready`` and
records every dispatched discord.py event and every raw gateway payload, so tests can wait for
an event (bounded) and count deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import discord
import yarl

WAIT = 5.0


class EmulatorUrls(Protocol):
    """A running emulator, or anything with its three URLs (e.g. the standalone runner's)."""

    @property
    def api_url(self) -> str: ...

    @property
    def gateway_url(self) -> str: ...

    @property
    def cdn_url(self) -> str: ...


class RecordingClient(discord.Client):
    """A ``discord.Client`` that keeps every event it dispatches and every gateway payload."""

    def __init__(self, **options: Any) -> None:
        super().__init__(enable_debug_events=True, **options)
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self.payloads: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        if event == "socket_raw_receive":
            self.payloads.append(json.loads(args[0]))
        else:
            self.events.append((event, args))
        self._changed.set()
        super().dispatch(event, *args, **kwargs)

    def received(self, event: str) -> list[tuple[Any, ...]]:
        """Arguments of every ``event`` (discord.py name without ``on_``) so far."""
        return [args for name, args in self.events if name == event]

    def dispatches(self, name: str) -> list[dict[str, Any]]:
        """``d`` of every gateway dispatch ``name`` (e.g. ``MESSAGE_CREATE``) so far."""
        return [p["d"] for p in self.payloads if p.get("op") == 0 and p.get("t") == name]

    async def wait_until(self, condition: Callable[[], Any], timeout: float = WAIT) -> Any:
        """Wait until ``condition()`` is neither None nor False; returns its value.

        Raises TimeoutError after ``timeout`` seconds.
        """

        async def poll() -> Any:
            while (value := condition()) is None or value is False:
                self._changed.clear()
                await self._changed.wait()
            return value

        return await asyncio.wait_for(poll(), timeout)

    async def next_event(
        self, event: str, check: Callable[..., bool] = lambda *a: True, timeout: float = WAIT
    ) -> tuple[Any, ...]:
        """The first recorded ``event`` (past or future) whose arguments pass ``check``."""

        def find() -> tuple[Any, ...] | None:
            for args in self.received(event):
                if check(*args):
                    return args
            return None

        return await self.wait_until(find, timeout)


@contextlib.asynccontextmanager
async def connected_client(
    emulator: EmulatorUrls,
    token: str,
    *,
    intents: discord.Intents | None = None,
    wait_ready: bool = True,
    **options: Any,
) -> AsyncIterator[RecordingClient]:
    """A started client; discord.py's URLs point at ``emulator`` and are restored afterwards."""
    saved = (
        discord.http.Route.BASE,
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
        discord.asset.Asset.BASE,
    )
    discord.http.Route.BASE = emulator.api_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emulator.gateway_url)
    discord.asset.Asset.BASE = emulator.cdn_url
    options.setdefault("guild_ready_timeout", 0.05)
    client = RecordingClient(intents=intents or discord.Intents.all(), **options)
    task = asyncio.create_task(client.start(token))
    try:
        if wait_ready:
            ready = asyncio.create_task(client.wait_until_ready())
            done, _ = await asyncio.wait({ready, task}, timeout=WAIT, return_when="FIRST_COMPLETED")
            if task in done:
                ready.cancel()
                task.result()  # raises what start() raised
            assert ready in done, "on_ready did not come"
        client.start_task = task  # type: ignore[attr-defined]
        yield client
    finally:
        await client.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, WAIT)
        (
            discord.http.Route.BASE,
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            discord.asset.Asset.BASE,
        ) = saved

"""Connecting discord.py to Discord (or a Discord-compatible server), with errors for people."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import discord
import yarl
from discord.asset import Asset
from discord.gateway import DiscordWebSocket
from discord.http import Route

from ..log_filters import install_log_filters
from .dispatch_guard import DispatchGuard
from .heartbeat import install_heartbeat_fix

log = logging.getLogger("bridge.discord")

PORTAL = "https://discord.com/developers/applications"


class DiscordStartError(Exception):
    """discord.py could not log in or connect; the message says why and what to do."""


def point_discord_py_at(api_url: str, gateway_url: str, cdn_url: str) -> None:
    """Make discord.py use these addresses instead of Discord's own.

    discord.py keeps them as class attributes, so this holds for the whole process (one
    bridge per process). Webhook calls use ``Route.BASE`` too.
    """
    Route.BASE = api_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    Asset.BASE = cdn_url.rstrip("/")


def bridge_intents() -> discord.Intents:
    """What the bridge listens to. Members and message content are privileged intents."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True
    intents.moderation = True  # bans
    intents.emojis_and_stickers = True
    intents.webhooks = True
    intents.guild_messages = True
    intents.guild_reactions = True
    intents.guild_typing = True
    intents.message_content = True
    return intents


GATEWAY_EVENTS = frozenset({"connect", "ready", "resumed", "disconnect"})


class BridgeDiscordClient(discord.Client):
    """The bridge's discord.py client. Event handlers are attached by the dispatcher.

    ``http_trace`` is discord.py's documented hook on its aiohttp session (the metrics read
    rate-limit waits there); ``gateway_listeners`` are called with each gateway event's name
    (connect, ready, resumed, disconnect) and whether the client is closed.
    ``dispatch_guard`` wraps discord.py's parsers, so a malformed dispatch is logged, counted
    and skipped instead of ending the connection; it also logs and counts the failures of the
    bridge's event handlers (``on_error``).
    """

    def __init__(self, http_trace: aiohttp.TraceConfig | None = None) -> None:
        install_heartbeat_fix()  # no false "Can't keep up" on a fast gateway
        install_log_filters()  # also when run in process (demo): no voice warning
        traced: dict[str, Any] = {"http_trace": http_trace} if http_trace else {}
        super().__init__(intents=bridge_intents(), chunk_guilds_at_startup=False, **traced)
        self.ready_event = asyncio.Event()
        self.gateway_listeners: list[Callable[[str, bool], None]] = []
        self.dispatch_guard = DispatchGuard(self._guild_of)
        self.dispatch_guard.install(self._connection.parsers)

    def _guild_of(self, channel_id: int) -> int | None:
        guild = getattr(self.get_channel(channel_id), "guild", None)
        return guild.id if guild is not None else None

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        self.dispatch_guard.dispatched += 1
        if event in GATEWAY_EVENTS:
            for listener in self.gateway_listeners:
                try:
                    listener(event, self.is_closed())
                except Exception:
                    log.exception("A gateway listener failed on %s", event)
        super().dispatch(event, *args, **kwargs)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """A bridge handler raised (discord.py runs each as its own task, so the gateway
        goes on): logged and counted by the dispatch guard."""
        self.dispatch_guard.handler_failed(event_method, sys.exc_info()[1])

    async def on_ready(self) -> None:
        log.info(
            "Connected to Discord as %s (%s) in %d guild(s)",
            self.user,
            self.user.id if self.user else "?",
            len(self.guilds),
        )
        self.ready_event.set()


async def start_discord(
    client: BridgeDiscordClient,
    token: str,
    timeout: float = 60,
    before_connect: Callable[[], Awaitable[None]] | None = None,
) -> asyncio.Task:
    """Log in and connect; returns the task that keeps the gateway connection alive.

    Waits until READY, so a bad token or missing intents fail here with a clear message.
    ``before_connect`` runs once logged in (REST works), before any gateway event can arrive.
    """
    try:
        await client.login(token)
    except discord.LoginFailure as error:
        raise DiscordStartError(
            "Discord refused discord.bot_token (401 Unauthorized). Copy the bot token again "
            f"from {PORTAL} → your application → Bot → Reset Token."
        ) from error
    except (OSError, discord.HTTPException) as error:
        raise DiscordStartError(f"Cannot reach the Discord API at {Route.BASE}: {error}") from error
    if before_connect is not None:
        await before_connect()
    connection = asyncio.create_task(client.connect(reconnect=True), name="discord-gateway")
    ready = asyncio.create_task(client.ready_event.wait())
    done, _ = await asyncio.wait(
        {connection, ready}, timeout=timeout, return_when="FIRST_COMPLETED"
    )
    ready.cancel()
    if connection in done:
        raise explain_connect_failure(connection.exception())
    if ready not in done:
        connection.cancel()
        raise DiscordStartError(
            f"No READY from the Discord gateway at {DiscordWebSocket.DEFAULT_GATEWAY} "
            f"within {timeout:.0f} s"
        )
    return connection


def explain_connect_failure(error: BaseException | None) -> DiscordStartError:
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return DiscordStartError(
            "Discord closed the gateway with 4014: the bot needs privileged intents that are "
            f"not enabled. In {PORTAL} → your application → Bot → Privileged Gateway Intents, "
            "turn on SERVER MEMBERS INTENT and MESSAGE CONTENT INTENT, then restart the bridge."
        )
    if isinstance(error, discord.ConnectionClosed) and error.code == 4004:
        return DiscordStartError(
            "Discord closed the gateway with 4004: discord.bot_token is wrong."
        )
    if isinstance(error, discord.ConnectionClosed):
        return DiscordStartError(
            f"Discord closed the gateway with code {error.code}: {error.reason or 'no reason'}"
        )
    return DiscordStartError(f"Cannot connect to the Discord gateway: {error!r}")

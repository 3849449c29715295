"""Gateway v10 websocket endpoint, as discord.py 2.7 speaks it.

HELLO → IDENTIFY (4004 on a bad token, 4014 on privileged intents the application lacks) →
READY (guilds unavailable) and one GUILD_CREATE per guild; heartbeats are ACKed; REQUEST_GUILD_MEMBERS
answers GUILD_MEMBERS_CHUNKs; RESUME replays what a session missed, or INVALID_SESSION. Frames are
zlib-stream compressed when the URL asks ``compress=zlib-stream`` (as discord.py does), else text.
Sessions, delivery rules and faults live in :mod:`.gateway_session`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import permissions as perms
from .appkeys import EMULATOR
from .events import PRIVILEGED_INTENTS, Intents
from .gateway_protocol import (
    CLOSE_ALREADY_AUTHENTICATED,
    CLOSE_AUTHENTICATION_FAILED,
    CLOSE_DECODE_ERROR,
    CLOSE_DISALLOWED_INTENTS,
    CLOSE_INVALID_INTENTS,
    CLOSE_NOT_AUTHENTICATED,
    CLOSE_SESSION_TIMED_OUT,
    CLOSE_UNKNOWN_OPCODE,
    OP_DISPATCH,
    OP_HEARTBEAT,
    OP_HEARTBEAT_ACK,
    OP_HELLO,
    OP_IDENTIFY,
    OP_INVALID_SESSION,
    OP_PRESENCE_UPDATE,
    OP_REQUEST_GUILD_MEMBERS,
    OP_RESUME,
    OP_VOICE_STATE_UPDATE,
    Connection,
    encode_frame,
)
from .gateway_session import GatewayHub, GatewaySession
from .gateway_store import (
    bot_ready_payload,
    guild_create_for_session,
    member_chunks,
)

if TYPE_CHECKING:
    from .store import Store

__all__ = ["GATEWAY_HUB", "GatewayHub", "get_hub", "handle_gateway"]

GATEWAY_HUB: web.AppKey[GatewayHub] = web.AppKey("discord_gateway_hub", GatewayHub)
VALID_INTENTS = (1 << 26) - 1
CHUNK_SIZE = 1000


def install_hub(app: web.Application, hub: GatewayHub | None = None) -> GatewayHub:
    """Put a hub in ``app`` before it starts (``add_control_routes`` does it)."""
    if GATEWAY_HUB not in app:
        app[GATEWAY_HUB] = hub or GatewayHub()
    return app[GATEWAY_HUB]


def get_hub(app: web.Application) -> GatewayHub:
    """The app's gateway hub, subscribed to the store's bus (created on first use if missing)."""
    hub = app.get(GATEWAY_HUB)
    if hub is None:
        hub = GatewayHub()
        with contextlib.suppress(RuntimeError):
            app[GATEWAY_HUB] = hub
    store = _store_of(app)
    if store is not None:
        hub.attach(store.events)
        if hub.guild_create_builder is None:
            hub.guild_create_builder = lambda session, guild_id: guild_create_for_session(
                store, guild_id, session.intents, session.bot_id, session.large_threshold
            )
        if hub.permissions_of is None:
            hub.permissions_of = lambda bot_id, guild_id: perms.guild_permissions(
                store, guild_id, bot_id
            )
        if hub.channel_permissions_of is None:
            hub.channel_permissions_of = lambda bot_id, channel_id: perms.channel_permissions(
                store, channel_id, bot_id
            )
    return hub


def _store_of(app: web.Application) -> Store | None:
    emulator = app.get(EMULATOR)
    return None if emulator is None else emulator.store


async def handle_gateway(request: web.Request) -> web.WebSocketResponse:
    """Serve one gateway websocket until it closes."""
    hub = get_hub(request.app)
    store = _store_of(request.app)
    assert store is not None, "the gateway needs the emulator under appkeys.EMULATOR"
    ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
    await ws.prepare(request)
    compress = hub.compression and request.query.get("compress") == "zlib-stream"
    connection = Connection(ws, hub, compress=compress, transport=request.transport)
    hub.connections.add(connection)
    protocol = _Protocol(request, hub, store, connection)
    try:
        await protocol.run()
    finally:
        hub.unbind(connection)
        connection.writer.cancel()
        if not ws.closed:
            await ws.close()
    return ws


class _Protocol:
    """The receive loop of one connection."""

    def __init__(
        self, request: web.Request, hub: GatewayHub, store: Store, connection: Connection
    ) -> None:
        self.request = request
        self.hub = hub
        self.store = store
        self.connection = connection
        self.session: GatewaySession | None = None

    @property
    def gateway_url(self) -> str:
        origin = self.request.url.origin()
        scheme = "wss" if origin.scheme == "https" else "ws"
        return str(origin.with_scheme(scheme).with_path(self.request.path))

    async def close(self, code: int, reason: str) -> None:
        await self.connection.close(code, reason)

    async def run(self) -> None:
        interval = self.hub.heartbeat_interval_ms
        self.connection.send(encode_frame(OP_HELLO, {"heartbeat_interval": interval}))
        ws = self.connection.ws
        while not ws.closed:
            try:
                msg = await ws.receive(timeout=interval / 1000 * 1.5 + 5)
            except TimeoutError:
                await self.close(CLOSE_SESSION_TIMED_OUT, "Session timed out")
                return
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return
            if msg.type is not WSMsgType.TEXT:
                await self.close(CLOSE_DECODE_ERROR, "Decode error")
                return
            try:
                payload = json.loads(msg.data)
                op = payload["op"]
                data = payload.get("d")
            except (ValueError, KeyError, TypeError):
                await self.close(CLOSE_DECODE_ERROR, "Decode error")
                return
            await self.on_payload(op, data)

    async def on_payload(self, op: int, data: Any) -> None:
        if op == OP_HEARTBEAT:
            self.connection.send(encode_frame(OP_HEARTBEAT_ACK, None))
        elif op == OP_IDENTIFY:
            await self.identify(data or {})
        elif op == OP_RESUME:
            await self.resume(data or {})
        elif self.session is None and op in (OP_REQUEST_GUILD_MEMBERS, OP_PRESENCE_UPDATE):
            await self.close(CLOSE_NOT_AUTHENTICATED, "Not authenticated")
        elif op == OP_REQUEST_GUILD_MEMBERS:
            self.request_members(data or {})
        elif op in (OP_PRESENCE_UPDATE, OP_VOICE_STATE_UPDATE):
            pass  # accepted and ignored: no presences or voice in the emulator
        else:
            await self.close(CLOSE_UNKNOWN_OPCODE, "Unknown opcode")

    async def identify(self, data: dict[str, Any]) -> None:
        if self.session is not None:
            await self.close(CLOSE_ALREADY_AUTHENTICATED, "Already authenticated")
            return
        token = str(data.get("token") or "")
        user = self.store.authenticate(token)
        application = None if user is None else self.store.application_of_bot(user.id)
        if user is None or application is None:
            await self.close(CLOSE_AUTHENTICATION_FAILED, "Authentication failed")
            return
        raw_intents = data.get("intents")
        if not isinstance(raw_intents, int) or raw_intents < 0 or raw_intents & ~VALID_INTENTS:
            await self.close(CLOSE_INVALID_INTENTS, "Invalid intent(s)")
            return
        intents = Intents(raw_intents)
        if intents & PRIVILEGED_INTENTS & ~application.privileged_intents:
            await self.close(CLOSE_DISALLOWED_INTENTS, "Disallowed intent(s)")
            return
        guild_ids = self.store.user_guild_ids(user.id)
        large_threshold = data.get("large_threshold", 50)
        if not isinstance(large_threshold, int) or not 50 <= large_threshold <= 250:
            large_threshold = 50
        session = self.hub.new_session(
            token, user.id, application.id, intents, guild_ids, large_threshold
        )
        self.session = session
        self.hub.bind(session, self.connection)
        ready = bot_ready_payload(self.store, user, application, guild_ids)
        ready.update(session_id=session.session_id, resume_gateway_url=self.gateway_url)
        if "shard" in data:
            ready["shard"] = data["shard"]
        session.dispatch("READY", ready)
        for guild_id in guild_ids:
            session.dispatch(
                "GUILD_CREATE",
                guild_create_for_session(self.store, guild_id, intents, user.id, large_threshold),
            )

    async def resume(self, data: dict[str, Any]) -> None:
        if self.session is not None:
            await self.close(CLOSE_ALREADY_AUTHENTICATED, "Already authenticated")
            return
        seq = data.get("seq")
        session = self.hub.resumable(
            str(data.get("session_id")), str(data.get("token")), int(seq or 0)
        )
        if session is None:
            # Discord answers INVALID_SESSION and lets the client close; discord.py then
            # identifies afresh on a new connection.
            self.connection.send(encode_frame(OP_INVALID_SESSION, False))
            return
        self.session = session
        self.hub.resume_count += 1
        self.hub.bind(session, self.connection)
        session.replay(int(seq or 0))
        # Not numbered nor buffered, so that a later RESUME does not replay it.
        self.connection.send(
            encode_frame(OP_DISPATCH, {"_trace": ["discord-emulator"]}, None, "RESUMED")
        )

    def request_members(self, data: dict[str, Any]) -> None:
        assert self.session is not None
        guild_ids = data.get("guild_id")
        if not isinstance(guild_ids, list):
            guild_ids = [guild_ids]
        for raw_guild_id in guild_ids:
            with contextlib.suppress(TypeError, ValueError):
                guild_id = int(raw_guild_id)
                if guild_id in self.session.guild_ids and guild_id in self.store.guilds:
                    for chunk in member_chunks(
                        self.store, guild_id, data, self.session.intents, CHUNK_SIZE
                    ):
                        self.session.dispatch("GUILD_MEMBERS_CHUNK", chunk)


async def shutdown_gateway(app: web.Application) -> None:
    """Close every gateway websocket (for ``on_shutdown``)."""
    hub = app.get(GATEWAY_HUB)
    if hub is not None:
        await hub.close_all()
        await asyncio.sleep(0)

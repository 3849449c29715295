"""The gateway's wire side: opcodes, close codes, frame encoding and one websocket.

A :class:`Connection` owns the ordered outgoing queue of one websocket (with optional
``zlib-stream`` compression); sessions and their hub live in ``gateway_session``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import zlib
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .gateway_session import GatewayHub

# Gateway opcodes (Discord numbering).
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

# Close codes.
CLOSE_UNKNOWN_ERROR = 4000
CLOSE_UNKNOWN_OPCODE = 4001
CLOSE_DECODE_ERROR = 4002
CLOSE_NOT_AUTHENTICATED = 4003
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005
CLOSE_SESSION_TIMED_OUT = 4009
CLOSE_INVALID_INTENTS = 4013
CLOSE_DISALLOWED_INTENTS = 4014


def encode_frame(op: int, d: Any, s: int | None = None, t: str | None = None) -> str:
    """One gateway payload as sent on the wire (JSON text, before any compression)."""
    return json.dumps({"op": op, "d": d, "s": s, "t": t}, separators=(",", ":"))


class Connection:
    """One websocket attached to a session: an ordered outgoing queue and its writer task."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        hub: GatewayHub,
        *,
        compress: bool,
        transport: asyncio.BaseTransport | None = None,
    ) -> None:
        self.ws = ws
        self.transport = transport
        self.hub = hub
        self.queue: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()
        self._compressor = zlib.compressobj() if compress else None
        self.writer = asyncio.get_running_loop().create_task(self._write_loop())

    def send(self, frame: str, *, is_dispatch: bool = False) -> None:
        self.queue.put_nowait((frame, is_dispatch))

    async def _send(self, frame: str) -> None:
        if self._compressor is None:
            await self.ws.send_str(frame)
        else:
            data = self._compressor.compress(frame.encode()) + self._compressor.flush(
                zlib.Z_SYNC_FLUSH
            )
            await self.ws.send_bytes(data)

    async def _write_loop(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                frame, is_dispatch = await self.queue.get()
                if is_dispatch and self.hub.dispatch_delay > 0:
                    await asyncio.sleep(self.hub.dispatch_delay)
                if self.ws.closed:
                    return
                await self._send(frame)

    async def close(self, code: int, message: str = "") -> None:
        self.writer.cancel()
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.close(code=code, message=message.encode())

    def abort(self) -> None:
        """Cut the TCP connection without a close frame, like a network failure."""
        self.writer.cancel()
        if isinstance(self.transport, asyncio.Transport):
            self.transport.abort()

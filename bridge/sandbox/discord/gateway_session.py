"""Gateway sessions and the hub that feeds them from the store's event bus.

A session outlives its websocket: after a disconnect it keeps buffering dispatches (with their
sequence numbers) for ``resume_ttl`` seconds so that a RESUME replays exactly what was missed.
The hub also holds the gateway faults tests can inject.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import DiscordError
from .events import EventBus, GatewayEvent, Intents
from .gateway_protocol import (
    CLOSE_UNKNOWN_ERROR,
    OP_DISPATCH,
    OP_INVALID_SESSION,
    OP_RECONNECT,
    Connection,
    encode_frame,
)
from .permissions import VIEW_CHANNEL

# Dispatches whose message content is hidden from sessions without MESSAGE_CONTENT.
CONTENT_EVENTS = frozenset({"MESSAGE_CREATE", "MESSAGE_UPDATE"})
CONTENT_FIELDS = {"content": "", "embeds": [], "attachments": [], "components": []}


def strip_message_content(data: dict[str, Any], bot_id: int) -> dict[str, Any]:
    """Apply Discord's MESSAGE_CONTENT rule for one bot to a MESSAGE_CREATE/UPDATE payload.

    The bot still sees content of its own messages, of DMs (no ``guild_id``) and of messages
    that mention it.
    """
    author = data.get("author") or {}
    if str(author.get("id")) == str(bot_id) or "guild_id" not in data:
        return data
    if any(str(user.get("id")) == str(bot_id) for user in data.get("mentions") or ()):
        return data
    stripped = dict(data)
    for key, empty in CONTENT_FIELDS.items():
        if key in stripped:
            stripped[key] = list(empty) if isinstance(empty, list) else empty
    return stripped


@dataclass
class GatewaySession:
    """State of one identified bot session, kept across reconnects until it expires."""

    session_id: str
    token: str
    bot_id: int
    application_id: int
    intents: Intents
    guild_ids: set[int]
    max_buffer: int
    large_threshold: int = 250
    seq: int = 0
    buffer: deque[tuple[int, str]] = field(default_factory=deque)
    connection: Connection | None = None
    disconnected_at: float | None = None
    # Number of dispatches delivered (or buffered) per event name: handy in tests.
    counts: dict[str, int] = field(default_factory=dict)

    def dispatch(self, name: str, data: dict[str, Any]) -> int:
        """Number, buffer and (when connected) send one dispatch; returns its sequence."""
        self.seq += 1
        frame = encode_frame(OP_DISPATCH, data, self.seq, name)
        self.buffer.append((self.seq, frame))
        while len(self.buffer) > self.max_buffer:
            self.buffer.popleft()
        self.counts[name] = self.counts.get(name, 0) + 1
        if self.connection is not None:
            self.connection.send(frame, is_dispatch=True)
        return self.seq

    def can_replay_from(self, seq: int) -> bool:
        if seq >= self.seq:
            return True
        return bool(self.buffer) and self.buffer[0][0] <= seq + 1

    def replay(self, seq: int) -> int:
        """Queue every buffered dispatch after ``seq`` on the current connection."""
        assert self.connection is not None
        replayed = 0
        for number, frame in self.buffer:
            if number > seq:
                self.connection.send(frame, is_dispatch=True)
                replayed += 1
        return replayed

    def wants(self, event: GatewayEvent) -> bool:
        if event.intent is not None and not (self.intents & event.intent):
            return False
        if event.name == "INTERACTION_CREATE":
            return str(event.data.get("application_id")) == str(self.application_id)
        return event.guild_id is None or event.guild_id in self.guild_ids

    def deliver(self, event: GatewayEvent) -> None:
        if not self.wants(event):
            return
        data = event.data
        if event.name in CONTENT_EVENTS and not (self.intents & Intents.MESSAGE_CONTENT):
            data = strip_message_content(data, self.bot_id)
        # An unavailable guild stays; a GUILD_DELETE without ``unavailable`` means the bot left.
        if event.name == "GUILD_DELETE" and event.guild_id and not data.get("unavailable"):
            self.guild_ids.discard(event.guild_id)
        self.dispatch(event.name, data)


#: Builds the GUILD_CREATE a session gets when its bot joins a guild.
GuildCreateBuilder = Callable[[GatewaySession, int], dict[str, Any]]
#: A bot's permissions in a guild (``(bot_id, guild_id) -> bits``) or in a channel
#: (``(bot_id, channel_id) -> bits``).
PermissionsOf = Callable[[int, int], int]


def _member_user_id(data: dict[str, Any]) -> int | None:
    user = data.get("user") or {}
    return int(user["id"]) if "id" in user else None


class GatewayHub:
    """All gateway sessions of one emulator, their delivery and the gateway faults."""

    def __init__(
        self,
        *,
        heartbeat_interval_ms: int = 41250,
        resume_ttl: float = 180.0,
        max_buffer: int = 50_000,
    ) -> None:
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.resume_ttl = resume_ttl
        self.max_buffer = max_buffer
        self.dispatch_delay = 0.0
        # Honour ``compress=zlib-stream``; False sends plain text frames whatever is asked.
        self.compression = True
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: set[Connection] = set()
        # Set by the gateway: GUILD_CREATE data depends on the store and the session's intents.
        self.guild_create_builder: GuildCreateBuilder | None = None
        self.permissions_of: PermissionsOf | None = None  # set by the gateway, as above
        self.channel_permissions_of: PermissionsOf | None = None  # likewise
        self._unsubscribe: Callable[[], None] | None = None
        self.identify_count = 0
        self.resume_count = 0

    # -- wiring -------------------------------------------------------------------------

    def attach(self, bus: EventBus) -> None:
        """Subscribe to the store's event bus (once)."""
        if self._unsubscribe is None:
            self._unsubscribe = bus.subscribe(self._on_event)

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: GatewayEvent) -> None:
        self.expire_sessions()
        joined_or_left = event.name in ("GUILD_MEMBER_ADD", "GUILD_MEMBER_REMOVE")
        user_id = _member_user_id(event.data) if joined_or_left else None
        for session in list(self.sessions.values()):
            if user_id == session.bot_id and event.guild_id is not None:
                self._bot_membership_changed(session, event)
            elif self._permitted(session, event):
                session.deliver(event)

    def _permitted(self, session: GatewaySession, event: GatewayEvent) -> bool:
        """False if the event needs a permission the session's bot lacks in its guild, or
        happened in a channel the bot may not view."""
        if event.guild_id is not None and event.guild_id not in session.guild_ids:
            return False
        if event.channel_id is not None and self.channel_permissions_of is not None:
            try:
                viewing = self.channel_permissions_of(session.bot_id, event.channel_id)
            except DiscordError:  # the channel is gone (deleted since): nothing to hide
                viewing = VIEW_CHANNEL
            if not viewing & VIEW_CHANNEL:
                return False
        if event.permissions is None or event.guild_id is None or self.permissions_of is None:
            return True
        return bool(self.permissions_of(session.bot_id, event.guild_id) & event.permissions)

    def _bot_membership_changed(self, session: GatewaySession, event: GatewayEvent) -> None:
        """The bot itself joined (→ GUILD_CREATE) or left (→ GUILD_DELETE) a guild."""
        assert event.guild_id is not None
        if event.name == "GUILD_MEMBER_ADD":
            if event.guild_id in session.guild_ids or self.guild_create_builder is None:
                return
            session.guild_ids.add(event.guild_id)
            data = self.guild_create_builder(session, event.guild_id)
            # Without ``unavailable`` the client takes it as a join, not an outage's end.
            data.pop("unavailable", None)
            session.dispatch("GUILD_CREATE", data)
        elif event.guild_id in session.guild_ids:
            session.guild_ids.discard(event.guild_id)
            session.dispatch("GUILD_DELETE", {"id": str(event.guild_id)})

    # -- sessions -----------------------------------------------------------------------

    def new_session(
        self,
        token: str,
        bot_id: int,
        application_id: int,
        intents: Intents,
        guild_ids: Iterable[int],
        large_threshold: int = 250,
    ) -> GatewaySession:
        session = GatewaySession(
            session_id=secrets.token_hex(16),
            token=token,
            bot_id=bot_id,
            application_id=application_id,
            intents=intents,
            guild_ids=set(guild_ids),
            max_buffer=self.max_buffer,
            large_threshold=large_threshold,
        )
        self.sessions[session.session_id] = session
        self.identify_count += 1
        return session

    def resumable(self, session_id: str, token: str, seq: int) -> GatewaySession | None:
        self.expire_sessions()
        session = self.sessions.get(session_id)
        if session is None or session.token != token or not session.can_replay_from(seq):
            return None
        return session

    def expire_sessions(self) -> None:
        now = time.monotonic()
        for session_id, session in list(self.sessions.items()):
            gone = session.disconnected_at
            if session.connection is None and gone is not None and now - gone > self.resume_ttl:
                del self.sessions[session_id]

    def bind(self, session: GatewaySession, connection: Connection) -> None:
        """Attach a websocket to a session, closing any stale one still attached."""
        old = session.connection
        if old is not None and old is not connection:
            old.writer.cancel()
            asyncio.get_running_loop().create_task(old.close(CLOSE_UNKNOWN_ERROR))
        session.connection = connection
        session.disconnected_at = None

    def unbind(self, connection: Connection) -> None:
        self.connections.discard(connection)
        for session in self.sessions.values():
            if session.connection is connection:
                session.connection = None
                session.disconnected_at = time.monotonic()

    def connected_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if s.connection is not None]

    # -- faults -------------------------------------------------------------------------

    async def drop_connections(
        self, code: int = CLOSE_UNKNOWN_ERROR, *, abort: bool = False, expire: bool = False
    ) -> int:
        """Close every websocket with a resumable code (or cut TCP with ``abort``).

        Sessions survive, so clients resume and get what was dispatched meanwhile; with
        ``expire`` they are forgotten too, so the RESUME gets INVALID_SESSION (as after a long
        outage) and the client identifies again.
        """
        connections = list(self.connections)
        if expire:
            self.sessions.clear()
        for connection in connections:
            self.unbind(connection)
            if abort:
                connection.abort()
            else:
                await connection.close(code, "dropped by fault injection")
        return len(connections)

    def send_reconnect(self) -> int:
        """Send op 7 RECONNECT on every connection; clients close and resume."""
        for connection in self.connections:
            connection.send(encode_frame(OP_RECONNECT, None))
        return len(self.connections)

    def invalidate_sessions(self, resumable: bool = False) -> int:
        """Send op 9 INVALID_SESSION; unless ``resumable``, forget the sessions too."""
        count = 0
        for session in list(self.sessions.values()):
            if session.connection is not None:
                session.connection.send(encode_frame(OP_INVALID_SESSION, resumable))
                count += 1
            if not resumable:
                del self.sessions[session.session_id]
        return count

    def dispatch_raw(self, name: str, data: Any) -> int:
        """Send one dispatch ``{"t": name, "d": data}`` as it is (any JSON, malformed on
        purpose) to every connected session, past the store and every delivery rule.

        For tests of a client's robustness against payloads real Discord (or a
        Discord-compatible server) might send. Returns the number of sessions it went to.
        """
        sessions = self.connected_sessions()
        for session in sessions:
            session.dispatch(name, data)
        return len(sessions)

    def set_dispatch_delay(self, seconds: float) -> None:
        """Delay every dispatch sent from now on by ``seconds`` (0 turns it off)."""
        self.dispatch_delay = max(0.0, float(seconds))

    def status(self) -> dict[str, Any]:
        """A JSON-friendly summary for the control API."""
        return {
            "connections": len(self.connections),
            "dispatch_delay": self.dispatch_delay,
            "identify_count": self.identify_count,
            "resume_count": self.resume_count,
            "sessions": [
                {
                    "session_id": s.session_id,
                    "bot_id": str(s.bot_id),
                    "intents": int(s.intents),
                    "seq": s.seq,
                    "connected": s.connection is not None,
                    "guild_ids": sorted(str(g) for g in s.guild_ids),
                }
                for s in self.sessions.values()
            ],
        }

    async def close_all(self) -> None:
        """Close every websocket with 1001 (server going away) and forget the sessions."""
        for connection in list(self.connections):
            await connection.close(1001, "server shutting down")
        self.connections.clear()
        self.sessions.clear()
        self.detach()

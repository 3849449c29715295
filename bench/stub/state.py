"""The stub homeserver's memory: rooms, users, aliases, media, and the counts it keeps."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web
from ruamel.yaml import YAML

log = logging.getLogger("bench.stub_homeserver")
JSONDict = dict[str, Any]
ROOM_VERSIONS = {str(v): "stable" for v in range(1, 12)}
DEFAULT_ROOM_VERSION = "10"
MESSAGE_TYPES = {"m.room.message", "m.sticker"}
BATCH = 100  # events per pushed transaction, like Synapse
C = "/_matrix/client/{version:(?:r0|v3)}"  # the client-server paths, both prefixes


class MatrixError(Exception):
    def __init__(self, status: int, errcode: str, message: str) -> None:
        super().__init__(message)
        self.status, self.errcode, self.message = status, errcode, message

    def response(self) -> web.Response:
        return web.json_response(
            {"errcode": self.errcode, "error": self.message}, status=self.status
        )


def forbidden(message: str) -> MatrixError:
    return MatrixError(403, "M_FORBIDDEN", message)


def not_found(message: str) -> MatrixError:
    return MatrixError(404, "M_NOT_FOUND", message)


@dataclass
class Room:
    room_id: str
    version: str
    state: dict[tuple[str, str], JSONDict] = field(default_factory=dict)
    timeline: list[JSONDict] = field(default_factory=list)

    def membership(self, user_id: str) -> str:
        event = self.state.get(("m.room.member", user_id))
        return str(event["content"].get("membership", "leave")) if event else "leave"

    def joined(self) -> list[str]:
        return [
            key
            for (kind, key), event in self.state.items()
            if kind == "m.room.member" and event["content"].get("membership") == "join"
        ]

    def join_rule(self) -> JSONDict:
        event = self.state.get(("m.room.join_rules", ""))
        return event["content"] if event else {"join_rule": "invite"}


@dataclass
class Stats:
    requests: Counter[str] = field(default_factory=Counter)
    not_found: Counter[str] = field(default_factory=Counter)
    events: int = 0
    events_by_type: Counter[str] = field(default_factory=Counter)
    state_events: int = 0
    pushed_events: int = 0
    transactions: int = 0
    push_failures: int = 0
    media_bytes: int = 0
    message_events: int = 0  # m.room.message and m.sticker
    first_message_at: float | None = None  # time.monotonic() of the first and last of them
    last_message_at: float | None = None


class Store:
    """The in-memory store and its counters (the base of :class:`StubHomeserver`)."""

    def __init__(
        self,
        registration: Path | JSONDict,
        server_name: str = "sandbox.local",
        host: str = "127.0.0.1",
        port: int = 0,
        push: bool = True,
    ) -> None:
        if isinstance(registration, Path):
            registration = dict(YAML(typ="safe").load(registration))
        self.registration = registration
        self.server_name, self.host, self.port, self.push = server_name, host, port, push
        self.as_token = str(registration["as_token"])
        self.hs_token = str(registration["hs_token"])
        self.as_url = str(registration.get("url") or "").rstrip("/")
        self.bot = f"@{registration['sender_localpart']}:{server_name}"
        namespaces = registration.get("namespaces") or {}
        self.user_patterns = [re.compile(n["regex"]) for n in namespaces.get("users") or []]
        self.alias_patterns = [re.compile(n["regex"]) for n in namespaces.get("aliases") or []]
        self.users: set[str] = set()
        self.profiles: dict[str, JSONDict] = {}
        self.rooms: dict[str, Room] = {}
        self.aliases: dict[str, str] = {}
        self.txns: dict[tuple[str, str], str] = {}
        self.media: dict[str, tuple[bytes, str]] = {}
        self.stats_data = Stats()
        self.ids = itertools.count(1)
        self.outbox: list[JSONDict] = []
        # event id → time.monotonic() when the transaction carrying it was first sent
        self.pushed_at: dict[str, float] = {}
        # event id → time.monotonic() when each message event (MESSAGE_TYPES) was stored
        self.stored_at: dict[str, float] = {}
        self.outbox_ready = asyncio.Event()
        self.push_task: asyncio.Task[None] | None = None
        self.runner: web.AppRunner | None = None
        self.session: ClientSession | None = None

    def stats(self) -> JSONDict:
        s = self.stats_data
        return {
            "requests": dict(s.requests.most_common()),
            "requests_total": sum(s.requests.values()),
            "not_found": dict(s.not_found),
            "events": s.events,
            "state_events": s.state_events,
            "events_by_type": dict(s.events_by_type),
            "pushed_events": s.pushed_events,
            "transactions": s.transactions,
            "push_failures": s.push_failures,
            "outbox": len(self.outbox),
            "rooms": len(self.rooms),
            "users": len(self.users),
            "media": len(self.media),
            "media_bytes": s.media_bytes,
            "message_events": s.message_events,
        }

    def reset_counts(self) -> None:
        """Forget the counts (not the rooms, users or media)."""
        self.stats_data = Stats()

    def _in_namespace(self, user_id: str) -> bool:
        return any(p.fullmatch(user_id) for p in self.user_patterns)

    def _store(
        self,
        room: Room,
        sender: str,
        kind: str,
        content: JSONDict,
        state_key: str | None = None,
        ts: int | None = None,
        extra: JSONDict | None = None,
    ) -> JSONDict:
        event: JSONDict = {
            "event_id": f"${next(self.ids):012d}stub",
            "type": kind,
            "sender": sender,
            "room_id": room.room_id,
            "origin_server_ts": ts if ts is not None else int(time.time() * 1000),
            "content": content,
        }
        if extra:
            event.update(extra)
        if state_key is not None:
            event["state_key"] = state_key
            previous = room.state.get((kind, state_key))
            if previous is not None:
                event["unsigned"] = {"prev_content": previous["content"]}
            room.state[(kind, state_key)] = event
            self.stats_data.state_events += 1
            if kind == "m.room.member" and content.get("membership") == "join":
                self.users.add(state_key)
        room.timeline.append(event)
        self.stats_data.events += 1
        self.stats_data.events_by_type[kind] += 1
        if kind in MESSAGE_TYPES:
            now = time.monotonic()
            s = self.stats_data
            s.message_events += 1
            s.last_message_at = now
            self.stored_at[event["event_id"]] = now
            if s.first_message_at is None:
                s.first_message_at = now
        if self.push_task is not None:
            self.outbox.append(event)
            self.outbox_ready.set()
        return event

    def _member(
        self, membership: str, profile: JSONDict, extra: JSONDict | None = None
    ) -> JSONDict:
        content: JSONDict = {"membership": membership}
        if membership == "join":
            content.update({k: v for k, v in profile.items() if v is not None})
        content.update(extra or {})
        return content

    def _may_join(self, room: Room, user: str) -> bool:
        membership = room.membership(user)
        if membership in ("join", "invite"):
            return True
        if membership == "ban":
            return False
        rule = room.join_rule()
        if rule.get("join_rule") == "public":
            return True
        if rule.get("join_rule") in ("restricted", "knock_restricted"):
            for allowed in rule.get("allow") or []:
                other = self.rooms.get(str(allowed.get("room_id")))
                if other is not None and other.membership(user) == "join":
                    return True
        return False

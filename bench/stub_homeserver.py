"""An instant homeserver for benchmarks: answers at once, from memory (not a real server).

Usage as a process: .venv/bin/python bench/stub_homeserver.py --registration REG.yaml
       [--port 0] [--server-name sandbox.local] [--max-seconds 600]
prints one JSON line (``url``, ``stats_url``) and serves until SIGINT/SIGTERM or
``--max-seconds``. From Python: ``async with StubHomeserver(registration) as hs:`` then
``hs.url`` and ``hs.stats()``.

It speaks the parts of the client-server and appservice API the bridge uses: versions,
capabilities (default room version "10"), appservice register, whoami, the appservice ping
(it calls the bridge's ``/_matrix/app/v1/ping`` with the hs_token), profiles, createRoom
(``initial_state``, ``power_level_content_override``, ``room_alias_name``, ``invite``),
join/invite/leave/kick/ban, state get/put, send (dedup by transaction id per user), redact,
``/messages``, joined rooms and members, the room directory, ``register/available`` (with
``M_EXCLUSIVE`` for the registration's namespaces), media upload/config/download (v1 and v3
paths; bytes kept). ``?user_id=`` lets the as_token act as any user of its namespaces, and
``?ts=`` sets an event's timestamp.

Like a homeserver, it pushes every event back to the appservice (``PUT
{url}/_matrix/app/v1/transactions/{txn}`` with the hs_token), in order, batched (up to 100
events, one transaction in flight), the bridge's own ghosts' events included.

Membership is checked as a homeserver would for the common cases (send and state need the
sender joined; a join needs an invite unless the room is public, or restricted to a room the
user is in); power levels are stored, not enforced. It counts requests by endpoint, events
stored and pushed, and paths it does not know (404, also logged at WARNING):
``GET /_stub/stats`` or :meth:`StubHomeserver.stats`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import re
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web
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


class StubHomeserver:
    """The whole homeserver, in memory. ``registration``: the appservice registration (a
    path or the loaded mapping); ``push=False`` keeps the events (nothing is pushed)."""

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
        self.outbox_ready = asyncio.Event()
        self.push_task: asyncio.Task[None] | None = None
        self.runner: web.AppRunner | None = None
        self.session: ClientSession | None = None

    # -- life cycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> StubHomeserver:
        app = web.Application(middlewares=[self._middleware], client_max_size=200 * 1024**2)
        self._routes(app.router)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.session = ClientSession(timeout=ClientTimeout(total=60))
        if self.push and self.as_url:
            self.push_task = asyncio.create_task(self._push_forever(), name="stub-push")
        return self

    async def stop(self) -> None:
        if self.push_task is not None:
            self.push_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.push_task
        if self.session is not None:
            await self.session.close()
        if self.runner is not None:
            await self.runner.cleanup()

    async def __aenter__(self) -> StubHomeserver:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

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

    async def drained(self, timeout: float = 30) -> None:
        """Wait until every stored event was pushed (and acknowledged)."""
        deadline = time.monotonic() + timeout
        while self.outbox or (self.push_task is not None and self._in_flight):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.outbox)} events not pushed")
            await asyncio.sleep(0.01)

    # -- plumbing ---------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        route = request.match_info.route
        resource = route.resource
        if resource is None or isinstance(request.match_info.http_exception, web.HTTPException):
            self.stats_data.not_found[f"{request.method} {request.path}"] += 1
            log.warning("stub homeserver: unknown %s %s", request.method, request.path_qs)
            return MatrixError(404, "M_UNRECOGNIZED", "Unrecognized request").response()
        name = resource.canonical.replace("{version}", "v3")
        self.stats_data.requests[f"{request.method} {name}"] += 1
        try:
            return await handler(request)
        except MatrixError as error:
            return error.response()

    def _routes(self, r: web.UrlDispatcher) -> None:
        r.add_get("/_stub/stats", self.h_stats)
        r.add_get("/_matrix/client/versions", self.h_versions)
        r.add_get(C + "/capabilities", self.h_capabilities)
        r.add_post(C + "/register", self.h_register)
        r.add_get(C + "/register/available", self.h_available)
        r.add_get(C + "/account/whoami", self.h_whoami)
        r.add_post("/_matrix/client/v1/appservice/{id}/ping", self.h_ping)
        r.add_get(C + "/profile/{user}", self.h_profile)
        r.add_get(C + "/profile/{user}/{field}", self.h_profile_field)
        r.add_put(C + "/profile/{user}/{field}", self.h_profile_set)
        r.add_post(C + "/createRoom", self.h_create_room)
        r.add_post(C + "/join/{room}", self.h_join)
        r.add_post(C + "/rooms/{room}/join", self.h_join)
        r.add_post(C + "/rooms/{room}/invite", self.h_membership_of("invite"))
        r.add_post(C + "/rooms/{room}/kick", self.h_membership_of("leave"))
        r.add_post(C + "/rooms/{room}/ban", self.h_membership_of("ban"))
        r.add_post(C + "/rooms/{room}/unban", self.h_membership_of("leave"))
        r.add_post(C + "/rooms/{room}/leave", self.h_leave)
        r.add_post(C + "/rooms/{room}/forget", self.h_empty)
        r.add_get(C + "/rooms/{room}/state", self.h_state_all)
        r.add_get(C + "/rooms/{room}/state/{type}", self.h_state_get)
        r.add_get(C + "/rooms/{room}/state/{type}/", self.h_state_get)  # empty state key
        r.add_put(C + "/rooms/{room}/state/{type}/", self.h_state_put)
        r.add_get(C + "/rooms/{room}/state/{type}/{key}", self.h_state_get)
        r.add_put(C + "/rooms/{room}/state/{type}", self.h_state_put)
        r.add_put(C + "/rooms/{room}/state/{type}/{key}", self.h_state_put)
        r.add_put(C + "/rooms/{room}/send/{type}/{txn}", self.h_send)
        r.add_put(C + "/rooms/{room}/redact/{event}/{txn}", self.h_redact)
        r.add_get(C + "/rooms/{room}/event/{event}", self.h_event)
        r.add_get(C + "/rooms/{room}/messages", self.h_messages)
        r.add_get(C + "/rooms/{room}/joined_members", self.h_joined_members)
        r.add_get(C + "/rooms/{room}/members", self.h_members)
        r.add_get(C + "/rooms/{room}/aliases", self.h_room_aliases)
        r.add_put(C + "/rooms/{room}/typing/{user}", self.h_empty)
        r.add_post(C + "/rooms/{room}/receipt/{type}/{event}", self.h_empty)
        r.add_post(C + "/rooms/{room}/read_markers", self.h_empty)
        r.add_get(C + "/joined_rooms", self.h_joined_rooms)
        r.add_get(C + "/directory/room/{alias}", self.h_alias_get)
        r.add_put(C + "/directory/room/{alias}", self.h_alias_put)
        r.add_delete(C + "/directory/room/{alias}", self.h_alias_delete)
        r.add_put(C + "/directory/list/room/{room}", self.h_empty)
        r.add_put(C + "/presence/{user}/status", self.h_empty)
        for prefix in ("/_matrix/media/v3", "/_matrix/media/r0", "/_matrix/media/v1"):
            r.add_post(prefix + "/upload", self.h_upload)
            r.add_get(prefix + "/config", self.h_media_config)
            r.add_get(prefix + "/download/{server}/{media}", self.h_download)
            r.add_get(prefix + "/download/{server}/{media}/{name}", self.h_download)
        r.add_get("/_matrix/client/v1/media/config", self.h_media_config)
        r.add_get("/_matrix/client/v1/media/download/{server}/{media}", self.h_download)
        r.add_get("/_matrix/client/v1/media/download/{server}/{media}/{name}", self.h_download)

    def _caller(self, request: web.Request, need_token: bool = True) -> str:
        """The user the request acts as: the bot, or ``?user_id=`` in the namespace."""
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        token = token or request.query.get("access_token")
        if token is None:
            if need_token:
                raise MatrixError(401, "M_MISSING_TOKEN", "Missing access token")
            return ""
        if token != self.as_token:
            raise MatrixError(401, "M_UNKNOWN_TOKEN", "Unknown access token")
        user = request.query.get("user_id") or self.bot
        if user != self.bot and not self._in_namespace(user):
            raise forbidden("Application service cannot masquerade as this user")
        return user

    def _in_namespace(self, user_id: str) -> bool:
        return any(p.fullmatch(user_id) for p in self.user_patterns)

    def _room(self, request: web.Request) -> Room:
        room_id = request.match_info["room"]
        if room_id.startswith("#"):
            room_id = self.aliases.get(room_id, "")
        room = self.rooms.get(room_id)
        if room is None:
            raise not_found(f"Unknown room {room_id}")
        return room

    @staticmethod
    async def _body(request: web.Request) -> JSONDict:
        if not request.can_read_body:
            return {}
        try:
            data = await request.json(loads=json.loads)
        except ValueError as error:
            raise MatrixError(400, "M_NOT_JSON", "Content not JSON") from error
        return data if isinstance(data, dict) else {}

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
            if s.first_message_at is None:
                s.first_message_at = now
        if self.push_task is not None:
            self.outbox.append(event)
            self.outbox_ready.set()
        return event

    @staticmethod
    def _ts(request: web.Request) -> int | None:
        ts = request.query.get("ts")
        return int(ts) if ts and ts.isdigit() else None

    # -- pushing to the appservice ----------------------------------------------------------

    _in_flight = False

    async def _push_forever(self) -> None:
        assert self.session is not None
        txn = itertools.count(1)
        delay = 0.05
        while True:
            if not self.outbox:
                self.outbox_ready.clear()
                await self.outbox_ready.wait()
            batch = self.outbox[:BATCH]
            number = next(txn)
            url = f"{self.as_url}/_matrix/app/v1/transactions/stub{number}"
            headers = {"Authorization": f"Bearer {self.hs_token}"}
            self._in_flight = True
            while True:
                try:
                    async with self.session.put(
                        url, json={"events": batch}, headers=headers
                    ) as answer:
                        await answer.read()
                        if answer.status == 200:
                            break
                        log.debug("transaction %s: HTTP %s", number, answer.status)
                except (TimeoutError, OSError) as error:
                    log.debug("transaction %s: %s", number, error)
                self.stats_data.push_failures += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            delay = 0.05
            del self.outbox[: len(batch)]
            self._in_flight = False
            self.stats_data.transactions += 1
            self.stats_data.pushed_events += len(batch)

    # -- handlers: server, accounts, profiles ----------------------------------------------

    async def h_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def h_empty(self, request: web.Request) -> web.Response:
        self._caller(request)
        return web.json_response({})

    async def h_versions(self, request: web.Request) -> web.Response:
        versions = ["r0.6.1", *(f"v1.{n}" for n in range(1, 12))]
        return web.json_response({"versions": versions, "unstable_features": {}})

    async def h_capabilities(self, request: web.Request) -> web.Response:
        self._caller(request)
        versions = {"default": DEFAULT_ROOM_VERSION, "available": ROOM_VERSIONS}
        return web.json_response({"capabilities": {"m.room_versions": versions}})

    async def h_register(self, request: web.Request) -> web.Response:
        self._caller(request)
        body = await self._body(request)
        if body.get("type") != "m.login.application_service":
            raise forbidden("Registration is disabled")
        user = f"@{body.get('username', '')}:{self.server_name}"
        if user != self.bot and not self._in_namespace(user):
            raise MatrixError(400, "M_EXCLUSIVE", "User not in the appservice's namespace")
        if user in self.users:
            raise MatrixError(400, "M_USER_IN_USE", "User ID already taken.")
        self.users.add(user)
        self.profiles.setdefault(user, {"displayname": body.get("username")})
        return web.json_response({"user_id": user, "home_server": self.server_name})

    async def h_available(self, request: web.Request) -> web.Response:
        user = f"@{request.query.get('username', '')}:{self.server_name}"
        if user == self.bot or self._in_namespace(user):
            raise MatrixError(400, "M_EXCLUSIVE", "This user ID is reserved by an appservice")
        if user in self.users:
            raise MatrixError(400, "M_USER_IN_USE", "User ID already taken.")
        return web.json_response({"available": True})

    async def h_whoami(self, request: web.Request) -> web.Response:
        user = self._caller(request)
        return web.json_response({"user_id": user, "is_guest": False})

    async def h_ping(self, request: web.Request) -> web.Response:
        self._caller(request)
        body = await self._body(request)
        assert self.session is not None
        started = time.monotonic()
        payload = {"transaction_id": body["transaction_id"]} if "transaction_id" in body else {}
        try:
            async with self.session.post(
                f"{self.as_url}/_matrix/app/v1/ping",
                json=payload,
                headers={"Authorization": f"Bearer {self.hs_token}"},
            ) as answer:
                await answer.read()
                if answer.status != 200:
                    raise MatrixError(502, "M_BAD_STATUS", f"Ping returned HTTP {answer.status}")
        except OSError as error:
            raise MatrixError(502, "M_CONNECTION_FAILED", str(error)) from error
        return web.json_response({"duration_ms": int((time.monotonic() - started) * 1000)})

    async def h_profile(self, request: web.Request) -> web.Response:
        user = request.match_info["user"]
        if user not in self.profiles and user not in self.users:
            raise not_found("Profile was not found")
        profile = self.profiles.get(user, {})
        return web.json_response({k: v for k, v in profile.items() if v is not None})

    async def h_profile_field(self, request: web.Request) -> web.Response:
        user, name = request.match_info["user"], request.match_info["field"]
        value = self.profiles.get(user, {}).get(name)
        if value is None:
            raise not_found("Profile was not found")
        return web.json_response({name: value})

    async def h_profile_set(self, request: web.Request) -> web.Response:
        caller = self._caller(request)
        user, name = request.match_info["user"], request.match_info["field"]
        if user != caller:
            raise forbidden("Cannot set another user's profile")
        value = (await self._body(request)).get(name)
        self.users.add(user)
        profile = self.profiles.setdefault(user, {})
        if profile.get(name) == value:
            return web.json_response({})
        profile[name] = value
        # A homeserver tells every joined room: a new member event in each.
        key = {"displayname": "displayname", "avatar_url": "avatar_url"}.get(name)
        if key is not None:
            for room in self.rooms.values():
                if room.membership(user) == "join":
                    content = {**room.state[("m.room.member", user)]["content"], key: value}
                    self._store(room, user, "m.room.member", content, user)
        return web.json_response({})

    # -- handlers: rooms --------------------------------------------------------------------

    async def h_create_room(self, request: web.Request) -> web.Response:
        creator = self._caller(request)
        body = await self._body(request)
        version = str(body.get("room_version") or DEFAULT_ROOM_VERSION)
        if version not in ROOM_VERSIONS:
            raise MatrixError(400, "M_UNSUPPORTED_ROOM_VERSION", f"Room version {version}")
        alias = None
        if body.get("room_alias_name"):
            alias = f"#{body['room_alias_name']}:{self.server_name}"
            if alias in self.aliases:
                raise MatrixError(400, "M_ROOM_IN_USE", "Room alias already taken")
        room = Room(f"!{next(self.ids):010d}stub:{self.server_name}", version)
        self.rooms[room.room_id] = room
        ts = self._ts(request)
        create = {"room_version": version, **(body.get("creation_content") or {})}
        if int(version) < 11:
            create["creator"] = creator
        self._store(room, creator, "m.room.create", create, "", ts)
        profile = self.profiles.get(creator, {})
        self._store(room, creator, "m.room.member", self._member("join", profile), creator, ts)
        levels: JSONDict = {
            "users": {creator: 100},
            "users_default": 0,
            "events_default": 0,
            "state_default": 50,
            "ban": 50,
            "kick": 50,
            "redact": 50,
            "invite": 0,
            "events": {},
        }
        levels.update(body.get("power_level_content_override") or {})
        self._store(room, creator, "m.room.power_levels", levels, "", ts)
        if alias is not None:
            self.aliases[alias] = room.room_id
            self._store(room, creator, "m.room.canonical_alias", {"alias": alias}, "", ts)
        preset = body.get("preset") or (
            "public_chat" if body.get("visibility") == "public" else "private_chat"
        )
        rule = "public" if preset == "public_chat" else "invite"
        self._store(room, creator, "m.room.join_rules", {"join_rule": rule}, "", ts)
        self._store(
            room, creator, "m.room.history_visibility", {"history_visibility": "shared"}, "", ts
        )
        if preset != "public_chat":
            self._store(room, creator, "m.room.guest_access", {"guest_access": "can_join"}, "", ts)
        for event in body.get("initial_state") or []:
            key = str(event.get("state_key", ""))
            self._store(room, creator, event["type"], event.get("content") or {}, key, ts)
        if body.get("name"):
            self._store(room, creator, "m.room.name", {"name": body["name"]}, "", ts)
        if body.get("topic"):
            self._store(room, creator, "m.room.topic", {"topic": body["topic"]}, "", ts)
        for invitee in body.get("invite") or []:
            content = {"membership": "invite", "is_direct": bool(body.get("is_direct"))}
            self._store(room, creator, "m.room.member", content, invitee, ts)
        return web.json_response({"room_id": room.room_id})

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

    async def h_join(self, request: web.Request) -> web.Response:
        user = self._caller(request)
        room = self._room(request)
        if not self._may_join(room, user):
            raise forbidden(f"You are not invited to this room: {room.room_id}")
        if room.membership(user) != "join":
            body = await self._body(request)
            extra = {"reason": body["reason"]} if body.get("reason") else None
            content = self._member("join", self.profiles.get(user, {}), extra)
            self._store(room, user, "m.room.member", content, user, self._ts(request))
        return web.json_response({"room_id": room.room_id})

    def h_membership_of(self, membership: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            user = self._caller(request)
            room = self._room(request)
            if room.membership(user) != "join":
                raise forbidden(f"User {user} not in room {room.room_id}")
            body = await self._body(request)
            target = str(body.get("user_id", ""))
            if membership == "invite" and room.membership(target) == "join":
                raise forbidden(f"{target} is already in the room.")
            extra = {"reason": body["reason"]} if body.get("reason") else None
            content = self._member(membership, {}, extra)
            self._store(room, user, "m.room.member", content, target, self._ts(request))
            return web.json_response({})

        return handler

    async def h_leave(self, request: web.Request) -> web.Response:
        user = self._caller(request)
        room = self._room(request)
        if room.membership(user) in ("join", "invite"):
            self._store(room, user, "m.room.member", {"membership": "leave"}, user)
        return web.json_response({})

    async def h_state_all(self, request: web.Request) -> web.Response:
        user = self._caller(request)
        room = self._room(request)
        if room.membership(user) != "join":
            raise forbidden(f"User {user} not in room {room.room_id}")
        return web.json_response(list(room.state.values()))

    async def h_state_get(self, request: web.Request) -> web.Response:
        user = self._caller(request)
        room = self._room(request)
        if room.membership(user) != "join":
            raise forbidden(f"User {user} not in room {room.room_id}")
        key = (request.match_info["type"], request.match_info.get("key", ""))
        event = room.state.get(key)
        if event is None:
            raise not_found("Event not found.")
        return web.json_response(event["content"])

    async def h_state_put(self, request: web.Request) -> web.Response:
        user = self._caller(request)
        room = self._room(request)
        kind, key = request.match_info["type"], request.match_info.get("key", "")
        content = await self._body(request)
        if kind == "m.room.member":
            allowed = key == user or room.membership(user) == "join"
            if content.get("membership") == "join" and key == user:
                allowed = self._may_join(room, user)
        else:
            allowed = room.membership(user) == "join"
        if not allowed:
            raise forbidden(f"User {user} not in room {room.room_id}")
        event = self._store(room, user, kind, content, key, self._ts(request))
        return web.json_response({"event_id": event["event_id"]})

    async def h_send(self, request: web.Request) -> web.Response:
        user = self._caller(request)
        room = self._room(request)
        txn = (user, request.match_info["txn"])
        if txn in self.txns:
            return web.json_response({"event_id": self.txns[txn]})
        if room.membership(user) != "join":
            raise forbidden(f"User {user} not in room {room.room_id}")
        content = await self._body(request)
        event = self._store(room, user, request.match_info["type"], content, ts=self._ts(request))
        self.txns[txn] = event["event_id"]
        return web.json_response({"event_id": event["event_id"]})

    async def h_redact(self, request: web.Request) -> web.Response:
        user = self._caller(request)
        room = self._room(request)
        txn = (user, "redact/" + request.match_info["txn"])
        if txn in self.txns:
            return web.json_response({"event_id": self.txns[txn]})
        if room.membership(user) != "join":
            raise forbidden(f"User {user} not in room {room.room_id}")
        content = await self._body(request)
        redacts = request.match_info["event"]
        if int(room.version) >= 11:
            content = {**content, "redacts": redacts}
        extra = {"redacts": redacts}
        event = self._store(
            room, user, "m.room.redaction", content, ts=self._ts(request), extra=extra
        )
        self.txns[txn] = event["event_id"]
        return web.json_response({"event_id": event["event_id"]})

    async def h_event(self, request: web.Request) -> web.Response:
        self._caller(request)
        room = self._room(request)
        wanted = request.match_info["event"]
        for event in room.timeline:
            if event["event_id"] == wanted:
                return web.json_response(event)
        raise not_found("Event not found.")

    async def h_messages(self, request: web.Request) -> web.Response:
        user = self._caller(request)
        room = self._room(request)
        if room.membership(user) != "join":
            raise forbidden(f"User {user} not in room {room.room_id}")
        limit = int(request.query.get("limit", "10"))
        backwards = request.query.get("dir", "b") == "b"
        types = None
        if "filter" in request.query:
            types = json.loads(request.query["filter"]).get("types")
        events = [e for e in room.timeline if types is None or e["type"] in types]
        if backwards:
            events.reverse()
        start = int(request.query.get("from") or 0)
        chunk = events[start : start + limit]
        answer: JSONDict = {"chunk": chunk, "start": str(start)}
        if start + limit < len(events):
            answer["end"] = str(start + limit)
        return web.json_response(answer)

    async def h_joined_members(self, request: web.Request) -> web.Response:
        self._caller(request)
        room = self._room(request)
        joined = {}
        for user in room.joined():
            content = room.state[("m.room.member", user)]["content"]
            joined[user] = {
                "display_name": content.get("displayname"),
                "avatar_url": content.get("avatar_url"),
            }
        return web.json_response({"joined": joined})

    async def h_members(self, request: web.Request) -> web.Response:
        self._caller(request)
        room = self._room(request)
        chunk = [e for (kind, _), e in room.state.items() if kind == "m.room.member"]
        return web.json_response({"chunk": chunk})

    async def h_room_aliases(self, request: web.Request) -> web.Response:
        self._caller(request)
        room = self._room(request)
        found = [alias for alias, room_id in self.aliases.items() if room_id == room.room_id]
        return web.json_response({"aliases": found})

    async def h_joined_rooms(self, request: web.Request) -> web.Response:
        user = self._caller(request)
        joined = [r.room_id for r in self.rooms.values() if r.membership(user) == "join"]
        return web.json_response({"joined_rooms": joined})

    # -- handlers: room directory -----------------------------------------------------------

    async def h_alias_get(self, request: web.Request) -> web.Response:
        alias = request.match_info["alias"]
        if alias not in self.aliases:
            raise not_found(f"Room alias {alias} not found.")
        return web.json_response({"room_id": self.aliases[alias], "servers": [self.server_name]})

    def _check_alias_namespace(self, alias: str) -> None:
        if not any(p.fullmatch(alias) for p in self.alias_patterns):
            raise MatrixError(
                400, "M_EXCLUSIVE", "This application service has not reserved this kind of alias"
            )

    async def h_alias_put(self, request: web.Request) -> web.Response:
        self._caller(request)
        alias = request.match_info["alias"]
        self._check_alias_namespace(alias)
        room_id = str((await self._body(request)).get("room_id", ""))
        if room_id not in self.rooms:
            raise not_found("Unknown room")
        if alias in self.aliases:
            raise MatrixError(409, "M_UNKNOWN", f"Room alias {alias} already exists")
        self.aliases[alias] = room_id
        return web.json_response({})

    async def h_alias_delete(self, request: web.Request) -> web.Response:
        self._caller(request)
        alias = request.match_info["alias"]
        self._check_alias_namespace(alias)
        self.aliases.pop(alias, None)  # Synapse: 200 for an alias that does not exist
        return web.json_response({})

    # -- handlers: media --------------------------------------------------------------------

    async def h_upload(self, request: web.Request) -> web.Response:
        self._caller(request)
        data = await request.read()
        media_id = f"stub{next(self.ids)}"
        kind = request.headers.get("Content-Type", "application/octet-stream")
        self.media[media_id] = (data, kind)
        self.stats_data.media_bytes += len(data)
        return web.json_response({"content_uri": f"mxc://{self.server_name}/{media_id}"})

    async def h_media_config(self, request: web.Request) -> web.Response:
        return web.json_response({"m.upload.size": 100 * 1024**2})

    async def h_download(self, request: web.Request) -> web.Response:
        found = self.media.get(request.match_info["media"])
        if found is None:
            raise not_found("Not found")
        return web.Response(body=found[0], content_type=found[1].split(";")[0])


async def serve(args: argparse.Namespace) -> None:
    stub = StubHomeserver(
        Path(args.registration), server_name=args.server_name, port=args.port, push=not args.no_push
    )
    await stub.start()
    print(json.dumps({"url": stub.url, "stats_url": f"{stub.url}/_stub/stats"}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), args.max_seconds)
    finally:
        print(json.dumps(stub.stats()), flush=True)
        await stub.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registration", required=True, help="the bridge's registration.yaml")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--server-name", default="sandbox.local")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop after this long")
    parser.add_argument("--no-push", action="store_true", help="do not push transactions")
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(parser.parse_args()))

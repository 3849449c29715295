"""The client-server routes of rooms: create, membership, state, send, redact, read."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .client_api import ClientAPI
from .state import (
    DEFAULT_ROOM_VERSION,
    ROOM_VERSIONS,
    JSONDict,
    MatrixError,
    Room,
    forbidden,
    not_found,
)


class RoomAPI(ClientAPI):
    """The room handlers (membership is checked as a homeserver would)."""

    # -- local users (not the appservice's): what a Matrix client would do -------------------

    def join_as(self, room_id: str, user_id: str) -> JSONDict:
        """Join ``room_id`` as the local user ``user_id`` (registered on first use; not in
        the appservice's namespace); returns the member event (pushed like every event).
        A room restricted to rooms the user is not in (a bridged channel: the guild's space)
        is joined after joining the first public one of those, as a client would."""
        if self._in_namespace(user_id) or user_id == self.bot:
            raise forbidden(f"{user_id} belongs to the appservice")
        room = self.rooms.get(room_id)
        if room is None:
            raise not_found(f"Unknown room {room_id}")
        self.users.add(user_id)
        profile = self.profiles.setdefault(user_id, {"displayname": user_id[1:].split(":")[0]})
        if room.membership(user_id) == "join":
            return room.state[("m.room.member", user_id)]
        if not self._may_join(room, user_id):
            for allowed in room.join_rule().get("allow") or []:
                other = self.rooms.get(str(allowed.get("room_id")))
                if other is not None and other.join_rule().get("join_rule") == "public":
                    self.join_as(other.room_id, user_id)
                    break
        if not self._may_join(room, user_id):
            raise forbidden(f"{user_id} may not join {room_id}")
        return self._store(room, user_id, "m.room.member", self._member("join", profile), user_id)

    def send_as(
        self, room_id: str, user_id: str, content: JSONDict, kind: str = "m.room.message"
    ) -> JSONDict:
        """Send an event of ``kind`` with ``content`` into ``room_id`` as the joined local user
        ``user_id``; returns the stored event (``event_id``, ``origin_server_ts``...), which is
        pushed to the appservice in the next transaction (:attr:`pushed_at` says when)."""
        room = self.rooms.get(room_id)
        if room is None:
            raise not_found(f"Unknown room {room_id}")
        if room.membership(user_id) != "join":
            raise forbidden(f"User {user_id} not in room {room_id}")
        return self._store(room, user_id, kind, content)

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

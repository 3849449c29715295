"""The client-server API's plumbing (caller, room, body, ``?ts=``) and its routes for the
server, accounts, profiles, the room directory and media (the rooms' are in ``rooms``)."""

from __future__ import annotations

import json
import time

from aiohttp import web

from .state import (
    DEFAULT_ROOM_VERSION,
    ROOM_VERSIONS,
    JSONDict,
    MatrixError,
    Room,
    Store,
    forbidden,
    not_found,
)


class ClientAPI(Store):
    """Requests: who calls, which room, the JSON body; the handlers that are not rooms'."""

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

    @staticmethod
    def _ts(request: web.Request) -> int | None:
        ts = request.query.get("ts")
        return int(ts) if ts and ts.isdigit() else None

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

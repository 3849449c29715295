"""An instant homeserver for benchmarks: answers at once, from memory (not a real server).

Usage as a process: .venv/bin/python bench/stub_homeserver.py --registration REG.yaml
       [--port 0] [--server-name sandbox.local] [--max-seconds 600] [--no-push]
prints one JSON line (``url``, ``stats_url``) once it listens and serves until SIGINT/SIGTERM
or ``--max-seconds``; when it stops it prints a second JSON line, the final stats (as ``GET
/_stub/stats`` answers them), and exits 0. ``--no-push`` keeps events to itself (no
transactions to the appservice). The registration is the bridge's (``python -m bridge -c
config.yaml -g -r registration.yaml`` writes one). From Python: ``async with StubHomeserver(registration) as hs:`` then
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

Local (non-appservice) Matrix users, from Python: :meth:`StubHomeserver.join_as` (room id, user
id; registers the user, joins the guild's public space first for a restricted room) and
:meth:`StubHomeserver.send_as` (room id, user id, content, type ``m.room.message``) → the
stored event; their events are pushed like all others. ``pushed_at`` maps each pushed event's
id to the ``time.monotonic()`` its transaction was first sent, ``stored_at`` each message
event's id to when it was stored (for latency).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from .pusher import Pusher
from .rooms import RoomAPI
from .state import C, MatrixError, log


class StubHomeserver(RoomAPI, Pusher):
    """The whole homeserver, in memory. ``registration``: the appservice registration (a
    path or the loaded mapping); ``push=False`` keeps the events (nothing is pushed)."""

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


async def serve(args: argparse.Namespace) -> None:
    stub = StubHomeserver(
        Path(args.registration), server_name=args.server_name, port=args.port, push=not args.no_push
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # before the url line: a signal may follow it
        loop.add_signal_handler(sig, stop.set)
    await stub.start()
    print(json.dumps({"url": stub.url, "stats_url": f"{stub.url}/_stub/stats"}), flush=True)
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), args.max_seconds)
    finally:
        print(json.dumps(stub.stats()), flush=True)
        await stub.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registration", required=True, help="the bridge's registration.yaml")
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (0, the default: a free one)"
    )
    parser.add_argument(
        "--server-name", default="sandbox.local", help="the homeserver's server name"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=600, help="stop after this many seconds (600)"
    )
    parser.add_argument(
        "--no-push",
        action="store_true",
        help="do not push events to the appservice (no transactions)",
    )
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(parser.parse_args()))

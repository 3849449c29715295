"""A loopback proxy that makes the sandbox Synapse answer like another homeserver.

Two listeners on 127.0.0.1, both forwarding everything unchanged (method, raw path and query,
headers, body streamed both ways, status and reason) except what the
:class:`~bridge.sandbox.homeserver_profile.HomeserverProfile` changes (the differences and
their sources are listed in that module):

- the client side (``client_url``, what the bridge and test clients use as homeserver
  address) forwards to Synapse; it answers whoami as the not-yet-registered bot itself,
  rewrites ``m.room_versions`` in ``/capabilities``, refuses unlisted room versions in
  ``createRoom`` and room upgrades, and gives ``createRoom`` the profile's default version;
- the push side (``push_url``, what the registration's ``url`` points at) forwards Synapse's
  appservice pushes (``/_matrix/app/v1/…``: transactions, ping, queries) to the bridge, with
  the ephemeral events removed from transactions when the profile pushes none.

Run standalone, in front of a running homeserver::

    python -m bridge.sandbox.profile_proxy --profile conduwuit --homeserver URL \\
        --registration registration.yaml --appservice http://127.0.0.1:29334

then point ``homeserver.address`` at the printed ``client_url`` and the registration's ``url``
at ``push_url`` (restart the homeserver after changing its registration).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import socket
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from ruamel.yaml import YAML
from yarl import URL

from .homeserver_profile import PROFILES, HomeserverProfile

_CLIENT = r"^/_matrix/client/(?:v3|r0)"
WHOAMI = re.compile(_CLIENT + r"/account/whoami$")
REGISTER = re.compile(_CLIENT + r"/register$")
CAPABILITIES = re.compile(_CLIENT + r"/capabilities$")
CREATE_ROOM = re.compile(_CLIENT + r"/createRoom$")
UPGRADE_ROOM = re.compile(_CLIENT + r"/rooms/[^/]+/upgrade$")
TRANSACTION = re.compile(r"^(?:/_matrix/app/v1)?/transactions/[^/]+$")

# Hop-by-hop headers (RFC 9110 §7.6.1) and those the proxy's own connection sets.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "expect",
    }
)


def _bound_socket(port: int | None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port or 0))
    return sock


def _json_or_none(raw: object) -> Any:
    if not isinstance(raw, bytes):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _json_error(status: int, body: dict[str, Any]) -> web.Response:
    return web.json_response(body, status=status)


class ProfileProxy:
    """Synapse seen through ``profile``: ``async with ProfileProxy(...) as proxy``.

    ``homeserver_url`` is Synapse's client API (``http://127.0.0.1:PORT``), ``appservice_url``
    the bridge's appservice listener. ``as_token`` and ``bot_user_id`` (``@localpart:server``)
    identify the appservice bot, as in its registration. ``client_port``/``push_port`` are the
    ports to listen on (default: free ones). :attr:`bot_registered` is what the emulated server
    believes; :meth:`forget_bot` resets it, as for a first start.
    """

    def __init__(
        self,
        profile: HomeserverProfile,
        homeserver_url: str,
        appservice_url: str,
        *,
        as_token: str,
        bot_user_id: str,
        client_port: int | None = None,
        push_port: int | None = None,
    ) -> None:
        self.profile = profile
        self.homeserver_url = homeserver_url.rstrip("/")
        self.appservice_url = appservice_url.rstrip("/")
        self.as_token = as_token
        self.bot_user_id = bot_user_id
        self.bot_registered = False
        self._client_sock = _bound_socket(client_port)
        self._push_sock = _bound_socket(push_port)
        self._runners: list[web.AppRunner] = []
        self._session: aiohttp.ClientSession | None = None

    @property
    def client_url(self) -> str:
        """What clients use as homeserver address, e.g. ``http://127.0.0.1:40123``."""
        return f"http://127.0.0.1:{self._client_sock.getsockname()[1]}"

    @property
    def push_url(self) -> str:
        """What the registration's ``url`` must be for pushes to pass through the profile."""
        return f"http://127.0.0.1:{self._push_sock.getsockname()[1]}"

    def forget_bot(self) -> None:
        """Answer whoami as for a bot never registered (a first start on that server)."""
        self.bot_registered = False

    # Lifecycle

    async def start(self) -> None:
        """Listen on both sockets (bound since construction)."""
        self._session = aiohttp.ClientSession(
            auto_decompress=False,
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )
        for sock, handler in ((self._client_sock, self._client), (self._push_sock, self._push)):
            app = web.Application(client_max_size=1024**3)
            app.router.add_route("*", "/{tail:.*}", handler)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            self._runners.append(runner)

    async def stop(self) -> None:
        """Stop listening and close the upstream connections. Safe to call twice."""
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        for sock in (self._client_sock, self._push_sock):
            sock.close()

    async def __aenter__(self) -> ProfileProxy:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # The client side

    async def _client(self, request: web.Request) -> web.StreamResponse:
        path, method = request.path, request.method
        if method == "GET" and WHOAMI.match(path) and self._is_unregistered_bot(request):
            error = self.profile.unregistered_whoami_error()
            if error is not None:
                return _json_error(*error)
        if method == "POST" and REGISTER.match(path):
            return await self._register(request)
        if self.profile.room_versions is not None:
            if method == "GET" and CAPABILITIES.match(path):
                return await self._forward_json(request, self.homeserver_url, self._capabilities)
            if method == "POST" and CREATE_ROOM.match(path):
                return await self._room_version(request, "room_version", create=True)
            if method == "POST" and UPGRADE_ROOM.match(path):
                return await self._room_version(request, "new_version", create=False)
        return await self._forward(request, self.homeserver_url)

    def _is_unregistered_bot(self, request: web.Request) -> bool:
        authorization = request.headers.get("Authorization", "")
        token = authorization[7:] if authorization.startswith("Bearer ") else None
        token = token or request.query.get("access_token")
        user_id = request.query.get("user_id", self.bot_user_id)
        return token == self.as_token and user_id == self.bot_user_id and not self.bot_registered

    async def _register(self, request: web.Request) -> web.StreamResponse:
        """Forward a registration; note when it is (or was already) the bot's."""
        raw = await request.read()
        response = await self._forward(request, self.homeserver_url, body=raw, buffer=True)
        assert isinstance(response, web.Response)
        sent, answer = _json_or_none(raw), _json_or_none(response.body)
        bot_localpart = self.bot_user_id[1:].split(":", 1)[0]
        if (
            isinstance(sent, dict)
            and sent.get("type") == "m.login.application_service"
            and sent.get("username") == bot_localpart
            and (
                response.status == 200
                or (isinstance(answer, dict) and answer.get("errcode") == "M_USER_IN_USE")
            )
        ):
            self.bot_registered = True
        return response

    def _capabilities(self, status: int, body: Any) -> Any:
        return self.profile.capabilities(body) if status == 200 and isinstance(body, dict) else body

    async def _room_version(
        self, request: web.Request, key: str, *, create: bool
    ) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            return await self._forward(request, self.homeserver_url, body=raw)
        if not isinstance(body, dict):
            return await self._forward(request, self.homeserver_url, body=raw)
        if key in body:
            refusal = self.profile.room_version_refusal(body[key])
            if refusal is not None:
                return _json_error(*refusal)
        if create:
            body = self.profile.create_room(body)
        return await self._forward(request, self.homeserver_url, body=json.dumps(body).encode())

    # The push side

    async def _push(self, request: web.Request) -> web.StreamResponse:
        if (
            request.method == "PUT"
            and TRANSACTION.match(request.path)
            and not self.profile.pushes_ephemeral
        ):
            raw = await request.read()
            try:
                body = json.loads(raw)
            except ValueError:
                return await self._forward(request, self.appservice_url, body=raw)
            if isinstance(body, dict):
                raw = json.dumps(self.profile.transaction(body)).encode()
            return await self._forward(request, self.appservice_url, body=raw)
        return await self._forward(request, self.appservice_url)

    # Forwarding

    async def _forward_json(self, request: web.Request, base: str, rewrite: Any) -> web.Response:
        """Forward, then pass a JSON answer through ``rewrite(status, body)``."""
        response = await self._forward(request, base, buffer=True)
        assert isinstance(response, web.Response)
        body = _json_or_none(response.body)
        if body is None:
            return response
        response.body = json.dumps(rewrite(response.status, body)).encode()
        return response

    async def _forward(
        self, request: web.Request, base: str, *, body: bytes | None = None, buffer: bool = False
    ) -> web.StreamResponse:
        """Send ``request`` to ``base`` with its raw path and query; stream the answer back.

        ``body`` replaces the request's (then Content-Length is recomputed); ``buffer`` reads
        the whole answer into a :class:`web.Response` that the caller may still change. An
        unreachable upstream is answered 502 ``M_UNKNOWN`` naming it.
        """
        assert self._session is not None, "ProfileProxy.start() was not called"
        url = URL(base + request.raw_path, encoded=True)
        headers = CIMultiDict(
            (key, value) for key, value in request.headers.items() if key.lower() not in HOP_BY_HOP
        )
        if buffer:  # the caller reads the answer: ask for it uncompressed
            headers.popall("Accept-Encoding", None)
        data: Any = None
        if body is not None:
            headers.popall("Content-Length", None)
            data = body
        elif request.body_exists:
            data = request.content
        try:
            async with self._session.request(
                request.method, url, headers=headers, data=data, allow_redirects=False
            ) as upstream:
                answer_headers = CIMultiDict(
                    (key, value)
                    for key, value in upstream.headers.items()
                    if key.lower() not in HOP_BY_HOP
                )
                if buffer:
                    answer_headers.popall("Content-Length", None)
                    return web.Response(
                        status=upstream.status,
                        reason=upstream.reason,
                        headers=answer_headers,
                        body=await upstream.read(),
                    )
                response = web.StreamResponse(
                    status=upstream.status, reason=upstream.reason, headers=answer_headers
                )
                await response.prepare(request)
                async for chunk in upstream.content.iter_chunked(1 << 16):
                    await response.write(chunk)
                await response.write_eof()
                return response
        except (aiohttp.ClientConnectionError, OSError) as error:
            return _json_error(
                502,
                {
                    "errcode": "M_UNKNOWN",
                    "error": f"{self.profile.name} profile proxy: {base} unreachable: {error}",
                },
            )


async def _serve(args: argparse.Namespace) -> None:
    registration = YAML(typ="safe", pure=True).load(Path(args.registration))
    proxy = ProfileProxy(
        HomeserverProfile.named(args.profile),
        args.homeserver,
        args.appservice,
        as_token=registration["as_token"],
        bot_user_id=f"@{registration['sender_localpart']}:{args.server_name}",
        client_port=args.client_port,
        push_port=args.push_port,
    )
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    async with proxy:
        print(json.dumps({"client_url": proxy.client_url, "push_url": proxy.push_url}), flush=True)
        await stopped.wait()


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: run the proxy until SIGINT/SIGTERM, printing its two URLs as JSON."""
    parser = argparse.ArgumentParser(description="Make a homeserver answer like another one.")
    parser.add_argument("--profile", required=True, choices=sorted(PROFILES))
    parser.add_argument("--homeserver", required=True, help="the real homeserver's client URL")
    parser.add_argument("--appservice", required=True, help="the bridge's appservice URL")
    parser.add_argument("--registration", required=True, help="the bridge's registration YAML")
    parser.add_argument("--server-name", default="sandbox.local")
    parser.add_argument("--client-port", type=int, default=None)
    parser.add_argument("--push-port", type=int, default=None)
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()

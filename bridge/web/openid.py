"""Who holds a Matrix OpenID token: asked of the homeserver that issued it, cached briefly.

A Matrix client gets the token from ``POST /_matrix/client/v3/user/{userId}/openid/request_token``
(``{"access_token", "token_type", "matrix_server_name", "expires_in"}``, client-server API
§ OpenID). Anyone holding it can ask the issuing server who it belongs to with
``GET /_matrix/federation/v1/openid/userinfo?access_token=…`` (server-server API § OpenID),
which answers ``{"sub": "@user:server"}`` or 401 ``M_UNKNOWN_TOKEN``.

Where the issuing server is: this bridge's own ``homeserver.domain`` is asked at
``homeserver.address``. Another server name is resolved as the server-server API's "Resolving
server names" says, without the SRV steps (no DNS client here): an IP literal or a name with a
port is used as is; else ``https://<name>/.well-known/matrix/server`` may delegate to
``host[:port]``; the port defaults to 8448. A server with only SRV records is not found.
Only servers on which ``bridge.permissions`` could name an admin are asked at all, so a
stranger cannot make the bridge fetch from any host.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from ..permissions import Level

log = logging.getLogger("bridge.web.openid")

USERINFO_PATH = "/_matrix/federation/v1/openid/userinfo"
WELL_KNOWN_PATH = "/.well-known/matrix/server"
DEFAULT_FEDERATION_PORT = 8448  # server-server API § Resolving server names
CACHE_SECONDS = 300.0  # a verified token is trusted this long without asking again
CACHE_ENTRIES = 256
_TIMEOUT = aiohttp.ClientTimeout(total=15, sock_connect=10)
# A server name (server-server API appendix "Server Name"): DNS name, IPv4 or [IPv6], port.
_SERVER_NAME = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?::(\d{1,5}))?")
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=\-]{1,512}")


class OpenIDRefused(Exception):
    """The token does not prove an identity; ``status`` is the HTTP status to answer with
    (403: unknown token or no admin could be there, 502: the homeserver could not be asked)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class _Verified:
    mxid: str
    until: float  # time.monotonic() after which the homeserver is asked again


def admin_possible_on(server_name: str, permissions: Mapping[str, str]) -> bool:
    """Whether ``bridge.permissions`` gives ``admin`` to anyone on ``server_name``: ``"*"``,
    the server itself, or one of its users."""
    for key, level in permissions.items():
        if str(level).upper() != Level.ADMIN.name:
            continue
        if key in ("*", server_name) or (key.startswith("@") and key.endswith(":" + server_name)):
            return True
    return False


def split_server_name(server_name: str) -> tuple[str, int | None] | None:
    """(host, port or None) of a well-formed server name, else None."""
    match = _SERVER_NAME.fullmatch(server_name)
    if match is None:
        return None
    port = int(match[2]) if match[2] else None
    if port is not None and not 0 < port < 65536:
        return None
    return match[1], port


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class OpenIDVerifier:
    """Turns ``(matrix_server_name, access_token)`` into the Matrix user ID it belongs to.

    ``own_domain``/``own_address``: the bridge's ``homeserver.domain`` and ``homeserver.address``.
    """

    def __init__(self, own_domain: str, own_address: str) -> None:
        self.own_domain = own_domain
        self.own_address = own_address.rstrip("/")
        self._cache: OrderedDict[tuple[str, str], _Verified] = OrderedDict()

    async def user_of(self, server_name: str, token: str) -> str:
        """The MXID the token was issued to, on ``server_name``.

        Raises :class:`OpenIDRefused` (403) for a malformed, unknown or expired token, or an
        answer naming a user of another server; (502) when the homeserver cannot be reached.
        """
        if split_server_name(server_name) is None or _TOKEN.fullmatch(token) is None:
            raise OpenIDRefused(403, "That is not an OpenID token and server name")
        key = (server_name, token)
        cached = self._cache.get(key)
        if cached is not None and cached.until > time.monotonic():
            return cached.mxid
        self._cache.pop(key, None)
        mxid = await self._ask(server_name, token)
        self._cache[key] = _Verified(mxid, time.monotonic() + CACHE_SECONDS)
        while len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return mxid

    async def _ask(self, server_name: str, token: str) -> str:
        async with aiohttp.ClientSession(timeout=_TIMEOUT) as http:
            try:
                base = await self._base_url(http, server_name)
                async with http.get(
                    base + USERINFO_PATH, params={"access_token": token}, allow_redirects=False
                ) as response:
                    if response.status in (401, 403, 404):
                        raise OpenIDRefused(
                            403,
                            f"{server_name} does not know this OpenID token (they expire after "
                            "an hour or so): request a new one",
                        )
                    if response.status != 200:
                        raise OpenIDRefused(
                            502, f"{server_name} answered HTTP {response.status} for the token"
                        )
                    body = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                log.warning("OpenID check at %s failed: %s", server_name, error)
                raise OpenIDRefused(
                    502, f"Could not ask {server_name} about the token: {error or 'timeout'}"
                ) from error
        sub = body.get("sub") if isinstance(body, dict) else None
        if (
            not isinstance(sub, str)
            or not sub.startswith("@")
            or not sub.endswith(":" + server_name)
        ):
            raise OpenIDRefused(403, f"{server_name} answered for no user of its own: {sub!r}")
        return sub

    async def _base_url(self, http: aiohttp.ClientSession, server_name: str) -> str:
        """Where ``server_name``'s federation API is (without SRV lookups)."""
        if server_name == self.own_domain:
            return self.own_address
        parts = split_server_name(server_name)
        assert parts is not None
        host, port = parts
        if port is not None or _is_ip_literal(host):
            return f"https://{host}:{port or DEFAULT_FEDERATION_PORT}"
        delegated = await self._well_known(http, host)
        if delegated is not None:
            host, port = delegated
        return f"https://{host}:{port or DEFAULT_FEDERATION_PORT}"

    async def _well_known(
        self, http: aiohttp.ClientSession, host: str
    ) -> tuple[str, int | None] | None:
        """``m.server`` of the host's ``/.well-known/matrix/server``, or None without one."""
        try:
            async with http.get(f"https://{host}{WELL_KNOWN_PATH}") as response:
                if response.status != 200:
                    return None
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None
        delegated = body.get("m.server") if isinstance(body, dict) else None
        return split_server_name(delegated) if isinstance(delegated, str) else None

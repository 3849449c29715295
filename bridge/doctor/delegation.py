"""Doctor check 3: the server name's .well-known delegation leads to this homeserver.

Spec: client-server API "Server Discovery" (``/.well-known/matrix/client``,
``m.homeserver.base_url``, served with ``Access-Control-Allow-Origin: *`` for web clients)
and server-server API "Resolving server names" (``/.well-known/matrix/server``, ``m.server``
as ``host[:port]``, port 8448 by default; without it, ``<server name>:8448``).

"Consistent" means: the URL a file names serves the server named homeserver.domain, as
told by ``GET /_matrix/key/v2/server`` (``server_name``), or, where that is not served,
by whoami with the bridge's as_token (the user ID's domain) — asked only of the host of
homeserver.address, so that the token never goes to a host a wrong file names. A missing file
is fine only when the domain itself serves that server. A domain that does not resolve at
all skips both lines (a private homeserver needs no delegation).
"""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from ..config import Config
from .result import CheckResult

TIMEOUT = aiohttp.ClientTimeout(total=15)
CORS = "Access-Control-Allow-Origin"


@dataclass(frozen=True)
class Fetched:
    """An HTTP answer: status (0: none), body text, CORS header value, error text."""

    status: int
    text: str = ""
    cors: str | None = None
    error: str = ""


async def fetch(session: aiohttp.ClientSession, url: str, token: str | None = None) -> Fetched:
    """GET ``url`` (with a bearer ``token`` if given); never raises for network errors."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with session.get(url, headers=headers, timeout=TIMEOUT) as response:
            return Fetched(response.status, await response.text(), response.headers.get(CORS))
    except (aiohttp.ClientError, TimeoutError, OSError, UnicodeDecodeError) as error:
        return Fetched(0, error=str(error) or type(error).__name__)


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _same_host(url: str, address: str) -> bool:
    """Whether ``url`` is on the host of ``address`` (homeserver.address), the only host the
    bridge's as_token may be sent to."""
    return (urlsplit(url).hostname or "").lower() == (urlsplit(address).hostname or "").lower()


async def served_server(
    session: aiohttp.ClientSession, base: str, as_token: str, address: str
) -> str | None:
    """The server name the homeserver at ``base`` serves, or None when it answers as none.

    ``address`` is homeserver.address: whoami with ``as_token`` is asked only on its host.
    """
    keys = await fetch(session, f"{base}/_matrix/key/v2/server")
    body = _json(keys.text) if keys.status == 200 else None
    if isinstance(body, dict) and isinstance(body.get("server_name"), str):
        return str(body["server_name"])
    if not _same_host(base, address):
        return None
    whoami = await fetch(session, f"{base}/_matrix/client/v3/account/whoami", as_token)
    body = _json(whoami.text) if whoami.status == 200 else None
    if isinstance(body, dict) and ":" in str(body.get("user_id", "")):
        return str(body["user_id"]).split(":", 1)[1]
    return None


async def does_not_resolve(host: str) -> bool:
    """Whether the resolver finds no address for ``host`` (socket.gaierror: no such name, no
    address, or no DNS answer); a name that resolves gives False, whatever listens there."""
    try:
        await asyncio.get_running_loop().getaddrinfo(host, 443, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return True
    except (OSError, UnicodeError):
        return False
    return False


def _describe(server: str | None) -> str:
    return f"another server ({server})" if server else "no homeserver the bridge knows"


async def check_delegation(
    session: aiohttp.ClientSession, config: Config, well_known_base: str
) -> list[CheckResult]:
    """Two lines: the client file and the server file under ``well_known_base``.

    Both are "–" (not failures) when ``well_known_base`` is on homeserver.domain and that
    name does not resolve at all (does_not_resolve): a private or loopback homeserver without
    federation or public clients needs no delegation. A domain that resolves but serves the
    wrong thing, or refuses the connection, stays ✗.
    """
    base = well_known_base.rstrip("/")
    domain = str(config["homeserver.domain"])
    if (urlsplit(base).hostname or "").lower() == domain.lower() and await does_not_resolve(domain):
        skipped = (
            f"{domain} does not resolve: skipped (fine for a homeserver without federation or "
            "public clients; otherwise publish the domain), or check a file elsewhere with "
            "--well-known-url"
        )
        return [
            CheckResult.skip("delegation (client)", skipped),
            CheckResult.skip("delegation (server)", skipped),
        ]
    return [
        await _client(session, config, base),
        await _server(session, config, base),
    ]


async def _client(session: aiohttp.ClientSession, config: Config, base: str) -> CheckResult:
    label = "delegation (client)"
    domain, address = config["homeserver.domain"], config["homeserver.address"]
    token = config["appservice.as_token"]
    url = f"{base}/.well-known/matrix/client"
    example = '{"m.homeserver": {"base_url": "https://matrix.' + domain + '"}}'
    serve = f"serve {example} (your homeserver's public URL) at {url} with the header `{CORS}: *`"
    answer = await fetch(session, url)
    if answer.status != 200:
        found = answer.error or f"answered {answer.status}"
        if await served_server(session, base, token, address) == domain:
            return CheckResult.ok(label, f"{url} {found}; {base} serves {domain} itself")
        return CheckResult.fail(
            label, f"{url} {found}, and {base} does not serve the homeserver {domain}", serve
        )
    body = _json(answer.text)
    if not isinstance(body, dict):
        return CheckResult.fail(label, f"{url} is not valid JSON: {answer.text[:80]!r}", serve)
    homeserver = body.get("m.homeserver")
    base_url = homeserver.get("base_url") if isinstance(homeserver, dict) else None
    if not isinstance(base_url, str) or not base_url:
        return CheckResult.fail(label, f"{url} has no m.homeserver.base_url", serve)
    base_url = base_url.rstrip("/")
    versions = await fetch(session, f"{base_url}/_matrix/client/versions")
    if versions.status != 200:
        found = versions.error or f"answered {versions.status}"
        return CheckResult.fail(
            label,
            f"{url} names {base_url}, but its /_matrix/client/versions {found}",
            f"proxy {base_url}/_matrix/ to the homeserver ({address}), or {serve}",
        )
    server = await served_server(session, base_url, token, address)
    if server != domain:
        return CheckResult.fail(
            label,
            f"{url} names {base_url}, which serves {_describe(server)}, but homeserver.address "
            f"{address} serves {domain}",
            f"point base_url at the public URL of the homeserver at {address}: {serve}",
        )
    if answer.cors != "*":
        return CheckResult.fail(
            label,
            f"{url} names {base_url} (right) but lacks the header `{CORS}: *`: web clients "
            "such as Element Web cannot read it",
            f"add `{CORS}: *` to {url} in the web server",
        )
    return CheckResult.ok(label, f"{url} names {base_url}, which serves {domain}")


async def _server(session: aiohttp.ClientSession, config: Config, base: str) -> CheckResult:
    label = "delegation (server)"
    domain, address = config["homeserver.domain"], config["homeserver.address"]
    token = config["appservice.as_token"]
    url = f"{base}/.well-known/matrix/server"
    # Federation is always HTTPS; an http:// --well-known-url (a test, a local check) keeps
    # http for the server it names.
    parts = urlsplit(base)
    scheme = parts.scheme or "https"
    serve = (
        f'serve {{"m.server": "matrix.{domain}:443"}} (your homeserver\'s federation host) at {url}'
    )
    answer = await fetch(session, url)
    if answer.status != 200:
        found = answer.error or f"answered {answer.status}"
        target = f"{scheme}://{parts.hostname}:8448"
        if await served_server(session, target, token, address) == domain:
            return CheckResult.ok(label, f"{url} {found}; {target} serves {domain}")
        return CheckResult.fail(
            label,
            f"{url} {found}, and {target} does not serve {domain}: other servers cannot "
            "federate with it",
            serve,
        )
    body = _json(answer.text)
    if not isinstance(body, dict):
        return CheckResult.fail(label, f"{url} is not valid JSON: {answer.text[:80]!r}", serve)
    delegated = body.get("m.server")
    if not isinstance(delegated, str) or not delegated:
        return CheckResult.fail(label, f"{url} has no m.server", serve)
    host = delegated if urlsplit(f"//{delegated}").port else f"{delegated}:8448"
    server = await served_server(session, f"{scheme}://{host}", token, address)
    if server != domain:
        return CheckResult.fail(
            label,
            f"{url} names {delegated}, which serves {_describe(server)}, not {domain}",
            f"name the homeserver's federation host and port: {serve}",
        )
    return CheckResult.ok(label, f"{url} names {delegated}, which serves {domain}")

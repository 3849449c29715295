"""Whether appservice.address, the registration's url, can lead to the bridge's listener.

The appservice ping cannot tell which url the homeserver used: it uses the registration it
loaded, which may still hold an older appservice.address than the config's (the next ``-g``
would write the config's). So doctor checks the config itself: an appservice.address on this
host (a loopback address, or appservice.hostname) with another port than appservice.port
reaches the bridge only through a forwarding proxy there; doctor sends that url the
homeserver's ping (POST /_matrix/app/v1/ping with the hs_token, spec: application service
API "Pinging") and reports the address when the bridge (or doctor's stand-in) does not answer.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import aiohttp

from ..config import Config

TIMEOUT = aiohttp.ClientTimeout(total=5)
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_this_host(host: str, listen_host: str) -> bool:
    """Whether ``host`` (from appservice.address) names this machine as the bridge sees it:
    a loopback name or address (localhost, 127.0.0.0/8, ::1) or ``listen_host`` itself
    (appservice.hostname), compared without case."""
    host = host.lower().strip("[]")
    if host == "localhost" or host == listen_host.lower().strip("[]"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def other_local_port(address: str, listen_host: str, listen_port: int) -> int | None:
    """The port of ``address`` (appservice.address) when it is on this host (is_this_host)
    and differs from ``listen_port`` (appservice.port); None otherwise. A url without a port
    has its scheme's (80 for http, 443 for https)."""
    parts = urlsplit(address)
    if not parts.hostname or not is_this_host(parts.hostname, listen_host):
        return None
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    return port if port is not None and port != listen_port else None


async def _reaches_bridge(session: aiohttp.ClientSession, address: str, hs_token: str) -> bool:
    """Whether POST ``address``/_matrix/app/v1/ping with ``hs_token`` is answered 200."""
    url = f"{address.rstrip('/')}/_matrix/app/v1/ping"
    headers = {"Authorization": f"Bearer {hs_token}"}
    try:
        async with session.post(url, json={}, headers=headers, timeout=TIMEOUT) as response:
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError, OSError):
        return False


async def address_mismatch(session: aiohttp.ClientSession, config: Config) -> str | None:
    """The problem with appservice.address, for people, or None when there is none to see.

    Call it while the bridge or doctor's stand-in listens on appservice.hostname:port: an
    address on another local port passes when what listens there forwards the ping (a proxy).
    """
    address = str(config["appservice.address"])
    listen_port = int(config["appservice.port"])
    port = other_local_port(address, str(config["appservice.hostname"]), listen_port)
    if port is None or await _reaches_bridge(session, address, config["appservice.hs_token"]):
        return None
    return (
        f"appservice.address {address} points at port {port} but the bridge listens on "
        f"appservice.port {listen_port} (and nothing at {address} passes the appservice ping "
        "on to it): a registration with this url (the next -g writes it) cannot reach the "
        "bridge"
    )


def address_fix(config: Config) -> str:
    """What to do about address_mismatch's problem, naming the keys."""
    return (
        f"set appservice.address to the bridge's port {config['appservice.port']} (or make "
        "appservice.port the port appservice.address names), then regenerate the "
        "registration with -g and reload it on the homeserver"
    )

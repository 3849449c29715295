"""Recognising an ``https://`` homeserver.address that points at a plain-HTTP homeserver.

Without this, the mistake costs a long wait and a vague error: Synapse (Twisted) reads the
TLS ClientHello as the start of an HTTP request and waits for the rest, so the client's
handshake hangs until aiohttp's 30 s connect timeout; other servers answer the ClientHello
with a plain-HTTP error, which OpenSSL reports as "wrong version number". The probe does a
TLS handshake with a short timeout and, if it fails that way, asks the same host and port
over plain HTTP for /_matrix/client/versions (client-server API, "GET
/_matrix/client/versions"): a Matrix answer there proves the mix-up.
"""

from __future__ import annotations

import asyncio
import ssl
from contextlib import suppress
from urllib.parse import urlsplit

import aiohttp

# Seconds for the TLS handshake and for the plain-HTTP question.
HANDSHAKE_TIMEOUT = 3.0
PLAIN_TIMEOUT = 3.0


def _plain_http_error(error: BaseException) -> bool:
    """Whether a TLS failure looks like a server speaking plain HTTP (no TLS at all)."""
    if isinstance(error, ssl.SSLError) and not isinstance(error, ssl.SSLEOFError):
        return "wrong version number" in str(error).lower()
    # The handshake hanging (Twisted), or the server closing on the ClientHello.
    return isinstance(
        error,
        TimeoutError
        | ConnectionAbortedError  # asyncio: "SSL handshake is taking longer than ..."
        | asyncio.IncompleteReadError
        | ConnectionResetError
        | ssl.SSLEOFError,
    )


async def _handshake_fails_like_plain_http(host: str, port: int) -> bool:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only "is TLS spoken?"; the real request verifies
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(
                host, port, ssl=context, ssl_handshake_timeout=HANDSHAKE_TIMEOUT
            ),
            HANDSHAKE_TIMEOUT + 1,
        )
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
        return _plain_http_error(error)
    writer.close()
    with suppress(OSError, ssl.SSLError):
        await writer.wait_closed()
    return False


async def _answers_matrix_over_http(host: str, port: int) -> bool:
    url = f"http://{host}:{port}/_matrix/client/versions"
    timeout = aiohttp.ClientTimeout(total=PLAIN_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, allow_redirects=False) as response,
        ):
            if response.status != 200:
                return False
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False
    return isinstance(body, dict) and "versions" in body


async def plain_http_behind_https(address: str) -> str | None:
    """A message when ``address`` (homeserver.address) is https:// but the server there
    speaks plain HTTP; None otherwise (http:// addresses, TLS servers, nothing listening).

    Takes at most HANDSHAKE_TIMEOUT + PLAIN_TIMEOUT seconds (about 1 ms for a TLS server).
    """
    parts = urlsplit(address)
    if parts.scheme != "https" or not parts.hostname:
        return None
    try:
        port = parts.port or 443
    except ValueError:
        return None
    host = parts.hostname
    if not await _handshake_fails_like_plain_http(host, port):
        return None
    if not await _answers_matrix_over_http(host, port):
        return None
    plain = address.replace("https://", "http://", 1).rstrip("/")
    return (
        f"homeserver.address is {address}, but the homeserver at {host}:{port} speaks plain "
        f"HTTP, not HTTPS (its TLS handshake failed; {plain}/_matrix/client/versions "
        f"answers). Set homeserver.address to {plain}, or to the HTTPS address of the reverse "
        "proxy in front of it."
    )

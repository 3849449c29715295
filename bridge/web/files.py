"""Matrix files too large for Discord, linked instead: served through signed public URLs.

Discord refuses uploads over the guild's limit, so such a file reaches Discord as a link. The
homeserver's media needs an access token (authenticated media), so the bridge serves the file
itself, streaming it from the homeserver with its bot's token. Only files the bridge linked
are served: each URL carries an HMAC of the ``mxc://`` URI and the file name under a secret
only the bridge knows. Files are always served as downloads, never shown by a browser.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web
from mautrix.appservice import IntentAPI

from .avatars import SIGNATURE_LENGTH, BotSource, homeserver_download, split_mxc

log = logging.getLogger("bridge.web.files")

PREFIX = "/_discord_bridge/file"
ROUTE = PREFIX + "/{signature}/{server}/{media_id}/{filename}"
CACHE_CONTROL = "public, max-age=31536000, immutable"  # an mxc URI's content never changes
_CHUNK = 64 * 1024
# No total limit (large files take long); a stalled homeserver still ends the download.
_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=15, sock_read=60)


def file_secret(config: Any) -> bytes:
    """The key of the link signatures: stable across restarts, unknown outside the bridge,
    and not the avatar proxy's (a signed avatar URL is no file link, and the reverse)."""
    hs_token = str(config["appservice.hs_token"])
    return hmac.new(hs_token.encode(), b"discord-bridge file links v1", hashlib.sha256).digest()


def sign(secret: bytes, mxc: str, filename: str) -> str:
    message = f"{mxc}\n{filename}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:SIGNATURE_LENGTH]


class FileLinks:
    """Signed public URLs for Matrix files, and the web route that serves them."""

    def __init__(self, public_address: str, secret: bytes, bot: BotSource) -> None:
        """``bot`` may be a function returning the intent: the route must be added before the
        appservice starts, and its intent only exists once it has."""
        self.public_address = (public_address or "").rstrip("/")
        self.secret = secret
        self._bot = bot

    def url_for(self, mxc: str, filename: str) -> str | None:
        """The file's public URL, or None (no public address, or not an mxc URI)."""
        parts = split_mxc(mxc)
        if not self.public_address or parts is None:
            return None
        server, media_id = parts
        name = quote(filename or "file", safe="")
        signature = sign(self.secret, mxc, filename or "file")
        return f"{self.public_address}{PREFIX}/{signature}/{server}/{media_id}/{name}"

    def add_routes(self, app: web.Application) -> None:
        """Must run before the app's runner is set up (aiohttp then freezes the router)."""
        app.router.add_get(ROUTE, self._serve)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        mxc, filename = f"mxc://{info['server']}/{info['media_id']}", info["filename"]
        if split_mxc(mxc) is None or not hmac.compare_digest(
            info["signature"].lower(), sign(self.secret, mxc, filename)
        ):
            raise web.HTTPNotFound()
        bot = self._bot if isinstance(self._bot, IntentAPI) else self._bot()
        response: web.StreamResponse | None = None
        try:
            async with homeserver_download(bot, mxc, _TIMEOUT) as upstream:
                if upstream.status == 404:
                    return web.Response(status=404, text="The homeserver has no such file")
                if upstream.status != 200:
                    log.info("Not serving %s: the homeserver answered %s", mxc, upstream.status)
                    return web.Response(status=502, text="The homeserver refused the file")
                response = web.StreamResponse(headers=_download_headers(filename))
                if upstream.content_length is not None:
                    response.content_length = upstream.content_length
                await response.prepare(request)
                async for chunk in upstream.content.iter_chunked(_CHUNK):
                    await response.write(chunk)
                await response.write_eof()
                return response
        except (TimeoutError, aiohttp.ClientError) as error:
            log.info("Serving %s failed: %r", mxc, error)
            if response is not None:
                raise  # mid-download: the connection is cut, the client sees it incomplete
            return web.Response(status=502, text="Downloading from the homeserver failed")


def _download_headers(filename: str) -> dict[str, str]:
    return {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }

"""Matrix users' avatars, served publicly so that Discord can show them on webhook messages.

Discord fetches a webhook message's ``avatar_url`` itself, and Matrix media needs an access token
(authenticated media), so the bridge fetches the file with its bot's token and serves it. Only
avatars the bridge chose to publish are served: each URL carries an HMAC of the ``mxc://`` URI
under a secret only the bridge knows, so the proxy cannot be used to read arbitrary media.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web
from mautrix.appservice import IntentAPI
from mautrix.types import ContentURI, SpecVersions

from ..locks import KeyedLocks

log = logging.getLogger("bridge.web.avatars")

PREFIX = "/_discord_bridge/avatar"
ROUTE = PREFIX + "/{signature}/{server}/{media_id}"
SIGNATURE_LENGTH = 32  # hex digits: 128 bits
# mxc://<server name>/<media id>, with the characters the spec allows in each.
_MXC = re.compile(r"mxc://([A-Za-z0-9.\-:\[\]]+)/([A-Za-z0-9_\-]+)")
# Images Discord shows as avatars; nothing a browser could run (no SVG, no HTML).
SERVED_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"})
CACHE_CONTROL = "public, max-age=31536000, immutable"  # an mxc URI's content never changes
CACHE_ENTRIES = 256
CACHE_BYTES = 32 * 1024 * 1024
_CHUNK = 64 * 1024
_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=15, sock_read=30)

BotSource = IntentAPI | Callable[[], IntentAPI]


class AvatarFetchError(Exception):
    """The avatar could not be served; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def avatar_secret(config: Any) -> bytes:
    """The key of the URL signatures, derived from the appservice's ``hs_token``: stable across
    restarts (URLs Discord cached keep working) and unknown to anyone outside the bridge."""
    hs_token = str(config["appservice.hs_token"])
    return hmac.new(hs_token.encode(), b"discord-bridge avatar proxy v1", hashlib.sha256).digest()


def split_mxc(mxc: str) -> tuple[str, str] | None:
    """(server, media id) of a well-formed ``mxc://`` URI, else None."""
    match = _MXC.fullmatch(mxc)
    return (match[1], match[2]) if match else None


@asynccontextmanager
async def homeserver_download(
    bot: IntentAPI, mxc: str, timeout: aiohttp.ClientTimeout
) -> AsyncIterator[aiohttp.ClientResponse]:
    """The homeserver's answer for a file, fetched as the bridge bot the way mautrix's
    ``download_media`` does (authenticated media when the homeserver has it), for the caller
    to check and stream."""
    authenticated = bool((await bot.versions()).supports(SpecVersions.V111))
    url = bot.api.get_download_url(ContentURI(mxc), authenticated=authenticated)
    params = {"allow_redirect": "true"}
    headers = {}
    if authenticated:
        headers["Authorization"] = f"Bearer {bot.api.token}"
        if bot.api.as_user_id:
            params["user_id"] = bot.api.as_user_id
    async with bot.api.session.get(
        url, params=params, headers=headers, timeout=timeout
    ) as response:
        yield response


def sign(secret: bytes, mxc: str) -> str:
    return hmac.new(secret, mxc.encode(), hashlib.sha256).hexdigest()[:SIGNATURE_LENGTH]


class AvatarProxy:
    """Signed public URLs for Matrix avatars, and the web route that serves them."""

    def __init__(self, public_address: str, secret: bytes, bot: BotSource, max_size: int) -> None:
        """``bot`` may be a function returning the intent: the routes must be added before the
        appservice starts, and its intent only exists once it has."""
        self.public_address = (public_address or "").rstrip("/")
        self.secret = secret
        self._bot = bot
        self.max_size = max_size
        self._cache: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._cache_bytes = 0
        self._locks = KeyedLocks()

    @property
    def bot(self) -> IntentAPI:
        return self._bot if isinstance(self._bot, IntentAPI) else self._bot()

    def url_for(self, mxc: str | None) -> str | None:
        """The public URL of an avatar, or None (no public address, no avatar, not an mxc)."""
        if not self.public_address or not mxc:
            return None
        parts = split_mxc(mxc)
        if parts is None:
            return None
        server, media_id = parts
        return f"{self.public_address}{PREFIX}/{sign(self.secret, mxc)}/{server}/{media_id}"

    def add_routes(self, app: web.Application) -> None:
        """Must run before the app's runner is set up (aiohttp then freezes the router)."""
        app.router.add_get(ROUTE, self._serve)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        info = request.match_info
        mxc = f"mxc://{info['server']}/{info['media_id']}"
        if split_mxc(mxc) is None or not hmac.compare_digest(
            info["signature"].lower(), sign(self.secret, mxc)
        ):
            raise web.HTTPNotFound()
        try:
            data, content_type = await self._get(mxc)
        except AvatarFetchError as error:
            log.info("Not serving avatar %s: %s", mxc, error)
            return web.Response(status=error.status, text=str(error))
        return web.Response(
            body=data,
            content_type=content_type,
            headers={
                "Cache-Control": CACHE_CONTROL,
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )

    async def _get(self, mxc: str) -> tuple[bytes, str]:
        """The avatar from the cache, else from the homeserver (one download per file at once)."""
        if mxc in self._cache:
            self._cache.move_to_end(mxc)
            return self._cache[mxc]
        async with self._locks(mxc):
            if mxc in self._cache:
                return self._cache[mxc]
            entry = await self._download(mxc)
            self._remember(mxc, entry)
            return entry

    def _remember(self, mxc: str, entry: tuple[bytes, str]) -> None:
        size = len(entry[0])
        if size > CACHE_BYTES // 8:
            return
        self._cache[mxc] = entry
        self._cache_bytes += size
        while len(self._cache) > CACHE_ENTRIES or self._cache_bytes > CACHE_BYTES:
            _, (old, _type) = self._cache.popitem(last=False)
            self._cache_bytes -= len(old)

    async def _download(self, mxc: str) -> tuple[bytes, str]:
        """Fetch with the bot's token, as mautrix's ``download_media`` does, but streaming within
        the size limit and keeping the content type."""
        try:
            async with homeserver_download(self.bot, mxc, _TIMEOUT) as response:
                if response.status == 404:
                    raise AvatarFetchError(404, "The homeserver has no such file")
                if response.status != 200:
                    raise AvatarFetchError(502, f"The homeserver answered HTTP {response.status}")
                content_type = (response.content_type or "").lower()
                if content_type not in SERVED_TYPES:
                    raise AvatarFetchError(502, f"Not an image Discord can show: {content_type}")
                if response.content_length and response.content_length > self.max_size:
                    raise self._too_big()
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.content.iter_chunked(_CHUNK):
                    size += len(chunk)
                    if size > self.max_size:
                        raise self._too_big()
                    chunks.append(chunk)
                return b"".join(chunks), content_type
        except (TimeoutError, aiohttp.ClientError) as error:
            raise AvatarFetchError(502, f"Downloading failed: {error!r}") from error

    def _too_big(self) -> AvatarFetchError:
        return AvatarFetchError(502, f"Larger than the limit of {self.max_size} bytes")

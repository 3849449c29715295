"""Discord media → the Matrix media repository, each file uploaded once.

Files are fetched only from Discord's media hosts (and the configured CDN), within the size
limit, and remembered in ``media_cache`` under a key that survives URL signature changes.
"""

from __future__ import annotations

import logging
import mimetypes
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp
from mautrix.appservice import IntentAPI

from ..convert.d2m.puppet import media_source_key
from ..db.rows import MediaRow
from ..db.tables import BridgeTables
from ..locks import KeyedLocks

log = logging.getLogger("bridge.media")

DISCORD_MEDIA_HOSTS = frozenset({"cdn.discordapp.com", "media.discordapp.net"})
_CHUNK = 64 * 1024
_TIMEOUT = aiohttp.ClientTimeout(total=300, sock_connect=15, sock_read=60)
# Cache rows recently used, in memory: the same custom emoji or avatar comes again and again.
_REMEMBERED = 4096


class MediaError(Exception):
    """A file could not be bridged; the message says which and why."""


def _netloc(host: str, port: int | None) -> str:
    return f"{host}:{port}" if port is not None else host


def allowed_media_hosts(config: Any) -> frozenset[str]:
    """Discord's media hosts plus the configured CDN's (host, or host:port when explicit)."""
    cdn = urlsplit(str(config["discord.cdn_url"]))
    hosts = set(DISCORD_MEDIA_HOSTS)
    if cdn.hostname:
        hosts.add(_netloc(cdn.hostname.lower(), cdn.port))
    return frozenset(hosts)


def _filename_of(url: str) -> str | None:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return name or None


class MediaRepo:
    """Downloads Discord media and uploads it to Matrix once per file."""

    def __init__(
        self,
        tables: BridgeTables,
        allowed_hosts: frozenset[str],
        max_size: int,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.tables = tables
        self.allowed_hosts = allowed_hosts
        self.max_size = max_size
        self._session = session
        self._own_session = session is None
        self._locks = KeyedLocks()
        self._recent: OrderedDict[str, MediaRow] = OrderedDict()
        # Folders whose files may be uploaded by path: the exports an import reads (--media).
        self.local_roots: tuple[Path, ...] = ()

    def local_file(self, url: str) -> Path | None:
        """The file an absolute path names, when it lies in one of ``local_roots``."""
        if not url.startswith("/") or not self.local_roots:
            return None
        path = Path(url).resolve()
        if path.is_file() and any(path.is_relative_to(root) for root in self.local_roots):
            return path
        return None

    def check_url(self, url: str) -> None:
        """Refuse anything but http(s) from an allowed host: the bridge must not be made to
        fetch internal addresses for whoever posts a link."""
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError as error:
            raise MediaError(f"{url} is not a valid URL") from error
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise MediaError(f"{url} is not a Discord media host URL")
        if _netloc(host, port) not in self.allowed_hosts and host not in self.allowed_hosts:
            raise MediaError(f"{host} is not a Discord media host")

    async def upload_from_url(
        self,
        url: str,
        intent: IntentAPI,
        *,
        filename: str | None = None,
        source_key: str | None = None,
    ) -> MediaRow:
        """The media-repository copy of a Discord file, uploading it if it is new.

        ``source_key`` replaces the URL-derived cache key when the caller knows a better
        identity of the content (an avatar hash shared by several paths).
        """
        local = self.local_file(url)
        if local is None:
            self.check_url(url)
        key = source_key or (f"file:{local}" if local else media_source_key(url))
        if key in self._recent:
            return self._remember(self._recent[key])
        async with self._locks(key):
            cached = await self.tables.media.get(key)
            if cached:
                return self._remember(cached)
            if local is not None:
                data, content_type = self._read_local(local), None
            else:
                data, content_type = await self._download(url)
            name = filename or _filename_of(url)
            mimetype = _mimetype(content_type, name)
            mxc = await intent.upload_media(data, mime_type=mimetype, filename=name, size=len(data))
            row = MediaRow(source_key=key, mxc=str(mxc), mimetype=mimetype, size=len(data))
            await self.tables.media.upsert(row)
            log.debug("Uploaded %s (%d bytes) as %s", key, len(data), mxc)
            return self._remember(row)

    def _remember(self, row: MediaRow) -> MediaRow:
        """Keep the row among the most recently used ones (the rows never change)."""
        self._recent[row.source_key] = row
        self._recent.move_to_end(row.source_key)
        if len(self._recent) > _REMEMBERED:
            self._recent.popitem(last=False)
        return row

    async def _download(self, url: str) -> tuple[bytes, str | None]:
        """Stream the file, stopping as soon as it exceeds the limit."""
        session = await self._get_session()
        try:
            # No redirects: a redirect could lead to a host that is not allowed.
            async with session.get(url, allow_redirects=False, timeout=_TIMEOUT) as response:
                if response.status != 200:
                    raise MediaError(f"Downloading {url} failed: HTTP {response.status}")
                if response.content_length and response.content_length > self.max_size:
                    raise self._too_big(url, response.content_length)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.content.iter_chunked(_CHUNK):
                    size += len(chunk)
                    if size > self.max_size:
                        raise self._too_big(url, None)
                    chunks.append(chunk)
                return b"".join(chunks), response.headers.get("Content-Type")
        except (TimeoutError, aiohttp.ClientError) as error:
            raise MediaError(
                f"Downloading {url} failed: {error or type(error).__name__}"
            ) from error

    def _read_local(self, path: Path) -> bytes:
        size = path.stat().st_size
        if size > self.max_size:
            raise self._too_big(str(path), size)
        return path.read_bytes()

    def _too_big(self, url: str, size: int | None) -> MediaError:
        actual = f" ({size} bytes)" if size is not None else ""
        return MediaError(
            f"{url} is larger than the limit of {self.max_size} bytes{actual} "
            "(bridge.limits.max_file_size)"
        )

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def close(self) -> None:
        """Close the HTTP session if this repo opened it."""
        if self._own_session and self._session and not self._session.closed:
            await self._session.close()


def _mimetype(content_type: str | None, filename: str | None) -> str:
    """The server's type unless it says nothing useful; else a guess from the name."""
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    guessed = mimetypes.guess_type(filename)[0] if filename else None
    return guessed or declared or "application/octet-stream"

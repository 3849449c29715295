"""The CDN: attachments, avatars, guild avatars, icons, emoji, stickers and default avatars,
served from bytes kept in the store, at Discord's paths."""

from __future__ import annotations

import struct
import zlib
from functools import cache

from aiohttp import web

from .appkeys import EMULATOR
from .store import Store


def add_cdn_routes(app: web.Application) -> None:
    app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", _attachment)
    app.router.add_get(
        "/ephemeral-attachments/{channel_id}/{attachment_id}/{filename}", _attachment
    )
    app.router.add_get("/avatars/{user_id}/{file}", _blob)
    app.router.add_get("/banners/{user_id}/{file}", _blob)
    app.router.add_get("/icons/{guild_id}/{file}", _blob)
    app.router.add_get("/splashes/{guild_id}/{file}", _blob)
    app.router.add_get("/guilds/{guild_id}/users/{user_id}/avatars/{file}", _blob)
    app.router.add_get("/emojis/{file}", _emoji)
    app.router.add_get("/stickers/{file}", _sticker)
    app.router.add_get("/embed/avatars/{file}", _default_avatar)


def _store(request: web.Request) -> Store:
    return request.app[EMULATOR].store


def _stem(filename: str) -> str:
    return filename.rsplit(".", 1)[0]


async def _attachment(request: web.Request) -> web.Response:
    store = _store(request)
    att_id = request.match_info["attachment_id"]
    found = store.attachments.get(int(att_id)) if att_id.isdigit() else None
    if found is None or str(found[0]) != request.match_info["channel_id"]:
        raise web.HTTPNotFound()
    att = found[1]
    return web.Response(body=att.data, content_type=att.content_type or "application/octet-stream")


async def _blob(request: web.Request) -> web.Response:
    blob = _store(request).blobs.get(_stem(request.match_info["file"]))
    if blob is None:
        raise web.HTTPNotFound()
    return web.Response(body=blob.data, content_type=blob.content_type)


async def _emoji(request: web.Request) -> web.Response:
    stem = _stem(request.match_info["file"])
    emoji = _store(request).find_emoji(int(stem)) if stem.isdigit() else None
    if emoji is None:
        raise web.HTTPNotFound()
    return web.Response(body=emoji.data, content_type=emoji.content_type)


async def _sticker(request: web.Request) -> web.Response:
    stem = _stem(request.match_info["file"])
    sticker = _store(request).find_sticker(int(stem)) if stem.isdigit() else None
    if sticker is None:
        raise web.HTTPNotFound()
    content_type = {1: "image/png", 2: "image/png", 3: "application/json", 4: "image/gif"}
    return web.Response(
        body=sticker.data, content_type=content_type.get(sticker.format_type, "image/png")
    )


#: Discord's six default avatar colours.
_DEFAULT_COLOURS = [
    (0x58, 0x65, 0xF2),
    (0x75, 0x7E, 0x8A),
    (0x3B, 0xA5, 0x5C),
    (0xFA, 0xA6, 0x1A),
    (0xED, 0x42, 0x45),
    (0xEB, 0x45, 0x9F),
]


async def _default_avatar(request: web.Request) -> web.Response:
    stem = _stem(request.match_info["file"])
    if not stem.isdigit() or int(stem) >= len(_DEFAULT_COLOURS):
        raise web.HTTPNotFound()
    return web.Response(body=solid_png(*_DEFAULT_COLOURS[int(stem)]), content_type="image/png")


@cache
def solid_png(red: int, green: int, blue: int, size: int = 16) -> bytes:
    """A small one-colour PNG (for default avatars and test images)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes((red, green, blue)) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )

"""Guild emoji and stickers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import BodyPartReader, web

from .. import errors, payloads
from .. import permissions as perms
from .common import (
    bot_of,
    json_response,
    no_content,
    read_json,
    require,
    snowflake_param,
    store_of,
)
from .guilds import _guild_id
from .users import decode_image


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/guilds/{guild_id}/emojis", list_emojis)
    router.add_post("/guilds/{guild_id}/emojis", create_emoji)
    router.add_get("/guilds/{guild_id}/emojis/{emoji_id}", get_emoji)
    router.add_patch("/guilds/{guild_id}/emojis/{emoji_id}", patch_emoji)
    router.add_delete("/guilds/{guild_id}/emojis/{emoji_id}", delete_emoji)
    router.add_get("/guilds/{guild_id}/stickers", list_stickers)
    router.add_post("/guilds/{guild_id}/stickers", create_sticker)
    router.add_get("/guilds/{guild_id}/stickers/{sticker_id}", get_sticker)
    router.add_patch("/guilds/{guild_id}/stickers/{sticker_id}", patch_sticker)
    router.add_delete("/guilds/{guild_id}/stickers/{sticker_id}", delete_sticker)


def _emoji_id(request: web.Request) -> int:
    return snowflake_param(request, "emoji_id", errors.UNKNOWN_EMOJI)


def _sticker_id(request: web.Request) -> int:
    return snowflake_param(request, "sticker_id", errors.UNKNOWN_STICKER)


async def list_emojis(request: web.Request) -> web.Response:
    store = store_of(request)
    guild = store.get_guild(_guild_id(request))
    return json_response([payloads.emoji(store, e, with_user=True) for e in guild.emojis.values()])


async def get_emoji(request: web.Request) -> web.Response:
    store = store_of(request)
    emoji = store.get_emoji(_guild_id(request), _emoji_id(request))
    return json_response(payloads.emoji(store, emoji, with_user=True))


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not 2 <= len(name) <= 32:
        raise errors.field_error(
            "name", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 32 in length."
        )
    return name


async def create_emoji(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.CREATE_GUILD_EXPRESSIONS, guild_id)
    body = await read_json(request)
    image = decode_image(body.get("image"))
    if not image:
        raise errors.field_error("image", "BASE_TYPE_REQUIRED", "This field is required")
    emoji = store.create_emoji(
        guild_id,
        _check_name(body.get("name")),
        image,
        user_id=bot_of(request).id,
        roles=[int(r) for r in body.get("roles") or []],
    )
    return json_response(payloads.emoji(store, emoji, with_user=True), 201)


async def patch_emoji(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.MANAGE_GUILD_EXPRESSIONS, guild_id)
    body = await read_json(request)
    fields: dict[str, Any] = {}
    if "name" in body:
        fields["name"] = _check_name(body["name"])
    if "roles" in body:
        fields["roles"] = [int(r) for r in body["roles"] or []]
    emoji = store.update_emoji(guild_id, _emoji_id(request), **fields)
    return json_response(payloads.emoji(store, emoji, with_user=True))


async def delete_emoji(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.MANAGE_GUILD_EXPRESSIONS, guild_id)
    store.delete_emoji(guild_id, _emoji_id(request))
    return no_content()


async def list_stickers(request: web.Request) -> web.Response:
    store = store_of(request)
    guild = store.get_guild(_guild_id(request))
    return json_response(
        [payloads.sticker(store, s, with_user=True) for s in guild.stickers.values()]
    )


async def get_sticker(request: web.Request) -> web.Response:
    store = store_of(request)
    sticker = store.get_sticker(_guild_id(request), _sticker_id(request))
    return json_response(payloads.sticker(store, sticker, with_user=True))


async def create_sticker(request: web.Request) -> web.Response:
    """Multipart: ``name``, ``tags``, ``description`` and ``file``."""
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.CREATE_GUILD_EXPRESSIONS, guild_id)
    fields: dict[str, str] = {}
    data = b""
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader):
            if part.name == "file":
                data = bytes(await part.read(decode=False))
            elif part.name == "payload_json":
                fields.update(json.loads(await part.text()))
            elif part.name:
                fields[part.name] = await part.text()
    if not data:
        raise errors.field_error("file", "BASE_TYPE_REQUIRED", "This field is required")
    sticker = store.create_sticker(
        guild_id,
        _check_name(fields.get("name")),
        data,
        tags=fields.get("tags", ""),
        description=fields.get("description") or None,
        user_id=bot_of(request).id,
    )
    return json_response(payloads.sticker(store, sticker, with_user=True), 201)


async def patch_sticker(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.MANAGE_GUILD_EXPRESSIONS, guild_id)
    body = await read_json(request)
    fields = {k: body[k] for k in ("name", "tags", "description") if k in body}
    sticker = store.update_sticker(guild_id, _sticker_id(request), **fields)
    return json_response(payloads.sticker(store, sticker, with_user=True))


async def delete_sticker(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.MANAGE_GUILD_EXPRESSIONS, guild_id)
    store.delete_sticker(guild_id, _sticker_id(request))
    return no_content()

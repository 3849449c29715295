"""Helpers shared by the REST route modules: JSON in and out, auth, multipart, permissions."""

from __future__ import annotations

import json
import mimetypes
from typing import Any

from aiohttp import BodyPartReader, web

from .. import errors
from .. import permissions as perms
from ..appkeys import EMULATOR
from ..store import Attachment, Store, User

#: Set by the auth middleware: the bot user the request is authenticated as.
BOT_USER: web.RequestKey[User] = web.RequestKey("discord_bot_user")


def json_response(data: Any, status: int = 200) -> web.Response:
    """JSON with ``Content-Type: application/json`` exactly (discord.py insists on it)."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        status=status,
        headers={"Content-Type": "application/json"},
    )


def no_content() -> web.Response:
    return web.Response(status=204)


def store_of(request: web.Request) -> Store:
    return request.config_dict[EMULATOR].store


def bot_of(request: web.Request) -> User:
    """The authenticated bot (401 if the route was reached without one)."""
    user = request.get(BOT_USER)
    if user is None:
        raise errors.unauthorized()
    return user


def snowflake_param(request: web.Request, name: str, unknown: tuple[int, str]) -> int:
    value = request.match_info[name]
    if not value.isdigit():
        raise errors.not_found(unknown)
    return int(value)


def user_id_param(request: web.Request, unknown: tuple[int, str] = errors.UNKNOWN_USER) -> int:
    """The route's ``{user_id}``; 404 ``unknown`` if it is not a snowflake."""
    return snowflake_param(request, "user_id", unknown)


def _decode_json(raw: bytes, expected: type, code: str, message: str) -> Any:
    """``raw`` parsed; 400 50109 if it is not JSON, Invalid Form Body if not ``expected``."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise errors.bad_request(50109, "The request body contains invalid JSON.") from None
    if not isinstance(data, expected):
        raise errors.invalid_form({"_errors": [{"code": code, "message": message}]})
    return data


async def read_json(request: web.Request) -> dict[str, Any]:
    """The JSON body as a dict ({} when empty); 400 50109 if it is not JSON."""
    if not request.can_read_body:
        return {}
    raw = await request.read()
    if not raw:
        return {}
    data: dict[str, Any] = _decode_json(
        raw, dict, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
    )
    return data


async def read_json_list(request: web.Request) -> list[Any]:
    raw = await request.read()
    data: list[Any] = _decode_json(
        raw or b"[]", list, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"
    )
    return data


async def read_payload(request: web.Request) -> tuple[dict[str, Any], list[Attachment]]:
    """A message body: JSON, or multipart with ``payload_json`` and ``files[n]``.

    Files become attachments (ids from ``attachments[].id`` = n mapping to ``files[n]``,
    descriptions kept). Files over the store's ``max_file_size`` are 413 / 40005.
    """
    store = store_of(request)
    if not (request.content_type or "").startswith("multipart/"):
        return await read_json(request), []
    payload: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes, str | None]] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        name = part.name or ""
        data = await part.read(decode=False)
        if name == "payload_json":
            payload = json.loads(data)
        elif name.startswith("file"):
            if len(data) > store.max_file_size:
                raise errors.DiscordError(413, 40005, "Request entity too large")
            filename = part.filename or "unknown"
            content_type = part.headers.get("Content-Type")
            files[name] = (filename, bytes(data), content_type)
    by_index = {
        name[len("files[") : -1] if name.startswith("files[") else name: f
        for name, f in files.items()
    }
    described = {str(a.get("id")): a for a in payload.get("attachments", []) if isinstance(a, dict)}
    attachments: list[Attachment] = []
    for index, (filename, data, content_type) in by_index.items():
        meta = described.get(index, {})
        attachments.append(
            Attachment(
                store.ids.next(),
                meta.get("filename") or filename,
                data,
                content_type=_content_type(filename, content_type),
                description=meta.get("description"),
            )
        )
    return payload, attachments


def _content_type(filename: str, given: str | None) -> str | None:
    if given and given != "application/octet-stream":
        return given
    return mimetypes.guess_type(filename)[0] or given


def require(
    request: web.Request, channel_id: int | None, needed: int, guild_id: int | None = None
) -> None:
    """403 Missing Permissions unless the bot has ``needed`` in the channel (or guild)."""
    store = store_of(request)
    bot = bot_of(request)
    if channel_id is not None:
        have = perms.channel_permissions(store, channel_id, bot.id)
        guild_id = store.get_channel(channel_id).guild_id
    else:
        assert guild_id is not None
        have = perms.guild_permissions(store, guild_id, bot.id)
    if bot.id not in store.get_guild(guild_id).members:
        raise errors.missing_access()
    if not perms.has(have, needed):
        raise errors.missing_permissions()


def int_query(
    request: web.Request,
    name: str,
    default: int | None = None,
    *,
    lo: int = 0,
    hi: int | None = None,
) -> int | None:
    """An integer query parameter; 400 Invalid Form Body if it is not one or is out of range."""
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.field_error(name, "NUMBER_TYPE_COERCE", f'Value "{raw}" is not int.') from None
    if value < lo or (hi is not None and value > hi):
        raise errors.field_error(
            name,
            "NUMBER_TYPE_MAX" if hi is not None and value > hi else "NUMBER_TYPE_MIN",
            f"Int value should be between {lo} and {hi}.",
        )
    return value

"""Channels: get, modify, delete, typing and permission overwrites."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import errors, payloads
from .. import permissions as perms
from ..store import Channel
from .common import bot_of, json_response, no_content, read_json, require, store_of

_CHANNEL_FIELDS = (
    "name",
    "topic",
    "nsfw",
    "position",
    "rate_limit_per_user",
    "bitrate",
    "user_limit",
    "default_auto_archive_duration",
    "available_tags",
    "flags",
    "applied_tags",
)
_THREAD_FIELDS = ("archived", "locked", "auto_archive_duration", "invitable")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/channels/{channel_id}", get_channel)
    router.add_patch("/channels/{channel_id}", patch_channel)
    router.add_delete("/channels/{channel_id}", delete_channel)
    router.add_post("/channels/{channel_id}/typing", typing)
    router.add_put("/channels/{channel_id}/permissions/{overwrite_id}", put_overwrite)
    router.add_delete("/channels/{channel_id}/permissions/{overwrite_id}", delete_overwrite)


def channel_of(request: web.Request, needed: int = perms.VIEW_CHANNEL) -> Channel:
    """The route's channel, which the bot must see (404 if it is not in the guild) and on
    which it needs ``needed`` (403)."""
    store, bot = store_of(request), bot_of(request)
    raw = request.match_info["channel_id"]
    channel = store.get_channel(int(raw) if raw.isdigit() else -1)
    if bot.id not in store.guilds[channel.guild_id].members:
        raise errors.not_found(errors.UNKNOWN_CHANNEL)
    if needed:
        require(request, channel.id, needed)
    return channel


async def get_channel(request: web.Request) -> web.Response:
    store = store_of(request)
    return json_response(payloads.channel(store, channel_of(request), for_user=bot_of(request).id))


async def patch_channel(request: web.Request) -> web.Response:
    store, bot = store_of(request), bot_of(request)
    channel = channel_of(request)
    body = await read_json(request)
    if channel.thread is not None and channel.owner_id != bot.id:
        require(request, channel.id, perms.MANAGE_THREADS)
    elif channel.thread is None:
        require(request, channel.id, perms.MANAGE_CHANNELS)
    fields: dict[str, Any] = {k: body[k] for k in _CHANNEL_FIELDS if k in body}
    if channel.thread is not None:
        fields.update({k: body[k] for k in _THREAD_FIELDS if k in body})
    else:
        if "parent_id" in body:
            fields["parent_id"] = int(body["parent_id"]) if body["parent_id"] else None
        if "permission_overwrites" in body:
            fields["permission_overwrites"] = body["permission_overwrites"]
        if "type" in body and int(body["type"]) in (0, 5) and channel.type in (0, 5):
            fields["type"] = int(body["type"])
    if "name" in fields and not 1 <= len(fields["name"] or "") <= 100:
        raise errors.field_error(
            "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    if "topic" in fields and fields["topic"] and len(fields["topic"]) > 1024:
        raise errors.field_error(
            "topic", "BASE_TYPE_MAX_LENGTH", "Must be 1024 or fewer in length."
        )
    channel = store.update_channel(channel.id, **fields)
    return json_response(payloads.channel(store, channel, for_user=bot.id))


async def delete_channel(request: web.Request) -> web.Response:
    store = store_of(request)
    channel = channel_of(request)
    require(request, channel.id, perms.MANAGE_THREADS if channel.thread else perms.MANAGE_CHANNELS)
    data = payloads.channel(store, channel)
    store.delete_channel(channel.id)
    return json_response(data)


async def typing(request: web.Request) -> web.Response:
    channel = channel_of(request, perms.SEND_MESSAGES)
    store_of(request).trigger_typing(channel.id, bot_of(request).id)
    return no_content()


async def put_overwrite(request: web.Request) -> web.Response:
    store = store_of(request)
    channel = channel_of(request, perms.MANAGE_ROLES)
    body = await read_json(request)
    target = request.match_info["overwrite_id"]
    overwrite = {
        "id": target,
        "type": int(body.get("type", 0)),
        "allow": body.get("allow") or 0,
        "deny": body.get("deny") or 0,
    }
    old = next((o for o in channel.permission_overwrites if o["id"] == target), None)
    old_allow, old_deny = (int(old["allow"]), int(old["deny"])) if old else (0, 0)
    changed = (old_allow ^ int(overwrite["allow"])) | (old_deny ^ int(overwrite["deny"]))
    _require_bits(request, channel, changed)
    others = [o for o in channel.permission_overwrites if o["id"] != target]
    store.update_channel(channel.id, permission_overwrites=[*others, overwrite])
    return no_content()


async def delete_overwrite(request: web.Request) -> web.Response:
    store = store_of(request)
    channel = channel_of(request, perms.MANAGE_ROLES)
    target = request.match_info["overwrite_id"]
    old = next((o for o in channel.permission_overwrites if o["id"] == target), None)
    if old is not None:
        _require_bits(request, channel, int(old["allow"]) | int(old["deny"]))
    store.update_channel(
        channel.id,
        permission_overwrites=[o for o in channel.permission_overwrites if o["id"] != target],
    )
    return no_content()


def _require_bits(request: web.Request, channel: Channel, changed: int) -> None:
    """403 Missing Permissions when an overwrite change allows or denies bits the bot lacks in
    the guild (or in the channel's category), unless a MANAGE_ROLES overwrite in the channel
    lets it: Discord's rule for Edit Channel Permissions (discord-api-docs#3450)."""
    store, bot = store_of(request), bot_of(request)
    if channel.parent_id is not None and store.get_channel(channel.parent_id).type == 4:
        have = perms.channel_permissions(store, channel.parent_id, bot.id)
    else:
        have = perms.guild_permissions(store, channel.guild_id, bot.id)
    member = store.get_guild(channel.guild_id).members.get(bot.id)
    own = {bot.id, channel.guild_id, *(member.roles if member else [])}
    granted = any(
        int(o["id"]) in own and int(o["allow"]) & perms.MANAGE_ROLES
        for o in channel.permission_overwrites
    )
    if have != perms.ALL and not granted and changed & ~have:
        raise errors.missing_permissions()

"""Guilds: the guild itself, its channel list, active threads and webhooks."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import errors, payloads
from .. import permissions as perms
from ..store import ChannelType
from .common import bot_of, json_response, no_content, read_json, read_json_list, require, store_of
from .users import decode_image

_GUILD_FIELDS = (
    "name",
    "description",
    "system_channel_id",
    "rules_channel_id",
    "afk_channel_id",
    "afk_timeout",
    "preferred_locale",
    "verification_level",
    "default_message_notifications",
    "explicit_content_filter",
)
_CHANNEL_CREATE_FIELDS = ("topic", "position", "nsfw", "permission_overwrites")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/guilds/{guild_id}", get_guild)
    router.add_patch("/guilds/{guild_id}", patch_guild)
    router.add_get("/guilds/{guild_id}/channels", list_channels)
    router.add_post("/guilds/{guild_id}/channels", create_channel)
    router.add_patch("/guilds/{guild_id}/channels", reorder_channels)
    router.add_get("/guilds/{guild_id}/threads/active", active_threads)
    router.add_get("/guilds/{guild_id}/webhooks", guild_webhooks)


def _guild_id(request: web.Request) -> int:
    store, bot = store_of(request), bot_of(request)
    raw = request.match_info["guild_id"]
    guild = store.get_guild(int(raw) if raw.isdigit() else -1)
    if bot.id not in guild.members:
        raise errors.not_found(errors.UNKNOWN_GUILD)
    return guild.id


async def get_guild(request: web.Request) -> web.Response:
    store = store_of(request)
    guild = store.get_guild(_guild_id(request))
    with_counts = request.query.get("with_counts", "false").lower() in ("true", "1")
    return json_response(payloads.guild(store, guild, with_counts=with_counts))


async def patch_guild(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.MANAGE_GUILD, guild_id)
    body = await read_json(request)
    fields = {k: body[k] for k in _GUILD_FIELDS if k in body}
    for key in ("system_channel_id", "rules_channel_id", "afk_channel_id"):
        if fields.get(key) is not None:
            fields[key] = int(fields[key])
    for key in ("icon", "banner", "splash"):
        if key in body:
            fields[key] = decode_image(body[key])
    if "name" in fields and not 2 <= len(fields["name"] or "") <= 100:
        raise errors.field_error(
            "name", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length."
        )
    guild = store.update_guild(guild_id, **fields)
    return json_response(payloads.guild(store, guild))


async def list_channels(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    return json_response([payloads.channel(store, c) for c in store.guild_channels(guild_id)])


async def create_channel(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.MANAGE_CHANNELS, guild_id)
    body = await read_json(request)
    name = body.get("name")
    if not name or len(name) > 100:
        raise errors.field_error(
            "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    kind = int(body.get("type") or ChannelType.TEXT)
    if kind in ChannelType.THREADS or kind not in (0, 2, 4, 5, 13, 15, 16):
        raise errors.field_error(
            "type", "BASE_TYPE_CHOICES", "Value must be one of {0, 2, 4, 5, 13, 15, 16}."
        )
    parent = body.get("parent_id")
    channel = store.create_channel(
        guild_id,
        name,
        kind,
        parent_id=int(parent) if parent else None,
        topic=body.get("topic"),
        position=body.get("position"),
        nsfw=bool(body.get("nsfw", False)),
        permission_overwrites=body.get("permission_overwrites"),
    )
    extra = {
        k: body[k]
        for k in (
            "rate_limit_per_user",
            "bitrate",
            "user_limit",
            "default_auto_archive_duration",
            "available_tags",
        )
        if body.get(k) is not None
    }
    for key, value in extra.items():
        setattr(channel, key, value)
    return json_response(payloads.channel(store, channel), 201)


async def reorder_channels(request: web.Request) -> web.Response:
    """``PATCH /guilds/{id}/channels``: ``[{"id", "position"?, "parent_id"?, "lock_permissions"?}]``."""
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.MANAGE_CHANNELS, guild_id)
    changes = await read_json_list(request)
    for change in changes:
        channel = store.get_channel(int(change["id"]))
        if channel.guild_id != guild_id:
            raise errors.not_found(errors.UNKNOWN_CHANNEL)
        fields: dict[str, Any] = {}
        if change.get("position") is not None:
            fields["position"] = int(change["position"])
        if "parent_id" in change:
            fields["parent_id"] = int(change["parent_id"]) if change["parent_id"] else None
        if change.get("lock_permissions") and fields.get("parent_id"):
            fields["permission_overwrites"] = store.get_channel(
                fields["parent_id"]
            ).permission_overwrites
        if fields:
            store.update_channel(channel.id, **fields)
    return no_content()


async def active_threads(request: web.Request) -> web.Response:
    store, bot, guild_id = store_of(request), bot_of(request), _guild_id(request)
    return json_response(payloads.thread_list(store, store.active_threads(guild_id), bot.id))


async def guild_webhooks(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.MANAGE_WEBHOOKS, guild_id)
    hooks = [w for w in store.webhooks.values() if w.guild_id == guild_id]
    return json_response([payloads.webhook(store, w) for w in hooks])

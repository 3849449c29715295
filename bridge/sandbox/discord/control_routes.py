"""Control API handlers for users, bots, guilds, members, roles, emoji, stickers, channels and
threads. Mounted by :func:`.control.add_control_routes`; documented in ``README.md``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import payloads
from .control_common import (
    Route,
    b64,
    body,
    control_handler,
    ok,
    optional_id,
    parse_intents,
    path_id,
    store_of,
    when,
)
from .events import Intents

# ---- users and bots ------------------------------------------------------------------------


@control_handler
async def create_user(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    user = store.create_user(
        data["username"], global_name=data.get("global_name"), avatar=b64(data.get("avatar"))
    )
    return ok(payloads.user(store, user), 201)


@control_handler
async def update_user(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    fields: dict[str, Any] = {k: data[k] for k in ("username", "global_name") if k in data}
    if "avatar" in data:
        fields["avatar"] = b64(data["avatar"])
    user = store.update_user(path_id(request, "user_id"), **fields)
    return ok(payloads.user(store, user))


@control_handler
async def create_bot(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    bot, app, token = store.create_bot(
        data.get("username", "Bridge Bot"),
        privileged_intents=parse_intents(data.get("privileged_intents")),
        token=data.get("token"),
        avatar=b64(data.get("avatar")),
    )
    user = payloads.user(store, bot)
    return ok({"user": user, "application_id": str(app.id), "token": token}, 201)


# ---- guilds, members, roles, emoji, stickers -----------------------------------------------


@control_handler
async def create_guild(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    guild = store.create_guild(data["name"], int(data["owner_id"]), icon=b64(data.get("icon")))
    return ok(payloads.guild(store, guild), 201)


@control_handler
async def get_guild(request: web.Request) -> web.Response:
    store = store_of(request)
    every = Intents(sum(Intents))
    data = store.guild_create_payload(
        path_id(request, "guild_id"), intents=every, large_threshold=10**9
    )
    return ok(data)


@control_handler
async def update_guild(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    for key in ("icon", "banner", "splash"):
        if isinstance(data.get(key), str):
            data[key] = b64(data[key])
    for key in ("system_channel_id", "rules_channel_id", "afk_channel_id", "owner_id"):
        if data.get(key) is not None:
            data[key] = int(data[key])
    guild = store.update_guild(path_id(request, "guild_id"), **data)
    return ok(payloads.guild(store, guild))


@control_handler
async def add_member(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    member = store.add_member(
        path_id(request, "guild_id"),
        path_id(request, "user_id"),
        nick=data.get("nick"),
        roles=[int(r) for r in data.get("roles", [])],
        joined_at=when(data.get("joined_at")),
        avatar=b64(data.get("avatar")),
        join_message=bool(data.get("join_message", True)),
    )
    return ok(payloads.member(store, member), 201)


@control_handler
async def update_member(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    fields: dict[str, Any] = {k: data[k] for k in ("nick", "mute", "deaf") if k in data}
    if "roles" in data:
        fields["roles"] = [int(r) for r in data["roles"]]
    if "avatar" in data:
        fields["avatar"] = b64(data["avatar"])
    if "communication_disabled_until" in data:
        fields["communication_disabled_until"] = when(data["communication_disabled_until"])
    member = store.update_member(
        path_id(request, "guild_id"), path_id(request, "user_id"), **fields
    )
    return ok(payloads.member(store, member))


@control_handler
async def remove_member(request: web.Request) -> web.Response:
    store_of(request).remove_member(path_id(request, "guild_id"), path_id(request, "user_id"))
    return ok()


@control_handler
async def ban_member(request: web.Request) -> web.Response:
    """Ban as an admin: GUILD_MEMBER_REMOVE (if a member), GUILD_BAN_ADD, message deletions."""
    data, store = await body(request), store_of(request)
    ban = store.ban_member(
        path_id(request, "guild_id"),
        path_id(request, "user_id"),
        reason=data.get("reason"),
        delete_message_seconds=int(data.get("delete_message_seconds", 0)),
    )
    return ok({"user": payloads.user(store, store.get_user(ban.user_id)), "reason": ban.reason})


@control_handler
async def unban_member(request: web.Request) -> web.Response:
    store_of(request).unban_member(path_id(request, "guild_id"), path_id(request, "user_id"))
    return ok()


@control_handler
async def list_bans(request: web.Request) -> web.Response:
    store = store_of(request)
    bans = store.bans(path_id(request, "guild_id"), limit=None)
    users = [payloads.user(store, store.users[b.user_id]) for b in bans]
    return ok([{"user": u, "reason": b.reason} for u, b in zip(users, bans, strict=True)])


@control_handler
async def create_role(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    role = store.create_role(
        path_id(request, "guild_id"),
        data.get("name", "new role"),
        permissions=int(data.get("permissions", 0)),
        color=int(data.get("color", 0)),
        hoist=bool(data.get("hoist", False)),
        mentionable=bool(data.get("mentionable", False)),
    )
    return ok(payloads.role(store, role), 201)


@control_handler
async def update_role(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    if "permissions" in data:
        data["permissions"] = int(data["permissions"])
    role = store.update_role(path_id(request, "guild_id"), path_id(request, "role_id"), **data)
    return ok(payloads.role(store, role))


@control_handler
async def delete_role(request: web.Request) -> web.Response:
    store_of(request).delete_role(path_id(request, "guild_id"), path_id(request, "role_id"))
    return ok()


@control_handler
async def create_emoji(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    emoji = store.create_emoji(
        path_id(request, "guild_id"),
        data["name"],
        b64(data["image"]) or b"",
        user_id=optional_id(data, "user_id"),
    )
    return ok(payloads.emoji(store, emoji), 201)


@control_handler
async def delete_emoji(request: web.Request) -> web.Response:
    store_of(request).delete_emoji(path_id(request, "guild_id"), path_id(request, "emoji_id"))
    return ok()


@control_handler
async def create_sticker(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    sticker = store.create_sticker(
        path_id(request, "guild_id"),
        data["name"],
        b64(data["image"]) or b"",
        tags=data.get("tags", ""),
        description=data.get("description"),
        format_type=data.get("format_type"),
        user_id=optional_id(data, "user_id"),
    )
    return ok(payloads.sticker(store, sticker), 201)


@control_handler
async def delete_sticker(request: web.Request) -> web.Response:
    store_of(request).delete_sticker(path_id(request, "guild_id"), path_id(request, "sticker_id"))
    return ok()


# ---- channels and threads ------------------------------------------------------------------


@control_handler
async def create_channel(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    channel = store.create_channel(
        path_id(request, "guild_id"),
        data["name"],
        int(data.get("type", 0)),
        parent_id=optional_id(data, "parent_id"),
        topic=data.get("topic"),
        position=data.get("position"),
        nsfw=bool(data.get("nsfw", False)),
        permission_overwrites=data.get("permission_overwrites"),
    )
    return ok(payloads.channel(store, channel), 201)


@control_handler
async def update_channel(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    channel = store.update_channel(path_id(request, "channel_id"), **data)
    return ok(payloads.channel(store, channel))


@control_handler
async def delete_channel(request: web.Request) -> web.Response:
    store_of(request).delete_channel(path_id(request, "channel_id"))
    return ok()


@control_handler
async def create_thread(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    kwargs: dict[str, Any] = {}
    if "type" in data:
        kwargs["type"] = int(data["type"])
    thread = store.create_thread(
        path_id(request, "channel_id"),
        data["name"],
        int(data["user_id"]),
        message_id=optional_id(data, "message_id"),
        content=data.get("content", ""),
        applied_tags=data.get("applied_tags"),
        **kwargs,
    )
    return ok(payloads.channel(store, thread), 201)


ENTITY_ROUTES: list[Route] = [
    ("POST", "/users", create_user),
    ("PATCH", "/users/{user_id}", update_user),
    ("POST", "/bots", create_bot),
    ("POST", "/guilds", create_guild),
    ("GET", "/guilds/{guild_id}", get_guild),
    ("PATCH", "/guilds/{guild_id}", update_guild),
    ("PUT", "/guilds/{guild_id}/members/{user_id}", add_member),
    ("PATCH", "/guilds/{guild_id}/members/{user_id}", update_member),
    ("DELETE", "/guilds/{guild_id}/members/{user_id}", remove_member),
    ("GET", "/guilds/{guild_id}/bans", list_bans),
    ("PUT", "/guilds/{guild_id}/bans/{user_id}", ban_member),
    ("POST", "/guilds/{guild_id}/bans/{user_id}", ban_member),
    ("DELETE", "/guilds/{guild_id}/bans/{user_id}", unban_member),
    ("POST", "/guilds/{guild_id}/channels", create_channel),
    ("POST", "/guilds/{guild_id}/roles", create_role),
    ("PATCH", "/guilds/{guild_id}/roles/{role_id}", update_role),
    ("DELETE", "/guilds/{guild_id}/roles/{role_id}", delete_role),
    ("POST", "/guilds/{guild_id}/emojis", create_emoji),
    ("DELETE", "/guilds/{guild_id}/emojis/{emoji_id}", delete_emoji),
    ("POST", "/guilds/{guild_id}/stickers", create_sticker),
    ("DELETE", "/guilds/{guild_id}/stickers/{sticker_id}", delete_sticker),
    ("PATCH", "/channels/{channel_id}", update_channel),
    ("DELETE", "/channels/{channel_id}", delete_channel),
    ("POST", "/channels/{channel_id}/threads", create_thread),
]

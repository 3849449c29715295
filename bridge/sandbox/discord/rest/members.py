"""Guild members and roles (kicks are with bans, in :mod:`.bans`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from .. import errors, payloads
from .. import permissions as perms
from .common import (
    bot_of,
    int_query,
    json_response,
    no_content,
    read_json,
    read_json_list,
    require,
    store_of,
    user_id_param,
)
from .guilds import _guild_id
from .users import decode_image


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/guilds/{guild_id}/members", list_members)
    router.add_get("/guilds/{guild_id}/members/search", search_members)
    router.add_patch("/guilds/{guild_id}/members/@me", patch_me)
    router.add_get("/guilds/{guild_id}/members/{user_id}", get_member)
    router.add_patch("/guilds/{guild_id}/members/{user_id}", patch_member)
    router.add_put("/guilds/{guild_id}/members/{user_id}/roles/{role_id}", add_role)
    router.add_delete("/guilds/{guild_id}/members/{user_id}/roles/{role_id}", remove_role)
    router.add_get("/guilds/{guild_id}/roles", list_roles)
    router.add_post("/guilds/{guild_id}/roles", create_role)
    router.add_patch("/guilds/{guild_id}/roles", reorder_roles)
    router.add_get("/guilds/{guild_id}/roles/{role_id}", get_role)
    router.add_patch("/guilds/{guild_id}/roles/{role_id}", patch_role)
    router.add_delete("/guilds/{guild_id}/roles/{role_id}", delete_role)


async def list_members(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    limit = int_query(request, "limit", 1, lo=1, hi=1000)
    after = int_query(request, "after", 0)
    members = store.list_members(guild_id, after=after or 0, limit=limit or 1)
    return json_response([payloads.member(store, m) for m in members])


async def search_members(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    if "query" not in request.query:
        raise errors.field_error("query", "BASE_TYPE_REQUIRED", "This field is required")
    limit = int_query(request, "limit", 1, lo=1, hi=1000)
    found = store.query_members(guild_id, query=request.query["query"], limit=limit or 1)
    return json_response([payloads.member(store, m) for m in found])


async def get_member(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    return json_response(payloads.member(store, store.get_member(guild_id, user_id_param(request))))


async def _apply_member_patch(
    request: web.Request, guild_id: int, user_id: int, body: dict[str, Any]
) -> None:
    store = store_of(request)
    fields: dict[str, Any] = {}
    if "nick" in body:
        needed = perms.CHANGE_NICKNAME if user_id == bot_of(request).id else perms.MANAGE_NICKNAMES
        require(request, None, needed, guild_id)
        if body["nick"] and len(body["nick"]) > 32:
            raise errors.field_error(
                "nick", "BASE_TYPE_MAX_LENGTH", "Must be 32 or fewer in length."
            )
        fields["nick"] = body["nick"]
    if "roles" in body:
        require(request, None, perms.MANAGE_ROLES, guild_id)
        fields["roles"] = [int(r) for r in body["roles"] or []]
    if "avatar" in body:
        fields["avatar"] = decode_image(body["avatar"])
    if "communication_disabled_until" in body:
        until = body["communication_disabled_until"]
        fields["communication_disabled_until"] = datetime.fromisoformat(until) if until else None
    for key in ("mute", "deaf"):
        if key in body:
            fields[key] = bool(body[key])
    store.update_member(guild_id, user_id, **fields)


async def patch_member(request: web.Request) -> web.Response:
    store, guild_id, user_id = store_of(request), _guild_id(request), user_id_param(request)
    store.get_member(guild_id, user_id)
    await _apply_member_patch(request, guild_id, user_id, await read_json(request))
    return json_response(payloads.member(store, store.get_member(guild_id, user_id)))


async def patch_me(request: web.Request) -> web.Response:
    store, guild_id, bot = store_of(request), _guild_id(request), bot_of(request)
    body = await read_json(request)
    await _apply_member_patch(
        request, guild_id, bot.id, {k: v for k, v in body.items() if k in ("nick", "avatar")}
    )
    return json_response(payloads.member(store, store.get_member(guild_id, bot.id)))


async def add_role(request: web.Request) -> web.Response:
    return await _change_role(request, add=True)


async def remove_role(request: web.Request) -> web.Response:
    return await _change_role(request, add=False)


async def _change_role(request: web.Request, *, add: bool) -> web.Response:
    store, guild_id, user_id = store_of(request), _guild_id(request), user_id_param(request)
    require(request, None, perms.MANAGE_ROLES, guild_id)
    member = store.get_member(guild_id, user_id)
    role_id = _role(request).id
    roles = [r for r in member.roles if r != role_id] + ([role_id] if add else [])
    store.update_member(guild_id, user_id, roles=roles)
    return no_content()


def _role(request: web.Request) -> Any:
    store = store_of(request)
    guild = store.get_guild(_guild_id(request))
    raw = request.match_info["role_id"]
    role = guild.roles.get(int(raw)) if raw.isdigit() else None
    if role is None:
        raise errors.not_found(errors.UNKNOWN_ROLE)
    return role


async def list_roles(request: web.Request) -> web.Response:
    store, guild = store_of(request), store_of(request).get_guild(_guild_id(request))
    roles = sorted(guild.roles.values(), key=lambda r: (r.position, r.id))
    return json_response([payloads.role(store, r) for r in roles])


async def get_role(request: web.Request) -> web.Response:
    return json_response(payloads.role(store_of(request), _role(request)))


def _role_fields(body: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "name" in body:
        if body["name"] is not None and len(body["name"]) > 100:
            raise errors.field_error(
                "name", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."
            )
        fields["name"] = body["name"] or "new role"
    if body.get("permissions") is not None:
        fields["permissions"] = int(body["permissions"])
    if body.get("color") is not None:
        fields["color"] = int(body["color"])
    if isinstance(body.get("colors"), dict):
        fields["color"] = int(body["colors"].get("primary_color") or 0)
    for key in ("hoist", "mentionable"):
        if body.get(key) is not None:
            fields[key] = bool(body[key])
    if "unicode_emoji" in body:
        fields["unicode_emoji"] = body["unicode_emoji"]
    return fields


async def create_role(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.MANAGE_ROLES, guild_id)
    fields = _role_fields(await read_json(request))
    unicode_emoji = fields.pop("unicode_emoji", None)
    role = store.create_role(guild_id, **fields)
    if unicode_emoji:
        role = store.update_role(guild_id, role.id, unicode_emoji=unicode_emoji)
    return json_response(payloads.role(store, role))


async def patch_role(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.MANAGE_ROLES, guild_id)
    role = _role(request)
    role = store.update_role(guild_id, role.id, **_role_fields(await read_json(request)))
    return json_response(payloads.role(store, role))


async def reorder_roles(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.MANAGE_ROLES, guild_id)
    guild = store.get_guild(guild_id)
    for change in await read_json_list(request):
        role_id = int(change["id"])
        if role_id not in guild.roles:
            raise errors.not_found(errors.UNKNOWN_ROLE)
        if change.get("position") is not None:
            store.update_role(guild_id, role_id, position=int(change["position"]))
    roles = sorted(guild.roles.values(), key=lambda r: (r.position, r.id))
    return json_response([payloads.role(store, r) for r in roles])


async def delete_role(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.MANAGE_ROLES, guild_id)
    role = _role(request)
    if role.managed:
        raise errors.bad_request(50028, "Invalid role")
    store.delete_role(guild_id, role.id)
    return no_content()

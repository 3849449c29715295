"""Guild bans (and kicks): ``/guilds/{guild_id}/bans…``, ``/bulk-ban`` and ``DELETE /members/{id}``.

Banning and kicking need BAN_MEMBERS (bulk ban also MANAGE_GUILD) or KICK_MEMBERS, and a
highest role above the target's (never the owner): 403 Missing Permissions otherwise. The
reason comes in the ``X-Audit-Log-Reason`` header (URL-encoded, as discord.py sends it).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from aiohttp import web

from .. import errors, payloads
from .. import permissions as perms
from ..store import Ban, Store
from ..store.bans import MAX_BULK_BAN, MAX_DELETE_MESSAGE_SECONDS
from .common import (
    bot_of,
    int_query,
    json_response,
    no_content,
    read_json,
    require,
    store_of,
    user_id_param,
)
from .guilds import _guild_id


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/guilds/{guild_id}/bans", list_bans)
    router.add_get("/guilds/{guild_id}/bans/{user_id}", get_ban)
    router.add_put("/guilds/{guild_id}/bans/{user_id}", ban)
    router.add_delete("/guilds/{guild_id}/bans/{user_id}", unban)
    router.add_post("/guilds/{guild_id}/bulk-ban", bulk_ban)
    router.add_delete("/guilds/{guild_id}/members/{user_id}", kick)


def audit_reason(request: web.Request) -> str | None:
    """The ``X-Audit-Log-Reason`` header, URL-decoded (None if absent or empty)."""
    raw = request.headers.get("X-Audit-Log-Reason")
    return unquote(raw) if raw else None


def ban_json(store: Store, ban: Ban) -> dict[str, Any]:
    """A ban object: ``{user, reason}``."""
    return {"user": payloads.user(store, store.get_user(ban.user_id)), "reason": ban.reason}


def _check_target(request: web.Request, guild_id: int, user_id: int) -> None:
    """403 Missing Permissions unless the bot is above ``user_id`` in the role hierarchy."""
    if not perms.can_moderate(store_of(request), guild_id, bot_of(request).id, user_id):
        raise errors.missing_permissions()


def _delete_seconds(request: web.Request, body: dict[str, Any]) -> int:
    """``delete_message_seconds`` from the body or the query (discord.py sends it there), or
    the deprecated ``delete_message_days``; 400 Invalid Form Body if out of range."""
    if body.get("delete_message_seconds") is not None:
        value = body["delete_message_seconds"]
        if not isinstance(value, int) or isinstance(value, bool):
            raise errors.field_error(
                "delete_message_seconds", "NUMBER_TYPE_COERCE", f'Value "{value}" is not int.'
            )
    elif body.get("delete_message_days") is not None:
        days = body["delete_message_days"]
        if not isinstance(days, int) or not 0 <= days <= 7:
            raise errors.field_error(
                "delete_message_days", "NUMBER_TYPE_MAX", "int value should be between 0 and 7."
            )
        value = days * 86400
    else:
        query = int_query(request, "delete_message_seconds", 0, hi=MAX_DELETE_MESSAGE_SECONDS)
        value = query or 0
    if not 0 <= value <= MAX_DELETE_MESSAGE_SECONDS:
        raise errors.field_error(
            "delete_message_seconds",
            "NUMBER_TYPE_MAX" if value > 0 else "NUMBER_TYPE_MIN",
            f"int value should be between 0 and {MAX_DELETE_MESSAGE_SECONDS}.",
        )
    return value


async def list_bans(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.BAN_MEMBERS, guild_id)
    limit = int_query(request, "limit", 1000, lo=1, hi=1000) or 1000
    before = int_query(request, "before")
    after = int_query(request, "after")
    found = store.bans(guild_id, before=before, after=after, limit=limit)
    return json_response([ban_json(store, b) for b in found])


async def get_ban(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.BAN_MEMBERS, guild_id)
    return json_response(ban_json(store, store.get_ban(guild_id, user_id_param(request))))


async def ban(request: web.Request) -> web.Response:
    store, guild_id, user_id = store_of(request), _guild_id(request), user_id_param(request)
    require(request, None, perms.BAN_MEMBERS, guild_id)
    store.get_user(user_id)
    _check_target(request, guild_id, user_id)
    seconds = _delete_seconds(request, await read_json(request))
    store.ban_member(
        guild_id, user_id, reason=audit_reason(request), delete_message_seconds=seconds
    )
    return no_content()


async def unban(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.BAN_MEMBERS, guild_id)
    store.unban_member(guild_id, user_id_param(request, errors.UNKNOWN_BAN))
    return no_content()


async def bulk_ban(request: web.Request) -> web.Response:
    store, guild_id = store_of(request), _guild_id(request)
    require(request, None, perms.BAN_MEMBERS | perms.MANAGE_GUILD, guild_id)
    body = await read_json(request)
    raw_ids = body.get("user_ids")
    if not isinstance(raw_ids, list) or not raw_ids:
        raise errors.field_error("user_ids", "BASE_TYPE_REQUIRED", "This field is required")
    if len(raw_ids) > MAX_BULK_BAN:
        raise errors.field_error(
            "user_ids", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_BULK_BAN} or fewer in length."
        )
    seconds = _delete_seconds(request, body)
    bot_id = bot_of(request).id
    user_ids = [int(u) for u in raw_ids if str(u).isdigit()]
    allowed = [u for u in user_ids if perms.can_moderate(store, guild_id, bot_id, u)]
    banned, failed = store.bulk_ban(
        guild_id, allowed, reason=audit_reason(request), delete_message_seconds=seconds
    )
    failed += [u for u in dict.fromkeys(user_ids) if u not in allowed]
    if not banned:
        raise errors.DiscordError(403, 500000, "Failed to ban users")
    return json_response(
        {"banned_users": [str(u) for u in banned], "failed_users": [str(u) for u in failed]}
    )


async def kick(request: web.Request) -> web.Response:
    store, guild_id, user_id = store_of(request), _guild_id(request), user_id_param(request)
    require(request, None, perms.KICK_MEMBERS, guild_id)
    store.get_member(guild_id, user_id)
    _check_target(request, guild_id, user_id)
    store.remove_member(guild_id, user_id)
    return no_content()

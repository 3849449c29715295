"""Reactions and pins."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

from aiohttp import web

from .. import errors, payloads
from .. import permissions as perms
from ..payloads import iso
from ..payloads_messages import message as message_payload
from .channels import channel_of
from .common import (
    bot_of,
    int_query,
    json_response,
    no_content,
    require,
    store_of,
    user_id_param,
)
from .messages import message_of


def add_routes(router: web.UrlDispatcher) -> None:
    base = "/channels/{channel_id}/messages/{message_id}/reactions"
    router.add_delete(base, delete_all)
    router.add_get(base + "/{emoji_name}", list_users)
    router.add_delete(base + "/{emoji_name}", delete_emoji)
    router.add_put(base + "/{emoji_name}/@me", add_own)
    router.add_delete(base + "/{emoji_name}/@me", delete_own)
    router.add_delete(base + "/{emoji_name}/{user_id}", delete_user)
    router.add_get("/channels/{channel_id}/messages/pins", list_pins)
    router.add_put("/channels/{channel_id}/messages/pins/{message_id}", pin)
    router.add_delete("/channels/{channel_id}/messages/pins/{message_id}", unpin)
    router.add_get("/channels/{channel_id}/pins", list_pins_legacy)
    router.add_put("/channels/{channel_id}/pins/{message_id}", pin)
    router.add_delete("/channels/{channel_id}/pins/{message_id}", unpin)


def _emoji(request: web.Request) -> str:
    return unquote(request.match_info["emoji_name"])


async def add_own(request: web.Request) -> web.Response:
    channel = channel_of(request, perms.READ_MESSAGE_HISTORY)
    msg = message_of(request)
    emoji = _emoji(request)
    if not any(r.key == emoji or r.name == emoji for r in msg.reactions):
        require(request, channel.id, perms.ADD_REACTIONS)
    store_of(request).add_reaction(channel.id, msg.id, bot_of(request).id, emoji)
    return no_content()


async def delete_own(request: web.Request) -> web.Response:
    channel = channel_of(request)
    store_of(request).remove_reaction(
        channel.id, message_of(request).id, bot_of(request).id, _emoji(request)
    )
    return no_content()


async def delete_user(request: web.Request) -> web.Response:
    channel = channel_of(request, perms.MANAGE_MESSAGES)
    user_id = user_id_param(request)
    store_of(request).remove_reaction(channel.id, message_of(request).id, user_id, _emoji(request))
    return no_content()


async def delete_emoji(request: web.Request) -> web.Response:
    channel = channel_of(request, perms.MANAGE_MESSAGES)
    store_of(request).remove_emoji_reactions(channel.id, message_of(request).id, _emoji(request))
    return no_content()


async def delete_all(request: web.Request) -> web.Response:
    channel = channel_of(request, perms.MANAGE_MESSAGES)
    store_of(request).remove_all_reactions(channel.id, message_of(request).id)
    return no_content()


async def list_users(request: web.Request) -> web.Response:
    store = store_of(request)
    channel = channel_of(request, perms.READ_MESSAGE_HISTORY)
    limit = int_query(request, "limit", 25, lo=1, hi=100) or 25
    after = int_query(request, "after", 0) or 0
    ids = store.reaction_users(
        channel.id, message_of(request).id, _emoji(request), after=after, limit=limit
    )
    return json_response([payloads.user(store, store.users[u]) for u in ids if u in store.users])


def _timestamp_query(request: web.Request, name: str) -> datetime | None:
    """An ISO 8601 query parameter (naive ones are UTC); a bad one is 400 Invalid Form Body."""
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise errors.field_error(name, "DATE_TIME_TYPE_INVALID", "Invalid datetime.") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def list_pins(request: web.Request) -> web.Response:
    """``GET /channels/{id}/messages/pins``: ``{"items": [{"pinned_at", "message"}], "has_more"}``."""
    store = store_of(request)
    channel = channel_of(request, perms.READ_MESSAGE_HISTORY)
    limit = int_query(request, "limit", 50, lo=1, hi=50) or 50
    before = _timestamp_query(request, "before")
    pinned = store.pinned_messages(channel.id)
    if before is not None:
        pinned = [m for m in pinned if store.pin_times[m.id] < before]
    viewer = bot_of(request).id
    items = [
        {
            "pinned_at": iso(store.pin_times[m.id]),
            "message": message_payload(store, m, viewer_id=viewer),
        }
        for m in pinned[:limit]
    ]
    return json_response({"items": items, "has_more": len(pinned) > limit})


async def list_pins_legacy(request: web.Request) -> web.Response:
    store = store_of(request)
    channel = channel_of(request, perms.READ_MESSAGE_HISTORY)
    viewer = bot_of(request).id
    return json_response(
        [message_payload(store, m, viewer_id=viewer) for m in store.pinned_messages(channel.id)]
    )


async def pin(request: web.Request) -> web.Response:
    channel = channel_of(request, perms.PIN_MESSAGES)
    store_of(request).pin(channel.id, message_of(request).id, bot_of(request).id)
    return no_content()


async def unpin(request: web.Request) -> web.Response:
    channel = channel_of(request, perms.PIN_MESSAGES)
    store_of(request).unpin(channel.id, message_of(request).id)
    return no_content()

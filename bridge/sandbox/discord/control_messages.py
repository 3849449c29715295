"""Control API handlers for messages: post, edit, delete, react, pin, type, seed history, read
what was posted; webhooks and interactions. Documented in ``README.md``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from aiohttp import web

from . import errors, payloads, payloads_messages
from .control_common import (
    Route,
    attachments_from,
    b64,
    body,
    control_handler,
    message_out,
    ok,
    optional_id,
    path_id,
    store_of,
    when,
)
from .rest.common import read_payload

# ---- messages ------------------------------------------------------------------------------


@control_handler
async def post_message(request: web.Request) -> web.Response:
    """JSON with base64 ``attachments``, or multipart: ``payload_json`` + ``files[n]``."""
    store = store_of(request)
    data, files = await read_payload(request)
    channel_id = path_id(request, "channel_id")
    msg = store.create_message(
        channel_id,
        int(data["user_id"]),
        data.get("content", ""),
        timestamp=when(data.get("timestamp")),
        attachments=files + attachments_from(store, data.get("attachments")),
        embeds=data.get("embeds"),
        sticker_ids=[int(s) for s in data.get("sticker_ids", [])],
        reply_to=optional_id(data, "reply_to"),
        allowed_mentions=data.get("allowed_mentions"),
    )
    return ok(message_out(store, channel_id, msg.id), 201)


@control_handler
async def list_messages(request: web.Request) -> web.Response:
    """Oldest first, after ``after`` (default: the start), at most ``limit`` (default 100).

    ``from``: ``bots`` (messages by bot users), ``webhooks``, ``bridge`` (both) or ``all``.
    """
    store = store_of(request)
    channel_id = path_id(request, "channel_id")
    after = int(request.query.get("after", 0))
    limit = int(request.query.get("limit", 100))
    source = request.query.get("from", "all")
    found = []
    for msg_id in store.channel_messages.get(store.get_channel(channel_id).id, []):
        if msg_id <= after:
            continue
        msg = store.messages[msg_id]
        is_webhook = msg.webhook_id is not None
        author = store.users.get(msg.author_id)
        is_bot = not is_webhook and author is not None and author.bot
        wanted = {
            "all": True,
            "bots": is_bot,
            "webhooks": is_webhook,
            "bridge": is_bot or is_webhook,
        }[source]
        if wanted:
            found.append(payloads_messages.message_event(store, msg))
            if len(found) >= limit:
                break
    return ok(found)


@control_handler
async def edit_message(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    channel_id, message_id = path_id(request, "channel_id"), path_id(request, "message_id")
    fields = {k: data[k] for k in ("content", "embeds") if k in data}
    store.edit_message(channel_id, message_id, edited_at=when(data.get("edited_at")), **fields)
    return ok(message_out(store, channel_id, message_id))


@control_handler
async def delete_message(request: web.Request) -> web.Response:
    store_of(request).delete_message(path_id(request, "channel_id"), path_id(request, "message_id"))
    return ok()


@control_handler
async def bulk_delete(request: web.Request) -> web.Response:
    data = await body(request)
    ids = [int(m) for m in data["message_ids"]]
    store_of(request).bulk_delete(path_id(request, "channel_id"), ids)
    return ok()


@control_handler
async def react(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    channel_id, message_id = path_id(request, "channel_id"), path_id(request, "message_id")
    store.add_reaction(channel_id, message_id, int(data["user_id"]), data["emoji"])
    return ok(message_out(store, channel_id, message_id))


@control_handler
async def unreact(request: web.Request) -> web.Response:
    """``user_id`` + ``emoji``: one reaction; ``emoji`` alone: that emoji; nothing: all."""
    data, store = await body(request), store_of(request)
    channel_id, message_id = path_id(request, "channel_id"), path_id(request, "message_id")
    if data.get("user_id") and data.get("emoji"):
        store.remove_reaction(channel_id, message_id, int(data["user_id"]), data["emoji"])
    elif data.get("emoji"):
        store.remove_emoji_reactions(channel_id, message_id, data["emoji"])
    else:
        store.remove_all_reactions(channel_id, message_id)
    return ok(message_out(store, channel_id, message_id))


@control_handler
async def pin(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    user_id = optional_id(data, "user_id")
    store.pin(path_id(request, "channel_id"), path_id(request, "message_id"), user_id)
    return ok()


@control_handler
async def unpin(request: web.Request) -> web.Response:
    store_of(request).unpin(path_id(request, "channel_id"), path_id(request, "message_id"))
    return ok()


@control_handler
async def typing(request: web.Request) -> web.Response:
    data = await body(request)
    store_of(request).trigger_typing(path_id(request, "channel_id"), int(data["user_id"]))
    return ok()


@control_handler
async def seed_history(request: web.Request) -> web.Response:
    """Bulk past messages, emitting nothing. Either ``messages`` (entries with ``user_id``,
    ``content``, ``timestamp``, optional ``reply_to``, ``attachments``, ``pinned``), or a
    generated series: ``count``, ``user_ids``, ``start`` (time of the first), ``interval``
    (seconds between messages, default 60) and ``content`` (a ``{n}`` template)."""
    data, store = await body(request), store_of(request)
    started = time.perf_counter()
    if "messages" in data:
        entries = [
            {
                "author_id": int(e.get("user_id", e.get("author_id"))),
                "content": e.get("content", ""),
                "timestamp": when(e["timestamp"]),
                "reply_to": optional_id(e, "reply_to"),
                "attachments": attachments_from(store, e.get("attachments")),
                "pinned": bool(e.get("pinned", False)),
            }
            for e in data["messages"]
        ]
    else:
        count, authors = int(data["count"]), [int(u) for u in data["user_ids"]]
        interval = timedelta(seconds=float(data.get("interval", 60)))
        start = when(data.get("start")) or datetime.now(UTC) - interval * (count + 1)
        template = str(data.get("content", "message {n}"))
        entries = [
            {
                "author_id": authors[n % len(authors)],
                "content": template.format(n=n),
                "timestamp": start + interval * n,
            }
            for n in range(count)
        ]
    ids = store.seed_history(path_id(request, "channel_id"), entries)
    return ok(
        {
            "count": len(ids),
            "first_id": str(ids[0]) if ids else None,
            "last_id": str(ids[-1]) if ids else None,
            "seconds": round(time.perf_counter() - started, 3),
        },
        201,
    )


@control_handler
async def create_webhook(request: web.Request) -> web.Response:
    data, store = await body(request), store_of(request)
    hook = store.create_webhook(
        path_id(request, "channel_id"),
        data.get("name", "Webhook"),
        user_id=optional_id(data, "user_id"),
        avatar=b64(data.get("avatar")),
    )
    return ok(payloads.webhook(store, hook), 201)


@control_handler
async def create_interaction(request: web.Request) -> web.Response:
    """``data`` as Discord sends it, or ``command`` (its words, e.g. ``"matrix bridge"``) and
    ``options`` (by name) to build it from the registered command."""
    data, store = await body(request), store_of(request)
    app_id, user_id = int(data["application_id"]), int(data["user_id"])
    channel_id = optional_id(data, "channel_id")
    command = data.get("data", {"id": "0", "name": "command", "type": 1})
    if data.get("command"):
        guild_id = store.get_channel(channel_id).guild_id if channel_id is not None else None
        command = store.command_data(
            app_id, data["command"], data.get("options"), guild_id=guild_id, user_id=user_id
        )
    interaction = store.create_interaction(
        app_id, user_id, command, channel_id=channel_id, type=int(data.get("type", 2))
    )
    return ok(store.interaction_payload(interaction), 201)


@control_handler
async def interaction_messages(request: web.Request) -> web.Response:
    """The bot's answers to an interaction (original response, then follow-ups), ephemeral
    ones included, as the invoking user sees them."""
    store = store_of(request)
    interaction = store.interactions.get(path_id(request, "interaction_id"))
    if interaction is None:
        raise errors.not_found(errors.UNKNOWN_INTERACTION)
    return ok(
        [payloads_messages.message(store, m) for m in store.interaction_messages(interaction)]
    )


MESSAGE_ROUTES: list[Route] = [
    ("POST", "/channels/{channel_id}/webhooks", create_webhook),
    ("POST", "/channels/{channel_id}/messages", post_message),
    ("GET", "/channels/{channel_id}/messages", list_messages),
    ("POST", "/channels/{channel_id}/messages/bulk-delete", bulk_delete),
    ("POST", "/channels/{channel_id}/history", seed_history),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}", edit_message),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}", delete_message),
    ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions", react),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions", unreact),
    ("PUT", "/channels/{channel_id}/pins/{message_id}", pin),
    ("DELETE", "/channels/{channel_id}/pins/{message_id}", unpin),
    ("POST", "/channels/{channel_id}/typing", typing),
    ("POST", "/interactions", create_interaction),
    ("GET", "/interactions/{interaction_id}/messages", interaction_messages),
]

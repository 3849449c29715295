"""Messages: list, get, create (JSON or multipart), edit, delete, bulk delete."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import errors
from .. import permissions as perms
from ..payloads_messages import message as message_payload
from ..snowflake import snowflake_ms, to_ms
from ..store import Attachment, Message, Store
from .channels import channel_of
from .common import (
    bot_of,
    int_query,
    json_response,
    no_content,
    read_json,
    read_payload,
    require,
    snowflake_param,
    store_of,
)
from .polls import validate_poll

MAX_CONTENT = 2000


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/channels/{channel_id}/messages", list_messages)
    router.add_post("/channels/{channel_id}/messages", create_message)
    router.add_post("/channels/{channel_id}/messages/bulk-delete", bulk_delete)
    router.add_get("/channels/{channel_id}/messages/{message_id}", get_message)
    router.add_patch("/channels/{channel_id}/messages/{message_id}", edit_message)
    router.add_delete("/channels/{channel_id}/messages/{message_id}", delete_message)


def message_of(request: web.Request) -> Message:
    store = store_of(request)
    channel_id = snowflake_param(request, "channel_id", errors.UNKNOWN_CHANNEL)
    return store.get_message(
        channel_id, snowflake_param(request, "message_id", errors.UNKNOWN_MESSAGE)
    )


def validate_body(body: dict[str, Any], files: list[Attachment], *, creating: bool = True) -> None:
    """Discord's checks on a message body: content length, embeds, not empty."""
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        content = str(content)
        body["content"] = content
    if content and len(content) > MAX_CONTENT:
        raise errors.field_error(
            "content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length."
        )
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        raise errors.field_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    if body.get("poll") is not None:
        validate_poll(body["poll"])
    if creating and not (
        content
        or embeds
        or files
        or body.get("sticker_ids")
        or body.get("components")
        or body.get("poll")
    ):
        raise errors.bad_request(50006, "Cannot send an empty message")


def keep_attachments(
    msg: Message | None, body: dict[str, Any], files: list[Attachment]
) -> list[Attachment]:
    """An edit's ``attachments``: the existing ones it lists by id, plus the uploaded files."""
    kept: list[Attachment] = []
    if msg is not None:
        wanted = {str(a.get("id")) for a in body.get("attachments") or [] if isinstance(a, dict)}
        kept = [a for a in msg.attachments if str(a.id) in wanted]
    return kept + files


async def list_messages(request: web.Request) -> web.Response:
    store = store_of(request)
    channel = channel_of(request, perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)
    limit = int_query(request, "limit", 50, lo=1, hi=100) or 50
    anchors = {k: int_query(request, k) for k in ("before", "after", "around")}
    found = store.history(channel.id, limit=limit, **anchors)
    viewer = bot_of(request).id
    return json_response([message_payload(store, m, viewer_id=viewer) for m in found])


async def get_message(request: web.Request) -> web.Response:
    channel_of(request, perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)
    return json_response(
        message_payload(store_of(request), message_of(request), viewer_id=bot_of(request).id)
    )


def _reference(store: Store, channel_id: int, body: dict[str, Any]) -> int | None:
    """The id of the replied-to message, or None (400 if it is unknown and must exist)."""
    ref = body.get("message_reference")
    if not ref or ref.get("type", 0) != 0 or not ref.get("message_id"):
        return None
    ref_channel = int(ref.get("channel_id") or channel_id)
    try:
        return (
            store.get_message(ref_channel, ref["message_id"]).id
            if ref_channel == channel_id
            else None
        )
    except errors.DiscordError:
        if ref.get("fail_if_not_exists", True):
            raise errors.invalid_form(
                {
                    "message_reference": {
                        "_errors": [
                            {
                                "code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                "message": "Unknown message",
                            }
                        ]
                    }
                }
            ) from None
        return None


async def create_message(request: web.Request) -> web.Response:
    store, bot = store_of(request), bot_of(request)
    channel = channel_of(request)
    require(
        request,
        channel.id,
        perms.SEND_MESSAGES_IN_THREADS if channel.thread else perms.SEND_MESSAGES,
    )
    body, files = await read_payload(request)
    if files:
        require(request, channel.id, perms.ATTACH_FILES)
    validate_body(body, files)
    if channel.thread is not None and channel.thread.locked:
        raise errors.bad_request(50083, "Thread is archived")
    if channel.thread is not None and channel.thread.archived:
        store.update_channel(channel.id, archived=False)
    reply_to = _reference(store, channel.id, body)
    msg = store.create_message(
        channel.id,
        bot.id,
        body.get("content") or "",
        attachments=files,
        embeds=body.get("embeds"),
        components=body.get("components"),
        sticker_ids=body.get("sticker_ids"),
        reply_to=reply_to,
        allowed_mentions=body.get("allowed_mentions"),
        tts=bool(body.get("tts", False)),
        nonce=body.get("nonce"),
        poll=body.get("poll"),
        flags=int(body.get("flags") or 0)
        & (1 << 2 | 1 << 12),  # SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS
    )
    return json_response(message_payload(store, msg, viewer_id=bot.id))


async def edit_message(request: web.Request) -> web.Response:
    store, bot = store_of(request), bot_of(request)
    channel = channel_of(request)
    msg = message_of(request)
    body, files = await read_payload(request)
    if msg.author_id != bot.id or msg.webhook_id is not None:
        if set(body) - {"flags"}:
            raise errors.DiscordError(403, 50005, "Cannot edit a message authored by another user")
        require(request, channel.id, perms.MANAGE_MESSAGES)
    validate_body(body, files, creating=False)
    fields: dict[str, Any] = {}
    for key in ("content", "embeds", "components", "flags"):
        if key in body:
            fields[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
    if "attachments" in body or files:
        fields["attachments"] = keep_attachments(msg, body, files)
    msg = store.edit_message(
        channel.id, msg.id, allowed_mentions=body.get("allowed_mentions"), **fields
    )
    return json_response(message_payload(store, msg, viewer_id=bot.id))


async def delete_message(request: web.Request) -> web.Response:
    store, bot = store_of(request), bot_of(request)
    channel = channel_of(request)
    msg = message_of(request)
    if msg.author_id != bot.id:
        require(request, channel.id, perms.MANAGE_MESSAGES)
    store.delete_message(channel.id, msg.id)
    return no_content()


async def bulk_delete(request: web.Request) -> web.Response:
    """2–100 ids, none older than two weeks (50034), as Discord requires."""
    store = store_of(request)
    channel = channel_of(request, perms.MANAGE_MESSAGES)
    body = await read_json(request)
    ids = body.get("messages") or []
    if not 2 <= len(ids) <= 100:
        raise errors.field_error(
            "messages", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length."
        )
    two_weeks_ago = to_ms(None) - 14 * 24 * 3600 * 1000
    if any(snowflake_ms(int(i)) < two_weeks_ago for i in ids):
        raise errors.bad_request(
            50034, "You can only bulk delete messages that are under 14 days old."
        )
    for message_id in ids:
        store.get_message(channel.id, message_id)
    store.bulk_delete(channel.id, [int(i) for i in ids])
    return no_content()

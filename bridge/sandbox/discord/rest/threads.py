"""Threads: create (alone, from a message, forum posts), archived lists, thread members."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from .. import errors, payloads
from .. import permissions as perms
from ..payloads_messages import message as message_payload
from ..store import Channel, ChannelType, Store
from .channels import channel_of
from .common import (
    bot_of,
    int_query,
    json_response,
    no_content,
    read_payload,
    require,
    store_of,
    user_id_param,
)
from .messages import message_of, validate_body


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/channels/{channel_id}/threads", create_thread)
    router.add_post("/channels/{channel_id}/messages/{message_id}/threads", thread_from_message)
    router.add_get("/channels/{channel_id}/threads/archived/public", archived_public)
    router.add_get("/channels/{channel_id}/threads/archived/private", archived_private)
    router.add_get(
        "/channels/{channel_id}/users/@me/threads/archived/private", archived_joined_private
    )
    router.add_get("/channels/{channel_id}/thread-members", list_thread_members)
    router.add_put("/channels/{channel_id}/thread-members/@me", join_thread)
    router.add_delete("/channels/{channel_id}/thread-members/@me", leave_thread)
    router.add_get("/channels/{channel_id}/thread-members/{user_id}", get_thread_member)
    router.add_put("/channels/{channel_id}/thread-members/{user_id}", add_thread_member)
    router.add_delete("/channels/{channel_id}/thread-members/{user_id}", remove_thread_member)


def _name(body: dict[str, object]) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise errors.field_error(
            "name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    return name


def _thread_response(store: Store, thread: Channel, bot_id: int) -> dict[str, object]:
    return payloads.channel(store, thread, for_user=bot_id)


async def create_thread(request: web.Request) -> web.Response:
    """A thread without a starter message; in forum and media channels, a post whose first
    message is ``message`` (JSON or multipart, like a message body)."""
    store, bot = store_of(request), bot_of(request)
    parent = channel_of(request)
    body, files = await read_payload(request)
    kind = int(body.get("type") or ChannelType.PRIVATE_THREAD)
    is_forum = parent.type in (ChannelType.FORUM, ChannelType.MEDIA)
    require(
        request,
        parent.id,
        perms.SEND_MESSAGES
        if is_forum
        else (perms.CREATE_PRIVATE_THREADS if kind == 12 else perms.CREATE_PUBLIC_THREADS),
    )
    content = ""
    if is_forum:
        first = body.get("message")
        if not isinstance(first, dict):
            raise errors.field_error("message", "BASE_TYPE_REQUIRED", "This field is required")
        validate_body(first, files)
        content = first.get("content") or ""
    thread = store.create_thread(
        parent.id,
        _name(body),
        bot.id,
        type=kind,
        auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        invitable=bool(body.get("invitable", True)),
        applied_tags=body.get("applied_tags"),
        content=content,
    )
    if is_forum and (files or (body.get("message") or {}).get("embeds")):
        first_msg = store.messages[thread.id]
        store.edit_message(
            thread.id, thread.id, attachments=files, embeds=body["message"].get("embeds") or []
        )
        first_msg.edited_timestamp = None
    data = _thread_response(store, thread, bot.id)
    if is_forum:
        data["message"] = message_payload(store, store.messages[thread.id], viewer_id=bot.id)
    return json_response(data, 201)


async def thread_from_message(request: web.Request) -> web.Response:
    store, bot = store_of(request), bot_of(request)
    parent = channel_of(request, perms.CREATE_PUBLIC_THREADS)
    msg = message_of(request)
    body, _ = await read_payload(request)
    thread = store.create_thread(
        parent.id,
        _name(body),
        bot.id,
        message_id=msg.id,
        auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
    )
    return json_response(_thread_response(store, thread, bot.id), 201)


async def _archived(
    request: web.Request, *, private: bool, joined_only: bool = False
) -> web.Response:
    store, bot = store_of(request), bot_of(request)
    parent = channel_of(request, perms.READ_MESSAGE_HISTORY)
    if private and not joined_only:
        require(request, parent.id, perms.MANAGE_THREADS)
    limit = int_query(request, "limit", 50, lo=2, hi=100) or 50
    before_raw = request.query.get("before")
    before = None
    if before_raw:
        before = datetime.fromisoformat(before_raw) if not before_raw.isdigit() else None
    threads, has_more = store.archived_threads(
        parent.id, private=private, before=before, limit=limit
    )
    if joined_only:
        threads = [t for t in threads if bot.id in t.thread_members]
    return json_response(payloads.thread_list(store, threads, bot.id, has_more=has_more))


async def archived_public(request: web.Request) -> web.Response:
    return await _archived(request, private=False)


async def archived_private(request: web.Request) -> web.Response:
    return await _archived(request, private=True)


async def archived_joined_private(request: web.Request) -> web.Response:
    return await _archived(request, private=True, joined_only=True)


def _thread(request: web.Request) -> Channel:
    thread = channel_of(request)
    if thread.thread is None:
        raise errors.bad_request(50024, "Cannot execute action on this channel type")
    return thread


async def list_thread_members(request: web.Request) -> web.Response:
    store, thread = store_of(request), _thread(request)
    return json_response(
        [payloads.thread_member(store, thread, tm) for tm in thread.thread_members.values()]
    )


async def get_thread_member(request: web.Request) -> web.Response:
    store, thread = store_of(request), _thread(request)
    tm = thread.thread_members.get(user_id_param(request))
    if tm is None:
        raise errors.not_found(errors.UNKNOWN_MEMBER)
    return json_response(payloads.thread_member(store, thread, tm))


async def join_thread(request: web.Request) -> web.Response:
    store_of(request).add_thread_member(_thread(request).id, bot_of(request).id)
    return no_content()


async def leave_thread(request: web.Request) -> web.Response:
    store_of(request).remove_thread_member(_thread(request).id, bot_of(request).id)
    return no_content()


async def add_thread_member(request: web.Request) -> web.Response:
    store, thread = store_of(request), _thread(request)
    user_id = user_id_param(request)
    store.get_member(thread.guild_id, user_id)
    store.add_thread_member(thread.id, user_id)
    return no_content()


async def remove_thread_member(request: web.Request) -> web.Response:
    thread = _thread(request)
    require(request, thread.id, perms.MANAGE_THREADS)
    store_of(request).remove_thread_member(thread.id, user_id_param(request))
    return no_content()

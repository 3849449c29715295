"""Webhooks: create/list per channel, get/edit/delete, execute, and webhook messages.

Interaction follow-ups share these routes (``/webhooks/{application_id}/{interaction_token}``),
as on Discord.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import errors, payloads
from .. import permissions as perms
from ..payloads_messages import message as message_payload
from ..store import Interaction, Message, Store, Webhook
from ..store.interactions import LOADING
from .channels import channel_of
from .common import (
    bot_of,
    json_response,
    no_content,
    read_json,
    read_payload,
    snowflake_param,
    store_of,
)
from .messages import keep_attachments, validate_body
from .users import decode_image

_FORBIDDEN_NAMES = ("discord", "clyde")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/channels/{channel_id}/webhooks", create_webhook)
    router.add_get("/channels/{channel_id}/webhooks", channel_webhooks)
    router.add_get("/webhooks/{webhook_id}", get_webhook)
    router.add_patch("/webhooks/{webhook_id}", patch_webhook)
    router.add_delete("/webhooks/{webhook_id}", delete_webhook)
    token = "/webhooks/{webhook_id}/{webhook_token}"
    router.add_get(token, get_webhook)
    router.add_patch(token, patch_webhook)
    router.add_delete(token, delete_webhook)
    router.add_post(token, execute)
    router.add_get(token + "/messages/@original", get_message)
    router.add_patch(token + "/messages/@original", edit_message)
    router.add_delete(token + "/messages/@original", delete_message)
    router.add_get(token + "/messages/{message_id}", get_message)
    router.add_patch(token + "/messages/{message_id}", edit_message)
    router.add_delete(token + "/messages/{message_id}", delete_message)


def check_name(name: object, field: str = "name") -> str:
    """Discord's webhook name rules: 1–80 characters, no "discord" or "clyde"."""
    if not isinstance(name, str) or not 1 <= len(name) <= 80:
        raise errors.field_error(
            field, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length."
        )
    for word in _FORBIDDEN_NAMES:
        if word in name.casefold():
            code = "USERNAME_INVALID_CONTAINS"
            raise errors.field_error(field, code, f'Username cannot contain "{word}"')
    return name


async def create_webhook(request: web.Request) -> web.Response:
    store, bot = store_of(request), bot_of(request)
    channel = channel_of(request, perms.MANAGE_WEBHOOKS)
    body = await read_json(request)
    avatar = decode_image(body.get("avatar")) if body.get("avatar") else None
    hook = store.create_webhook(
        channel.id, check_name(body.get("name")), user_id=bot.id, avatar=avatar
    )
    return json_response(payloads.webhook(store, hook))


async def channel_webhooks(request: web.Request) -> web.Response:
    store = store_of(request)
    channel = channel_of(request, perms.MANAGE_WEBHOOKS)
    return json_response(
        [payloads.webhook(store, w) for w in store.webhooks.values() if w.channel_id == channel.id]
    )


def _hook(request: web.Request) -> Webhook:
    """The webhook of the route; without a token in the path, the bot needs MANAGE_WEBHOOKS."""
    store = store_of(request)
    token = request.match_info.get("webhook_token")
    hook = store.get_webhook(snowflake_param(request, "webhook_id", errors.UNKNOWN_WEBHOOK), token)
    if token is None:
        bot = bot_of(request)
        if not perms.has(
            perms.channel_permissions(store, hook.channel_id, bot.id), perms.MANAGE_WEBHOOKS
        ):
            raise errors.missing_permissions()
    return hook


def _webhook_response(request: web.Request, hook: Webhook) -> web.Response:
    """The webhook; through the token routes (no bot authorisation) without its ``user``."""
    data = payloads.webhook(store_of(request), hook)
    if "webhook_token" in request.match_info:
        data.pop("user", None)
    return json_response(data)


async def get_webhook(request: web.Request) -> web.Response:
    return _webhook_response(request, _hook(request))


async def patch_webhook(request: web.Request) -> web.Response:
    store, hook = store_of(request), _hook(request)
    body = await read_json(request)
    fields: dict[str, Any] = {}
    if "name" in body:
        fields["name"] = check_name(body["name"])
    if "avatar" in body:
        fields["avatar"] = decode_image(body["avatar"])
    if body.get("channel_id") and "webhook_token" not in request.match_info:
        fields["channel_id"] = int(body["channel_id"])
    return _webhook_response(request, store.update_webhook(hook.id, **fields))


async def delete_webhook(request: web.Request) -> web.Response:
    store, hook = store_of(request), _hook(request)
    store.delete_webhook(hook.id)
    return no_content()


def _target(request: web.Request) -> Webhook | Interaction:
    """A webhook, or an interaction when the path is an application id and interaction token."""
    store = store_of(request)
    webhook_id, token = request.match_info["webhook_id"], request.match_info["webhook_token"]
    if webhook_id.isdigit():
        interaction = store.interaction_by_token(int(webhook_id), token)
        if interaction is not None:
            return interaction
    return store.get_webhook(int(webhook_id) if webhook_id.isdigit() else -1, token)


def _thread_channel(store: Store, hook: Webhook, request: web.Request) -> int:
    thread_id = request.query.get("thread_id")
    if not thread_id:
        return hook.channel_id
    thread = store.get_channel(int(thread_id) if thread_id.isdigit() else -1)
    if thread.parent_id != hook.channel_id:
        raise errors.not_found(errors.UNKNOWN_CHANNEL)
    return thread.id


async def execute(request: web.Request) -> web.Response:
    store = store_of(request)
    target = _target(request)
    body, files = await read_payload(request)
    validate_body(body, files)
    if len(files) > 10:
        raise errors.field_error("files", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    common: dict[str, Any] = {
        "attachments": files,
        "embeds": body.get("embeds"),
        "components": body.get("components"),
        "allowed_mentions": body.get("allowed_mentions"),
        "tts": bool(body.get("tts", False)),
        "flags": int(body.get("flags") or 0),
        "poll": body.get("poll"),
    }
    if isinstance(target, Interaction):
        app = store.applications[target.application_id]
        if target.channel_id is None:
            raise errors.not_found(errors.UNKNOWN_CHANNEL)
        msg = store.create_message(
            target.channel_id,
            app.bot_id,
            body.get("content") or "",
            application_id=app.id,
            webhook_id=None,
            **common,
        )
        target.followup_ids.append(msg.id)
        return json_response(message_payload(store, msg))
    hook = target
    username = check_name(body["username"], "username") if body.get("username") else None
    channel_id = _thread_channel(store, hook, request)
    if body.get("thread_name") and store.channels[hook.channel_id].type in (15, 16):
        thread = store.create_thread(
            hook.channel_id,
            body["thread_name"],
            hook.id,
            content="",
            applied_tags=body.get("applied_tags"),
        )
        channel_id = thread.id
    msg = store.create_message(
        channel_id,
        hook.id,
        body.get("content") or "",
        webhook_id=hook.id,
        webhook_name=username,
        webhook_avatar_url=body.get("avatar_url"),
        application_id=hook.application_id,
        **common,
    )
    if request.query.get("wait", "false").lower() not in ("true", "1"):
        return no_content()
    return json_response(message_payload(store, msg))


def _webhook_message(request: web.Request) -> Message:
    store = store_of(request)
    target = _target(request)
    raw = request.match_info.get("message_id")
    if isinstance(target, Interaction):
        msg_id = target.original_message_id if raw is None else (int(raw) if raw.isdigit() else -1)
        msg = store.messages.get(msg_id or -1) or store.ephemerals.get(msg_id or -1)
        if msg is None or msg.application_id != target.application_id:
            raise errors.not_found(errors.UNKNOWN_MESSAGE)
        return msg
    if raw is None:
        raise errors.not_found(errors.UNKNOWN_MESSAGE)
    channel_id = _thread_channel(store, target, request)
    msg = store.get_message(channel_id, int(raw) if raw.isdigit() else -1)
    if msg.webhook_id != target.id:
        raise errors.not_found(errors.UNKNOWN_MESSAGE)
    return msg


async def get_message(request: web.Request) -> web.Response:
    return json_response(message_payload(store_of(request), _webhook_message(request)))


async def edit_message(request: web.Request) -> web.Response:
    store = store_of(request)
    msg = _webhook_message(request)
    body, files = await read_payload(request)
    validate_body(body, files, creating=False)
    fields: dict[str, Any] = {}
    for key in ("content", "embeds", "components"):
        if key in body:
            fields[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
    if "attachments" in body or files:
        fields["attachments"] = keep_attachments(msg, body, files)
    if msg.flags & LOADING:  # the reply to a deferred interaction is loading until edited
        fields["flags"] = msg.flags & ~LOADING
    msg = store.edit_message(
        msg.channel_id, msg.id, allowed_mentions=body.get("allowed_mentions"), **fields
    )
    return json_response(message_payload(store, msg))


async def delete_message(request: web.Request) -> web.Response:
    msg = _webhook_message(request)
    store_of(request).delete_message(msg.channel_id, msg.id)
    return no_content()

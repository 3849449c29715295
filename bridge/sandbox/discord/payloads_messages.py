"""Serialisers for messages, their attachments and reactions, and message-related events."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import payloads
from .snowflake import snowflake_time
from .store.models import Attachment, Message, Reaction

if TYPE_CHECKING:
    from .store.base import StoreBase as Store

#: Secret for the ``hm`` signature of attachment URLs (the emulator does not check it strictly).
_URL_SECRET = b"discord-emulator"
_URL_LIFETIME = 24 * 3600


def attachment_path(channel_id: int, att: Attachment) -> str:
    return f"attachments/{channel_id}/{att.id}/{quote(att.filename)}"


def signed_query(path: str, now: float | None = None) -> str:
    """Discord-like ``ex``/``is``/``hm`` parameters: hex expiry, hex issue time, HMAC."""
    issued = int(now if now is not None else time.time())
    ex, is_ = f"{issued + _URL_LIFETIME:x}", f"{issued:x}"
    hm = hmac.new(_URL_SECRET, f"{path}|{ex}|{is_}".encode(), hashlib.sha256).hexdigest()
    return f"ex={ex}&is={is_}&hm={hm}&"


def attachment(store: Store, channel_id: int, att: Attachment) -> dict[str, Any]:
    path = attachment_path(channel_id, att)
    url = f"{store.cdn_url}/{path}?{signed_query(path)}"
    data: dict[str, Any] = {
        "id": str(att.id),
        "filename": att.filename,
        "size": att.size,
        "url": url,
        "proxy_url": url,
    }
    if att.content_type:
        data["content_type"] = att.content_type
    if att.description:
        data["description"] = att.description
    if att.width is not None and att.height is not None:
        data["width"], data["height"] = att.width, att.height
    if att.duration_secs is not None:
        data["duration_secs"] = att.duration_secs
    if att.waveform is not None:
        data["waveform"] = att.waveform
    return data


def poll(request: dict[str, Any], created: datetime) -> dict[str, Any]:
    """A poll as Discord returns it, from the PollCreateRequest it was posted with (no votes
    yet, not finalised)."""

    def media(given: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {"text": given.get("text", "")}
        emoji = given.get("emoji")
        if emoji:
            data["emoji"] = {"id": payloads.sid(emoji.get("id")), "name": emoji.get("name")}
        return data

    hours = int(request.get("duration") or 24)
    return {
        "question": media(request.get("question") or {}),
        "answers": [
            {"answer_id": number, "poll_media": media(answer.get("poll_media") or {})}
            for number, answer in enumerate(request.get("answers") or [], start=1)
        ],
        "expiry": payloads.iso(created + timedelta(hours=hours)),
        "allow_multiselect": bool(request.get("allow_multiselect")),
        "layout_type": int(request.get("layout_type") or 1),
        "results": {"answer_counts": [], "is_finalized": False},
    }


#: The fields of a message that a forward copies into its ``message_snapshots``.
SNAPSHOT_FIELDS = (
    "type",
    "content",
    "mentions",
    "mention_roles",
    "attachments",
    "embeds",
    "timestamp",
    "edited_timestamp",
    "flags",
    "components",
    "sticker_items",
)


def snapshot(store: Store, msg: Message) -> dict[str, Any]:
    """A forwarded message as the forward carries it: ``{"message": {…}}``."""
    data = message(store, msg, with_referenced=False)
    return {"message": {key: data[key] for key in SNAPSHOT_FIELDS if key in data}}


def reaction(store: Store, r: Reaction, viewer_id: int | None) -> dict[str, Any]:
    return {
        "emoji": reaction_emoji(r),
        "count": len(r.user_ids),
        "count_details": {"burst": 0, "normal": len(r.user_ids)},
        "burst_colors": [],
        "me_burst": False,
        "me": viewer_id in r.user_ids,
    }


def reaction_emoji(r: Reaction) -> dict[str, Any]:
    data: dict[str, Any] = {"id": payloads.sid(r.emoji_id), "name": r.name}
    if r.emoji_id:
        data["animated"] = r.animated
    return data


def author(store: Store, msg: Message) -> dict[str, Any]:
    """The author; for webhook messages, the webhook's identity with its per-message overrides."""
    if msg.webhook_id is not None:
        hook = store.webhooks.get(msg.webhook_id)
        return {
            "id": str(msg.webhook_id),
            "username": msg.webhook_name or (hook.name if hook else "Webhook"),
            "global_name": None,
            "discriminator": "0000",
            "avatar": msg.webhook_avatar or (hook.avatar if hook else None),
            "bot": True,
            "public_flags": 0,
            "flags": 0,
            "primary_guild": None,
        }
    return payloads.user(store, store.users[msg.author_id])


def message(
    store: Store, msg: Message, *, viewer_id: int | None = None, with_referenced: bool = True
) -> dict[str, Any]:
    """A message as REST returns it. ``viewer_id`` decides the reactions' ``me``."""
    data: dict[str, Any] = {
        "type": msg.type,
        "content": msg.content,
        "mentions": [
            payloads.user(store, store.users[u]) for u in msg.mentions if u in store.users
        ],
        "mention_roles": [str(r) for r in msg.mention_roles],
        "attachments": [attachment(store, msg.channel_id, a) for a in msg.attachments],
        "embeds": [dict(e) for e in msg.embeds],
        "timestamp": payloads.iso(msg.timestamp or snowflake_time(msg.id)),
        "edited_timestamp": payloads.iso(msg.edited_timestamp),
        "flags": msg.flags,
        "components": [dict(c) for c in msg.components],
        "id": str(msg.id),
        "channel_id": str(msg.channel_id),
        "author": author(store, msg),
        "pinned": msg.pinned,
        "mention_everyone": msg.mention_everyone,
        "tts": msg.tts,
    }
    if msg.webhook_id is not None:
        data["webhook_id"] = str(msg.webhook_id)
    if msg.application_id is not None:
        data["application_id"] = str(msg.application_id)
    if msg.nonce is not None:
        data["nonce"] = msg.nonce
    if msg.interaction is not None:
        data["interaction_metadata"] = dict(msg.interaction)
    if msg.sticker_ids:
        guild = store.guilds.get(msg.guild_id) if msg.guild_id else None
        stickers = [guild.stickers[s] for s in msg.sticker_ids if guild and s in guild.stickers]
        data["sticker_items"] = [
            {"id": str(s.id), "name": s.name, "format_type": s.format_type} for s in stickers
        ]
    if msg.poll is not None:
        data["poll"] = dict(msg.poll)
    if msg.message_snapshots:
        data["message_snapshots"] = [dict(s) for s in msg.message_snapshots]
    if msg.reactions:
        data["reactions"] = [reaction(store, r, viewer_id) for r in msg.reactions]
    if msg.message_reference is not None:
        data["message_reference"] = {
            key: str(value) if key.endswith("_id") and value is not None else value
            for key, value in msg.message_reference.items()
        }
        if with_referenced and msg.type == 19:
            ref_id = msg.message_reference.get("message_id")
            ref = store.messages.get(int(ref_id)) if ref_id else None
            data["referenced_message"] = (
                message(store, ref, viewer_id=viewer_id, with_referenced=False) if ref else None
            )
    if msg.thread_id is not None and msg.thread_id in store.channels:
        data["thread"] = payloads.channel(store, store.channels[msg.thread_id])
    channel = store.channels.get(msg.channel_id)
    if channel is not None and channel.thread is not None:
        data["position"] = max(channel.total_message_sent - 1, 0)
    return data


def message_event(store: Store, msg: Message) -> dict[str, Any]:
    """MESSAGE_CREATE/UPDATE data: the message plus ``guild_id`` and the author's ``member``."""
    data = message(store, msg)
    if msg.guild_id is not None:
        data["guild_id"] = str(msg.guild_id)
        guild = store.guilds.get(msg.guild_id)
        if msg.webhook_id is None and guild and msg.author_id in guild.members:
            data["member"] = payloads.member(store, guild.members[msg.author_id], with_user=False)
    return data

"""Messages and bulk-seeded history (pins and typing: ``pins.py``)."""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .. import errors, payloads, payloads_messages
from .. import permissions as perms
from ..events import Intents
from ..snowflake import snowflake_time
from .base import utcnow
from .models import Attachment, ChannelType, Message, MessageType
from .reactions import ReactionsMixin

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_UNSET: Any = object()
EPHEMERAL = 1 << 6  # message flag: an interaction reply only its user sees


class MessagesMixin(ReactionsMixin):
    # ---- messages ------------------------------------------------------------------------

    def create_message(
        self,
        channel_id: int,
        author_id: int,
        content: str = "",
        *,
        timestamp: datetime | None = None,
        type: int = MessageType.DEFAULT,
        attachments: list[Attachment] | None = None,
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
        sticker_ids: list[int] | None = None,
        reply_to: int | None = None,
        message_reference: dict[str, Any] | None = None,
        allowed_mentions: dict[str, Any] | None = None,
        tts: bool = False,
        nonce: str | int | None = None,
        flags: int = 0,
        webhook_id: int | None = None,
        webhook_name: str | None = None,
        webhook_avatar_url: str | None = None,
        application_id: int | None = None,
        interaction: dict[str, Any] | None = None,
        poll: dict[str, Any] | None = None,
        message_id: int | None = None,
        emit: bool = True,
    ) -> Message:
        """Post a message; emits MESSAGE_CREATE (intent GUILD_MESSAGES).

        ``reply_to`` (a message id in the same channel) makes it a reply (type 19).
        Mentions are parsed from ``content`` (``<@id>``, ``<@&id>``, ``@everyone``) and filtered
        by ``allowed_mentions`` as Discord does. ``author_id`` is the webhook id for webhook
        messages (with ``webhook_id`` set). ``poll`` is a PollCreateRequest (``{"question":
        {"text"}, "answers": [{"poll_media": {"text", "emoji"?}}], "duration"?,
        "allow_multiselect"?}``), stored as Discord returns it. A ``message_reference`` of type 1
        (FORWARD) copies the referenced message into ``message_snapshots``, as Discord does.
        """
        channel = self.get_channel(channel_id)
        if channel.type not in ChannelType.MESSAGEABLE:
            raise errors.bad_request(50008, "Cannot send messages in a non-text channel")
        if webhook_id is None:
            self.get_user(author_id)
        if reply_to is not None:
            ref = self.get_message(channel.id, reply_to)
            message_reference = {
                "type": 0,
                "channel_id": str(channel.id),
                "message_id": str(ref.id),
                "guild_id": str(channel.guild_id),
            }
            if type == MessageType.DEFAULT:
                type = MessageType.REPLY
        msg = Message(
            message_id or self.ids.next(timestamp),
            channel.id,
            channel.guild_id,
            author_id,
            content,
            type=type,
            timestamp=timestamp,
            tts=tts,
            attachments=list(attachments or []),
            embeds=[dict(e, type=e.get("type", "rich")) for e in embeds or []],
            components=list(components or []),
            sticker_ids=[int(s) for s in sticker_ids or []],
            message_reference=message_reference,
            webhook_id=webhook_id,
            webhook_name=webhook_name,
            webhook_avatar=_avatar_hash(webhook_avatar_url),
            webhook_avatar_url=webhook_avatar_url,
            application_id=application_id,
            interaction=interaction,
            nonce=nonce,
            flags=flags,
        )
        if poll is not None:
            msg.poll = payloads_messages.poll(poll, self.message_time(msg))
        if message_reference is not None and int(message_reference.get("type", 0)) == 1:
            forwarded = self.get_message(
                int(message_reference.get("channel_id") or channel.id),
                int(message_reference["message_id"]),
            )
            msg.message_snapshots = [payloads_messages.snapshot(self, forwarded)]
        self._resolve_mentions(msg, allowed_mentions)
        if msg.flags & EPHEMERAL:  # only the invoking user sees it: no history, no event
            self.ephemerals[msg.id] = msg
            for att in msg.attachments:
                self.attachments[att.id] = (msg.channel_id, att)
            return msg
        self._insert(msg)
        if emit:
            data = payloads_messages.message_event(self, msg)
            self.emit("MESSAGE_CREATE", data, channel.guild_id, Intents.GUILD_MESSAGES, channel.id)
        return msg

    def _resolve_mentions(self, msg: Message, allowed: dict[str, Any] | None) -> None:
        parse = (
            set(allowed.get("parse", [])) if allowed is not None else {"users", "roles", "everyone"}
        )
        allowed_users = {int(u) for u in allowed.get("users", [])} if allowed else set()
        allowed_roles = {int(r) for r in allowed.get("roles", [])} if allowed else set()
        users = [int(u) for u in _USER_MENTION.findall(msg.content)]
        roles = [int(r) for r in _ROLE_MENTION.findall(msg.content)]
        guild = self.guilds.get(msg.guild_id) if msg.guild_id else None
        mentions = [
            u for u in users if u in self.users and ("users" in parse or u in allowed_users)
        ]
        replied_to = (msg.message_reference or {}).get("message_id")
        if (
            msg.type == MessageType.REPLY
            and replied_to is not None
            and (allowed is None or allowed.get("replied_user", False))
        ):
            ref = self.messages.get(int(replied_to))
            if ref is not None and ref.webhook_id is None:
                mentions.append(ref.author_id)
        msg.mentions = list(dict.fromkeys(mentions))
        msg.mention_roles = list(
            dict.fromkeys(
                r
                for r in roles
                if guild and r in guild.roles and ("roles" in parse or r in allowed_roles)
            )
        )
        msg.mention_everyone = (
            "everyone" in parse
            and ("@everyone" in msg.content or "@here" in msg.content)
            and self._may_mention_everyone(msg)
        )

    def _may_mention_everyone(self, msg: Message) -> bool:
        """Whether the author may ping @everyone/@here: a member needs MENTION_EVERYONE in
        the channel (Discord's permission docs); a webhook is outside the permission system,
        only its ``allowed_mentions`` limit it (see the README, "Mentions")."""
        if msg.webhook_id is not None:
            return True
        if msg.guild_id is None:
            return False
        channel_perms = perms.channel_permissions(self, msg.channel_id, msg.author_id)  # type: ignore[arg-type]
        return perms.has(channel_perms, perms.MENTION_EVERYONE)

    def _insert(self, msg: Message) -> None:
        ids = self.channel_messages.setdefault(msg.channel_id, [])
        if not ids or msg.id > ids[-1]:
            ids.append(msg.id)
        else:
            bisect.insort(ids, msg.id)
        self.messages[msg.id] = msg
        for att in msg.attachments:
            self.attachments[att.id] = (msg.channel_id, att)
        channel = self.channels[msg.channel_id]
        channel.last_message_id = max(channel.last_message_id or 0, msg.id)
        if channel.thread is not None and msg.type != MessageType.THREAD_STARTER_MESSAGE:
            channel.message_count += 1
            channel.total_message_sent += 1

    def edit_message(
        self,
        channel_id: int,
        message_id: int,
        *,
        content: str = _UNSET,
        embeds: list[dict[str, Any]] = _UNSET,
        attachments: list[Attachment] = _UNSET,
        components: list[dict[str, Any]] = _UNSET,
        flags: int = _UNSET,
        allowed_mentions: dict[str, Any] | None = None,
        edited_at: datetime | None = None,
    ) -> Message:
        """Change a message; emits MESSAGE_UPDATE (not for an ephemeral one). ``attachments``
        is the full list to keep."""
        msg = self.ephemerals.get(int(message_id)) or self.get_message(channel_id, message_id)
        if content is not _UNSET:
            msg.content = content or ""
            self._resolve_mentions(msg, allowed_mentions)
        if embeds is not _UNSET:
            msg.embeds = [dict(e, type=e.get("type", "rich")) for e in embeds or []]
        if attachments is not _UNSET:
            msg.attachments = list(attachments)
        if components is not _UNSET:
            msg.components = list(components or [])
        if flags is not _UNSET:
            msg.flags = flags
        msg.edited_timestamp = edited_at or utcnow()
        self._emit_message_update(msg)
        return msg

    def resolve_embeds(
        self, channel_id: int, message_id: int, embeds: list[dict[str, Any]]
    ) -> None:
        """Discord unfurling a link: embeds added, no edit (``edited_timestamp`` unchanged);
        emits MESSAGE_UPDATE."""
        msg = self.get_message(channel_id, message_id)
        msg.embeds = [dict(e, type=e.get("type", "rich")) for e in embeds]
        self._emit_message_update(msg)

    def end_poll(self, channel_id: int, message_id: int) -> None:
        """A poll ended early (``expire``): finalised, expiry now; emits MESSAGE_UPDATE."""
        msg = self.get_message(channel_id, message_id)
        assert msg.poll is not None
        results = dict(msg.poll.get("results") or {}, is_finalized=True)
        msg.poll = dict(msg.poll, results=results, expiry=payloads.iso(utcnow()))
        self._emit_message_update(msg)

    def _emit_message_update(self, msg: Message) -> None:
        if msg.id in self.ephemerals:
            return
        data = payloads_messages.message_event(self, msg)
        self.emit("MESSAGE_UPDATE", data, msg.guild_id, Intents.GUILD_MESSAGES, msg.channel_id)

    def delete_message(self, channel_id: int, message_id: int) -> None:
        """Delete a message; emits MESSAGE_DELETE (not for an ephemeral one)."""
        if self.ephemerals.pop(int(message_id), None) is not None:
            return
        msg = self.get_message(channel_id, message_id)
        self._remove(msg)
        data = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        self.emit("MESSAGE_DELETE", data, msg.guild_id, Intents.GUILD_MESSAGES, msg.channel_id)

    def bulk_delete(self, channel_id: int, message_ids: list[int]) -> None:
        """Delete several messages at once; emits MESSAGE_DELETE_BULK."""
        channel = self.get_channel(channel_id)
        found = [
            self.get_message(channel.id, m) for m in dict.fromkeys(int(m) for m in message_ids)
        ]
        for msg in found:
            self._remove(msg)
        data = {
            "ids": [str(m.id) for m in found],
            "channel_id": str(channel.id),
            "guild_id": str(channel.guild_id),
        }
        self.emit("MESSAGE_DELETE_BULK", data, channel.guild_id, Intents.GUILD_MESSAGES, channel.id)

    def _remove(self, msg: Message) -> None:
        del self.messages[msg.id]
        ids = self.channel_messages[msg.channel_id]
        del ids[bisect.bisect_left(ids, msg.id)]
        if msg.id in self.pins.get(msg.channel_id, []):
            self.pins[msg.channel_id].remove(msg.id)
        channel = self.channels[msg.channel_id]
        if channel.thread is not None and channel.message_count > 0:
            channel.message_count -= 1

    def history(
        self,
        channel_id: int,
        *,
        before: int | None = None,
        after: int | None = None,
        around: int | None = None,
        limit: int = 50,
    ) -> list[Message]:
        """Messages as ``GET /channels/{id}/messages`` returns them: newest first."""
        ids = self.channel_messages.get(self.get_channel(channel_id).id, [])
        if around is not None:
            mid = bisect.bisect_left(ids, around)
            start = max(mid - limit // 2, 0)
            picked = ids[start : start + limit]
        elif after is not None:
            start = bisect.bisect_right(ids, after)
            picked = ids[start : start + limit]
        else:
            end = bisect.bisect_left(ids, before) if before is not None else len(ids)
            picked = ids[max(end - limit, 0) : end]
        return [self.messages[i] for i in reversed(picked)]

    def seed_history(self, channel_id: int, entries: Iterable[Mapping[str, Any]]) -> list[int]:
        """Bulk-insert past messages without emitting anything (100 000 in a few seconds).

        Each entry: ``author_id``, ``timestamp`` (datetime), optional ``content``, ``type``,
        ``reply_to`` (id of an earlier seeded or existing message), ``attachments``, ``embeds``,
        ``edited_timestamp``, ``pinned``. Returns the new ids in the order given.
        """
        channel = self.get_channel(channel_id)
        new_ids: list[int] = []
        for entry in entries:
            ts = entry["timestamp"]
            msg = Message(
                self.ids.next(ts),
                channel.id,
                channel.guild_id,
                int(entry["author_id"]),
                entry.get("content", ""),
                type=entry.get("type", MessageType.DEFAULT),
                timestamp=ts,
                edited_timestamp=entry.get("edited_timestamp"),
                attachments=list(entry.get("attachments", [])),
                embeds=list(entry.get("embeds", [])),
                pinned=bool(entry.get("pinned", False)),
            )
            if entry.get("reply_to") is not None:
                msg.type = MessageType.REPLY
                msg.message_reference = {
                    "type": 0,
                    "channel_id": str(channel.id),
                    "message_id": str(entry["reply_to"]),
                    "guild_id": str(channel.guild_id),
                }
            self.messages[msg.id] = msg
            for att in msg.attachments:
                self.attachments[att.id] = (channel.id, att)
            new_ids.append(msg.id)
            if msg.pinned:
                self.pins.setdefault(channel.id, []).append(msg.id)
                self.pin_times[msg.id] = ts
        ids = self.channel_messages.setdefault(channel.id, [])
        ids.extend(new_ids)
        ids.sort()
        if ids:
            channel.last_message_id = ids[-1]
        if channel.thread is not None:
            channel.message_count += len(new_ids)
            channel.total_message_sent += len(new_ids)
        return new_ids

    def message_time(self, msg: Message) -> datetime:
        return msg.timestamp or snowflake_time(msg.id)


def _avatar_hash(url: str | None) -> str | None:
    """A stable fake avatar hash for an ``avatar_url`` (Discord re-hosts the image)."""
    if not url:
        return None
    return hashlib.md5(url.encode()).hexdigest()

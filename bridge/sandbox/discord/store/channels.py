"""Channels, threads and their members, and webhooks."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .. import errors, payloads
from ..events import Intents
from .base import utcnow
from .models import Channel, ChannelType, MessageType, ThreadMember, ThreadMetadata, Webhook
from .pins import PinsMixin

_CHANNEL_FIELDS = frozenset(
    {
        "name",
        "position",
        "parent_id",
        "topic",
        "nsfw",
        "rate_limit_per_user",
        "bitrate",
        "user_limit",
        "flags",
        "permission_overwrites",
        "default_auto_archive_duration",
        "available_tags",
        "applied_tags",
        "type",
    }
)
_THREAD_FIELDS = frozenset({"archived", "auto_archive_duration", "locked", "invitable"})


class ChannelsMixin(PinsMixin):
    # ---- channels ------------------------------------------------------------------------

    def create_channel(
        self,
        guild_id: int,
        name: str,
        type: int = ChannelType.TEXT,
        *,
        parent_id: int | None = None,
        topic: str | None = None,
        position: int | None = None,
        nsfw: bool = False,
        permission_overwrites: list[dict[str, Any]] | None = None,
        channel_id: int | None = None,
        emit: bool = True,
    ) -> Channel:
        """A guild channel (not a thread: see ``create_thread``); emits CHANNEL_CREATE."""
        guild = self.get_guild(guild_id)
        if type in ChannelType.THREADS:
            raise errors.field_error("type", "BASE_TYPE_CHOICES", "Use create_thread for threads")
        if parent_id is not None and self.get_channel(parent_id).type != ChannelType.CATEGORY:
            raise errors.field_error("parent_id", "CHANNEL_PARENT_INVALID_TYPE", "Not a category")
        if position is None:
            siblings = [
                self.channels[c] for c in guild.channel_ids if self.channels[c].thread is None
            ]
            position = max((c.position for c in siblings), default=-1) + 1
        channel = Channel(
            channel_id or self.ids.next(),
            guild.id,
            type,
            name,
            position=position,
            parent_id=parent_id,
            topic=topic,
            nsfw=nsfw,
            permission_overwrites=[_overwrite(o) for o in permission_overwrites or []],
        )
        self.channels[channel.id] = channel
        self.channel_messages[channel.id] = []
        guild.channel_ids.append(channel.id)
        if emit:
            self.emit("CHANNEL_CREATE", payloads.channel(self, channel), guild.id, Intents.GUILDS)
        return channel

    def update_channel(self, channel_id: int, **fields: Any) -> Channel:
        """Set channel or thread fields; threads also take ``archived``, ``locked``,
        ``auto_archive_duration``, ``invitable``. Emits CHANNEL_UPDATE or THREAD_UPDATE."""
        channel = self.get_channel(channel_id)
        for key, value in fields.items():
            if key in _THREAD_FIELDS and channel.thread is not None:
                setattr(channel.thread, key, value)
                if key == "archived":
                    channel.thread.archive_timestamp = utcnow()
            elif key in _CHANNEL_FIELDS:
                if key == "permission_overwrites":
                    value = [_overwrite(o) for o in value or []]
                if key in ("parent_id",) and value is not None:
                    value = int(value)
                setattr(channel, key, value)
            else:
                raise errors.field_error(key, "UNKNOWN_FIELD", f"Unknown field {key}")
        self._emit_channel_update(channel)
        return channel

    def _emit_channel_update(self, channel: Channel) -> None:
        name = "THREAD_UPDATE" if channel.thread is not None else "CHANNEL_UPDATE"
        self.emit(name, payloads.channel(self, channel), channel.guild_id, Intents.GUILDS)

    def delete_channel(self, channel_id: int) -> Channel:
        """Delete a channel or thread with its messages (and a channel's threads and webhooks);
        emits CHANNEL_DELETE or THREAD_DELETE."""
        channel = self.get_channel(channel_id)
        guild = self.guilds[channel.guild_id]
        for thread in [c for c in self.channels.values() if c.parent_id == channel.id and c.thread]:
            self.delete_channel(thread.id)
        for msg_id in self.channel_messages.pop(channel.id, []):
            self.messages.pop(msg_id, None)
        self.pins.pop(channel.id, None)
        for hook_id in [w.id for w in self.webhooks.values() if w.channel_id == channel.id]:
            del self.webhooks[hook_id]
        del self.channels[channel.id]
        guild.channel_ids.remove(channel.id)
        if channel.thread is not None:
            data = {
                "id": str(channel.id),
                "guild_id": str(guild.id),
                "parent_id": str(channel.parent_id),
                "type": channel.type,
            }
            self.emit("THREAD_DELETE", data, guild.id, Intents.GUILDS)
        else:
            self.emit("CHANNEL_DELETE", payloads.channel(self, channel), guild.id, Intents.GUILDS)
        return channel

    def guild_channels(self, guild_id: int) -> list[Channel]:
        """The guild's channels, threads excluded, ordered by position."""
        guild = self.get_guild(guild_id)
        chans = [self.channels[c] for c in guild.channel_ids if self.channels[c].thread is None]
        return sorted(chans, key=lambda c: (c.position, c.id))

    # ---- threads -------------------------------------------------------------------------

    def create_thread(
        self,
        channel_id: int,
        name: str,
        owner_id: int,
        *,
        type: int = ChannelType.PUBLIC_THREAD,
        message_id: int | None = None,
        auto_archive_duration: int = 1440,
        invitable: bool = True,
        applied_tags: list[int] | None = None,
        content: str = "",
        created_at: datetime | None = None,
        emit: bool = True,
    ) -> Channel:
        """A thread in ``channel_id``; emits THREAD_CREATE.

        Like Discord: from a message (``message_id``), the thread has the message's id and its
        first message is a type 21 starter pointing at it; without one, in a text channel, the
        parent gets a type 18 "thread created" message; in a forum or media channel the thread
        is a post whose first message (``content``, by the owner) shares the thread's id.
        """
        parent = self.get_channel(channel_id)
        if parent.type not in ChannelType.THREAD_PARENTS:
            raise errors.bad_request(50024, "Cannot execute action on this channel type")
        is_forum = parent.type in (ChannelType.FORUM, ChannelType.MEDIA)
        if message_id is not None:
            starter = self.get_message(parent.id, message_id)
            if starter.thread_id is not None:
                raise errors.bad_request(
                    160004, "A thread has already been created for this message"
                )
            thread_id = starter.id
            type = (
                ChannelType.ANNOUNCEMENT_THREAD if parent.type == 5 else ChannelType.PUBLIC_THREAD
            )
        else:
            thread_id = self.ids.next(created_at)
        if is_forum:
            type = ChannelType.PUBLIC_THREAD
        when = created_at or utcnow()
        thread = Channel(
            thread_id,
            parent.guild_id,
            type,
            name,
            parent_id=parent.id,
            owner_id=owner_id,
            thread=ThreadMetadata(
                auto_archive_duration=auto_archive_duration,
                invitable=invitable,
                create_timestamp=when,
            ),
            applied_tags=[int(t) for t in applied_tags or []],
        )
        thread.thread_members[owner_id] = ThreadMember(owner_id, when)
        self.channels[thread.id] = thread
        self.channel_messages[thread.id] = []
        self.guilds[parent.guild_id].channel_ids.append(thread.id)
        if emit:
            data = payloads.channel(self, thread, for_user=owner_id)
            data["newly_created"] = True
            self.emit("THREAD_CREATE", data, parent.guild_id, Intents.GUILDS)
        ref = {"channel_id": str(parent.id), "guild_id": str(parent.guild_id)}
        if message_id is not None:
            starter.thread_id = thread.id
            self.create_message(
                thread.id,
                starter.author_id,
                "",
                type=MessageType.THREAD_STARTER_MESSAGE,
                message_reference={"type": 0, "message_id": str(starter.id), **ref},
                emit=emit,
            )
            if emit:
                self._emit_message_update(starter)
        elif is_forum:
            self.create_message(thread.id, owner_id, content, message_id=thread.id, emit=emit)
        elif parent.type in (ChannelType.TEXT, ChannelType.ANNOUNCEMENT):
            self.create_message(
                parent.id,
                owner_id,
                name,
                type=MessageType.THREAD_CREATED,
                message_reference={
                    "type": 0,
                    "channel_id": str(thread.id),
                    "guild_id": ref["guild_id"],
                },
                emit=emit,
            )
        return thread

    def add_thread_member(self, thread_id: int, user_id: int) -> None:
        """Join a user to a thread; emits THREAD_MEMBERS_UPDATE."""
        thread = self._get_thread(thread_id)
        if user_id in thread.thread_members:
            return
        tm = ThreadMember(user_id, utcnow())
        thread.thread_members[user_id] = tm
        added = payloads.thread_member(self, thread, tm)
        member = self.guilds[thread.guild_id].members.get(user_id)
        if member is not None:
            added["member"] = payloads.member(self, member)
        self._emit_thread_members(thread, added=[added])

    def remove_thread_member(self, thread_id: int, user_id: int) -> None:
        thread = self._get_thread(thread_id)
        if thread.thread_members.pop(user_id, None) is not None:
            self._emit_thread_members(thread, removed=[user_id])

    def _emit_thread_members(
        self,
        thread: Channel,
        added: Sequence[dict[str, Any]] = (),
        removed: Sequence[int] = (),
    ) -> None:
        data: dict[str, Any] = {
            "id": str(thread.id),
            "guild_id": str(thread.guild_id),
            "member_count": min(len(thread.thread_members), 50),
        }
        if added:
            data["added_members"] = list(added)
        if removed:
            data["removed_member_ids"] = [str(u) for u in removed]
        self.emit("THREAD_MEMBERS_UPDATE", data, thread.guild_id, Intents.GUILD_MEMBERS)

    def _get_thread(self, thread_id: int) -> Channel:
        thread = self.get_channel(thread_id)
        if thread.thread is None:
            raise errors.bad_request(50024, "Cannot execute action on this channel type")
        return thread

    def active_threads(self, guild_id: int) -> list[Channel]:
        guild = self.get_guild(guild_id)
        chans = (self.channels[c] for c in guild.channel_ids)
        return [c for c in chans if c.thread is not None and not c.thread.archived]

    def archived_threads(
        self, channel_id: int, *, private: bool, before: datetime | None = None, limit: int = 50
    ) -> tuple[list[Channel], bool]:
        """Archived threads of a channel, most recently archived first; returns (page, has_more)."""
        parent = self.get_channel(channel_id)
        wanted = {12} if private else {10, 11}
        found = [
            c
            for c in self.channels.values()
            if c.parent_id == parent.id and c.thread and c.thread.archived and c.type in wanted
        ]
        found.sort(key=_archived_at, reverse=True)
        if before is not None:
            found = [c for c in found if _archived_at(c) < before]
        return found[:limit], len(found) > limit

    # ---- webhooks ------------------------------------------------------------------------

    def create_webhook(
        self,
        channel_id: int,
        name: str,
        *,
        user_id: int | None = None,
        avatar: bytes | None = None,
        application_id: int | None = None,
    ) -> Webhook:
        """An incoming webhook with a token; emits WEBHOOKS_UPDATE."""
        channel = self.get_channel(channel_id)
        hook = Webhook(
            self.ids.next(),
            channel.guild_id,
            channel.id,
            name,
            token=secrets.token_urlsafe(51),
            avatar=self.put_blob(avatar) if avatar else None,
            user_id=user_id,
            application_id=application_id,
        )
        self.webhooks[hook.id] = hook
        self._emit_webhooks_update(hook)
        return hook

    def update_webhook(
        self,
        webhook_id: int,
        *,
        name: str | None = None,
        avatar: Any = ...,
        channel_id: int | None = None,
    ) -> Webhook:
        """Rename, re-avatar (bytes or None) or move a webhook; emits WEBHOOKS_UPDATE."""
        hook = self.get_webhook(webhook_id)
        if name is not None:
            hook.name = name
        if avatar is not ...:
            hook.avatar = self.put_blob(avatar) if avatar else None
        if channel_id is not None:
            hook.channel_id = self.get_channel(channel_id).id
        self._emit_webhooks_update(hook)
        return hook

    def delete_webhook(self, webhook_id: int) -> None:
        hook = self.get_webhook(webhook_id)
        del self.webhooks[hook.id]
        self._emit_webhooks_update(hook)

    def _emit_webhooks_update(self, hook: Webhook) -> None:
        data = {"guild_id": str(hook.guild_id), "channel_id": str(hook.channel_id)}
        self.emit("WEBHOOKS_UPDATE", data, hook.guild_id, Intents.GUILD_WEBHOOKS)


def _overwrite(o: dict[str, Any]) -> dict[str, Any]:
    """A permission overwrite in Discord's shape (ids and bit sets as strings)."""
    return {
        "id": str(o["id"]),
        "type": int(o.get("type", 0)),
        "allow": str(o.get("allow", 0)),
        "deny": str(o.get("deny", 0)),
    }


def _archived_at(thread: Channel) -> datetime:
    """When a thread was archived (now if it has no timestamp, e.g. seeded archived)."""
    meta = thread.thread
    return (meta.archive_timestamp if meta else None) or utcnow()

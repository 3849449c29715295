"""Guild bans: banning (with the removal of the member and of their recent messages), unbanning
and listing bans."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from .. import errors, payloads
from .. import permissions as perms
from ..events import Intents
from .base import utcnow
from .interactions import InteractionsMixin
from .models import Ban

#: Longest history a ban may delete (7 days), as Discord allows.
MAX_DELETE_MESSAGE_SECONDS = 7 * 24 * 3600
#: Most users one bulk ban may take.
MAX_BULK_BAN = 200
#: Bots get GUILD_BAN_ADD/REMOVE only with one of these in the guild (and GUILD_MODERATION).
BAN_EVENT_PERMISSIONS = perms.BAN_MEMBERS | perms.VIEW_AUDIT_LOG


class BansMixin(InteractionsMixin):
    def ban_member(
        self,
        guild_id: int,
        user_id: int,
        *,
        reason: str | None = None,
        delete_message_seconds: int = 0,
    ) -> Ban:
        """Ban a user (a member or not) from a guild.

        As Discord does (it removes the member before applying the ban): GUILD_MEMBER_REMOVE if
        they were a member, then GUILD_BAN_ADD ``{guild_id, user}`` (intent GUILD_MODERATION,
        only to bots with BAN_MEMBERS or VIEW_AUDIT_LOG), then, with ``delete_message_seconds``
        > 0, the deletion of their messages of that period in every channel and thread of the
        guild (see :meth:`delete_recent_messages`). Banning a banned user again changes nothing
        but still deletes messages. The owner cannot be banned (403 Missing Permissions).
        """
        guild = self.get_guild(guild_id)
        user = self.get_user(user_id)
        if not 0 <= delete_message_seconds <= MAX_DELETE_MESSAGE_SECONDS:
            raise errors.field_error(
                "delete_message_seconds",
                "NUMBER_TYPE_MAX" if delete_message_seconds > 0 else "NUMBER_TYPE_MIN",
                f"int value should be between 0 and {MAX_DELETE_MESSAGE_SECONDS}.",
            )
        if user.id == guild.owner_id:
            raise errors.missing_permissions()
        if user.id in guild.members:
            self.remove_member(guild.id, user.id)
        ban = guild.bans.get(user.id)
        if ban is None:
            ban = guild.bans[user.id] = Ban(user.id, reason)
            self._emit_ban("GUILD_BAN_ADD", guild.id, user.id)
        if delete_message_seconds > 0:
            self.delete_recent_messages(guild.id, user.id, delete_message_seconds)
        return ban

    def unban_member(self, guild_id: int, user_id: int) -> None:
        """Lift a ban (404 Unknown Ban if there is none); emits GUILD_BAN_REMOVE."""
        ban = self.get_ban(guild_id, user_id)
        del self.guilds[int(guild_id)].bans[ban.user_id]
        self._emit_ban("GUILD_BAN_REMOVE", int(guild_id), ban.user_id)

    def bulk_ban(
        self,
        guild_id: int,
        user_ids: Iterable[int],
        *,
        reason: str | None = None,
        delete_message_seconds: int = 0,
    ) -> tuple[list[int], list[int]]:
        """Ban several users; returns ``(banned, failed)`` user ids.

        Unknown users, the owner and users already banned fail, as on Discord.
        """
        guild = self.get_guild(guild_id)
        banned: list[int] = []
        failed: list[int] = []
        for uid in dict.fromkeys(int(u) for u in user_ids):
            if uid not in self.users or uid == guild.owner_id or uid in guild.bans:
                failed.append(uid)
                continue
            self.ban_member(
                guild.id, uid, reason=reason, delete_message_seconds=delete_message_seconds
            )
            banned.append(uid)
        return banned, failed

    def get_ban(self, guild_id: int, user_id: int) -> Ban:
        """The ban of ``user_id`` in the guild; 404 Unknown Ban if there is none."""
        guild = self.get_guild(guild_id)
        ban = guild.bans.get(int(user_id)) if str(user_id).isdigit() else None
        if ban is None:
            raise errors.not_found(errors.UNKNOWN_BAN)
        return ban

    def bans(
        self,
        guild_id: int,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int | None = 1000,
    ) -> list[Ban]:
        """Bans in ascending user id order, as ``GET /guilds/{id}/bans`` pages them.

        ``after``: the first ``limit`` with a greater user id; ``before`` (when no ``after``):
        the last ``limit`` with a smaller one; neither: the first ``limit`` (None: all).
        """
        found = sorted(self.get_guild(guild_id).bans.values(), key=lambda b: b.user_id)
        if after is not None:
            found = [b for b in found if b.user_id > after]
        elif before is not None:
            found = [b for b in found if b.user_id < before]
            return found if limit is None else found[max(0, len(found) - limit) :]
        return found if limit is None else found[:limit]

    def delete_recent_messages(self, guild_id: int, user_id: int, seconds: int) -> list[int]:
        """Delete what ``user_id`` wrote in the guild in the last ``seconds``; returns the ids.

        Per channel (threads included): MESSAGE_DELETE_BULK, or MESSAGE_DELETE for a single
        message. Webhook messages are not the user's and stay.
        """
        guild = self.get_guild(guild_id)
        cutoff = utcnow() - timedelta(seconds=seconds)
        deleted: list[int] = []
        for channel_id in list(guild.channel_ids):
            ids = [
                mid
                for mid in self.channel_messages.get(channel_id, [])
                if (msg := self.messages[mid]).author_id == int(user_id)
                and msg.webhook_id is None
                and self.message_time(msg) >= cutoff
            ]
            if len(ids) == 1:
                self.delete_message(channel_id, ids[0])
            elif ids:
                self.bulk_delete(channel_id, ids)
            deleted.extend(ids)
        return deleted

    def _emit_ban(self, name: str, guild_id: int, user_id: int) -> None:
        data = {"guild_id": str(guild_id), "user": payloads.user(self, self.users[user_id])}
        self.events.emit(
            name,
            data,
            guild_id=guild_id,
            intent=Intents.GUILD_MODERATION,
            permissions=BAN_EVENT_PERMISSIONS,
        )

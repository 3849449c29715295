"""What the gateway needs from the store: GUILD_CREATE data."""

from __future__ import annotations

from typing import Any

from .. import payloads
from ..events import Intents
from .bans import BansMixin


class SnapshotMixin(BansMixin):
    def guild_create_payload(
        self,
        guild_id: int,
        *,
        intents: Intents,
        user_id: int | None = None,
        large_threshold: int = 50,
    ) -> dict[str, Any]:
        """GUILD_CREATE data for a session of ``user_id`` (the bot) with ``intents``.

        Channels, active threads, roles, emoji and stickers always. Members: everyone when the
        session has GUILD_MEMBERS or GUILD_PRESENCES and the guild is not large (member count
        over ``large_threshold``); otherwise only the bot itself, as Discord sends.
        """
        guild = self.get_guild(guild_id)
        data = payloads.guild(self, guild)
        large = len(guild.members) > large_threshold
        everyone = bool(intents & (Intents.GUILD_MEMBERS | Intents.GUILD_PRESENCES)) and not large
        if everyone:
            members = list(guild.members.values())
        else:
            members = [guild.members[user_id]] if user_id in guild.members else []
        me = guild.members.get(user_id) if user_id is not None else None
        data.update(
            joined_at=payloads.iso(me.joined_at) if me else None,
            large=large,
            unavailable=False,
            member_count=len(guild.members),
            members=[payloads.member(self, m) for m in members],
            channels=[payloads.channel(self, c) for c in self.guild_channels(guild.id)],
            threads=[
                payloads.channel(self, t, for_user=user_id) for t in self.active_threads(guild.id)
            ],
            voice_states=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
        )
        return data

    def member_payload(self, guild_id: int, user_id: int) -> dict[str, Any]:
        """A member with its user (for GUILD_MEMBERS_CHUNK and the like)."""
        return payloads.member(self, self.get_member(guild_id, user_id))

    def user_payload(self, user_id: int) -> dict[str, Any]:
        return payloads.user(self, self.get_user(user_id))

    def message_payload(self, channel_id: int, message_id: int) -> dict[str, Any]:
        """A message as MESSAGE_CREATE carries it (with ``guild_id`` and ``member``)."""
        from .. import payloads_messages

        return payloads_messages.message_event(self, self.get_message(channel_id, message_id))

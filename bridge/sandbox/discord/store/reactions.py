"""Reactions on messages."""

from __future__ import annotations

import re
from typing import Any

from .. import errors, payloads, payloads_messages
from ..events import Intents
from ..unicode_emoji import refused_spelling
from .base import StoreBase
from .models import Message, Reaction

_CUSTOM_EMOJI = re.compile(r"^<?(a)?:?([\w~-]+):(\d+)>?$")


class ReactionsMixin(StoreBase):
    # ---- reactions -----------------------------------------------------------------------

    def parse_emoji(self, emoji: str) -> tuple[int | None, str, bool]:
        """``name:id``, ``<:name:id>``, ``a:name:id`` or a unicode emoji → (id, name, animated).

        A unicode emoji not in Discord's spelling (``👍\\uFE0F``) is 400 Unknown Emoji (10014).
        """
        match = _CUSTOM_EMOJI.match(emoji)
        if match:
            return int(match.group(3)), match.group(2), bool(match.group(1))
        if not emoji or len(emoji) > 32 or refused_spelling(emoji):
            raise errors.bad_request(10014, "Unknown Emoji")
        return None, emoji, False

    def add_reaction(self, channel_id: int, message_id: int, user_id: int, emoji: str) -> None:
        """React; emits MESSAGE_REACTION_ADD (intent GUILD_MESSAGE_REACTIONS)."""
        msg = self.get_message(channel_id, message_id)
        emoji_id, name, animated = self.parse_emoji(emoji)
        if emoji_id is not None:
            known = self._known_emoji(emoji_id)
            if known is None:
                raise errors.bad_request(10014, "Unknown Emoji")
            name, animated = known.name, known.animated
        reaction = self._find_reaction(msg, emoji_id, name)
        if reaction is None:
            reaction = Reaction(emoji_id, name, animated)
            msg.reactions.append(reaction)
        if user_id in reaction.user_ids:
            return
        reaction.user_ids.append(user_id)
        data = self._reaction_event(msg, reaction, user_id)
        data["message_author_id"] = str(msg.author_id)
        guild = self.guilds.get(msg.guild_id) if msg.guild_id else None
        if guild and user_id in guild.members:
            data["member"] = payloads.member(self, guild.members[user_id])
        self.emit(
            "MESSAGE_REACTION_ADD",
            data,
            msg.guild_id,
            Intents.GUILD_MESSAGE_REACTIONS,
            msg.channel_id,
        )

    def _known_emoji(self, emoji_id: int) -> Any:
        for guild in self.guilds.values():
            if emoji_id in guild.emojis:
                return guild.emojis[emoji_id]
        return None

    def _find_reaction(self, msg: Message, emoji_id: int | None, name: str) -> Reaction | None:
        for r in msg.reactions:
            if (emoji_id is not None and r.emoji_id == emoji_id) or (
                emoji_id is None and r.emoji_id is None and r.name == name
            ):
                return r
        return None

    def _reaction_event(self, msg: Message, r: Reaction, user_id: int | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "channel_id": str(msg.channel_id),
            "message_id": str(msg.id),
            "emoji": payloads_messages.reaction_emoji(r),
        }
        if user_id is not None:
            data.update(user_id=str(user_id), burst=False, type=0)
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        return data

    def remove_reaction(self, channel_id: int, message_id: int, user_id: int, emoji: str) -> None:
        """Remove one user's reaction; emits MESSAGE_REACTION_REMOVE."""
        msg = self.get_message(channel_id, message_id)
        emoji_id, name, _ = self.parse_emoji(emoji)
        reaction = self._find_reaction(msg, emoji_id, name)
        if reaction is None or user_id not in reaction.user_ids:
            return
        reaction.user_ids.remove(user_id)
        if not reaction.user_ids:
            msg.reactions.remove(reaction)
        data = self._reaction_event(msg, reaction, user_id)
        self.emit(
            "MESSAGE_REACTION_REMOVE",
            data,
            msg.guild_id,
            Intents.GUILD_MESSAGE_REACTIONS,
            msg.channel_id,
        )

    def remove_all_reactions(self, channel_id: int, message_id: int) -> None:
        """Emits MESSAGE_REACTION_REMOVE_ALL."""
        msg = self.get_message(channel_id, message_id)
        msg.reactions.clear()
        data = {"channel_id": str(msg.channel_id), "message_id": str(msg.id)}
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        self.emit(
            "MESSAGE_REACTION_REMOVE_ALL",
            data,
            msg.guild_id,
            Intents.GUILD_MESSAGE_REACTIONS,
            msg.channel_id,
        )

    def remove_emoji_reactions(self, channel_id: int, message_id: int, emoji: str) -> None:
        """Remove every reaction with one emoji; emits MESSAGE_REACTION_REMOVE_EMOJI."""
        msg = self.get_message(channel_id, message_id)
        emoji_id, name, _ = self.parse_emoji(emoji)
        reaction = self._find_reaction(msg, emoji_id, name)
        if reaction is None:
            return
        msg.reactions.remove(reaction)
        data = self._reaction_event(msg, reaction, None)
        self.emit(
            "MESSAGE_REACTION_REMOVE_EMOJI",
            data,
            msg.guild_id,
            Intents.GUILD_MESSAGE_REACTIONS,
            msg.channel_id,
        )

    def reaction_users(
        self, channel_id: int, message_id: int, emoji: str, *, after: int = 0, limit: int = 25
    ) -> list[int]:
        """Ids of the users who reacted with ``emoji``, ordered by id, after ``after``."""
        msg = self.get_message(channel_id, message_id)
        emoji_id, name, _ = self.parse_emoji(emoji)
        reaction = self._find_reaction(msg, emoji_id, name)
        users = sorted(reaction.user_ids) if reaction else []
        return [u for u in users if u > after][:limit]

"""Custom emoji and guild stickers."""

from __future__ import annotations

from typing import Any

from .. import errors, payloads
from ..events import Intents
from .base import content_type_of
from .channels import ChannelsMixin
from .models import Emoji, Guild, Sticker


class ExpressionsMixin(ChannelsMixin):
    def create_emoji(
        self,
        guild_id: int,
        name: str,
        image: bytes,
        *,
        user_id: int | None = None,
        roles: list[int] | None = None,
    ) -> Emoji:
        """A custom emoji (animated if ``image`` is a GIF); emits GUILD_EMOJIS_UPDATE."""
        guild = self.get_guild(guild_id)
        content_type = content_type_of(image, "image/png")
        emoji = Emoji(
            self.ids.next(),
            guild.id,
            name,
            animated=content_type == "image/gif",
            roles=list(roles or []),
            user_id=user_id,
            data=image,
            content_type=content_type,
        )
        guild.emojis[emoji.id] = emoji
        self._emit_emojis(guild)
        return emoji

    def update_emoji(self, guild_id: int, emoji_id: int, **fields: Any) -> Emoji:
        emoji = self.get_emoji(guild_id, emoji_id)
        for key in ("name", "roles"):
            if key in fields:
                setattr(emoji, key, fields[key])
        self._emit_emojis(self.guilds[emoji.guild_id])
        return emoji

    def delete_emoji(self, guild_id: int, emoji_id: int) -> None:
        emoji = self.get_emoji(guild_id, emoji_id)
        guild = self.guilds[emoji.guild_id]
        del guild.emojis[emoji.id]
        self._emit_emojis(guild)

    def get_emoji(self, guild_id: int, emoji_id: int) -> Emoji:
        emoji = (
            self.get_guild(guild_id).emojis.get(int(emoji_id)) if str(emoji_id).isdigit() else None
        )
        if emoji is None:
            raise errors.not_found(errors.UNKNOWN_EMOJI)
        return emoji

    def find_emoji(self, emoji_id: int) -> Emoji | None:
        """A custom emoji of any guild (the CDN serves them by id alone)."""
        for guild in self.guilds.values():
            if emoji_id in guild.emojis:
                return guild.emojis[emoji_id]
        return None

    def _emit_emojis(self, guild: Guild) -> None:
        data = {
            "guild_id": str(guild.id),
            "emojis": [payloads.emoji(self, e) for e in guild.emojis.values()],
        }
        self.emit("GUILD_EMOJIS_UPDATE", data, guild.id, Intents.GUILD_EXPRESSIONS)

    def create_sticker(
        self,
        guild_id: int,
        name: str,
        image: bytes,
        *,
        tags: str = "",
        description: str | None = None,
        format_type: int | None = None,
        user_id: int | None = None,
    ) -> Sticker:
        """A guild sticker (format sniffed from ``image`` if not given); emits GUILD_STICKERS_UPDATE."""
        guild = self.get_guild(guild_id)
        if format_type is None:
            sniffed = content_type_of(image)
            format_type = 4 if sniffed == "image/gif" else 3 if image[:1] == b"{" else 1
        sticker = Sticker(
            self.ids.next(),
            guild.id,
            name,
            tags=tags,
            format_type=format_type,
            description=description,
            user_id=user_id,
            data=image,
        )
        guild.stickers[sticker.id] = sticker
        self._emit_stickers(guild)
        return sticker

    def update_sticker(self, guild_id: int, sticker_id: int, **fields: Any) -> Sticker:
        sticker = self.get_sticker(guild_id, sticker_id)
        for key in ("name", "tags", "description"):
            if key in fields:
                setattr(sticker, key, fields[key])
        self._emit_stickers(self.guilds[sticker.guild_id])
        return sticker

    def delete_sticker(self, guild_id: int, sticker_id: int) -> None:
        sticker = self.get_sticker(guild_id, sticker_id)
        guild = self.guilds[sticker.guild_id]
        del guild.stickers[sticker.id]
        self._emit_stickers(guild)

    def get_sticker(self, guild_id: int, sticker_id: int) -> Sticker:
        guild = self.get_guild(guild_id)
        sticker = guild.stickers.get(int(sticker_id)) if str(sticker_id).isdigit() else None
        if sticker is None:
            raise errors.not_found(errors.UNKNOWN_STICKER)
        return sticker

    def find_sticker(self, sticker_id: int) -> Sticker | None:
        for guild in self.guilds.values():
            if sticker_id in guild.stickers:
                return guild.stickers[sticker_id]
        return None

    def _emit_stickers(self, guild: Guild) -> None:
        data = {
            "guild_id": str(guild.id),
            "stickers": [payloads.sticker(self, s) for s in guild.stickers.values()],
        }
        self.emit("GUILD_STICKERS_UPDATE", data, guild.id, Intents.GUILD_EXPRESSIONS)
